package collect_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package inside its layer: the standard library, provenance, the in-toto
// attestation types, go-digest and protobuf, and nothing else.
func TestImports(t *testing.T) {
	allowed := []string{
		"github.com/provkit/provkit/provenance",
		"github.com/in-toto/attestation/",
		"github.com/opencontainers/go-digest",
		"google.golang.org/protobuf/",
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(path, "/")
			if !strings.Contains(first, ".") {
				continue // standard library
			}
			ok := false
			for _, a := range allowed {
				if path == strings.TrimSuffix(a, "/") || (strings.HasSuffix(a, "/") && strings.HasPrefix(path, a)) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s imports %s, outside the package's layer", name, path)
			}
		}
	}
}
