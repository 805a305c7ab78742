package oras_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the layering true: package oras links provenance, oras-go, image-spec,
// go-digest and the standard library, and never sigstore-go or the signing and verifying code.
func TestImports(t *testing.T) {
	allowed := []string{
		"github.com/provkit/provkit/provenance",
		"oras.land/oras-go/v2",
		"github.com/opencontainers/image-spec/",
		"github.com/opencontainers/go-digest",
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			ok := !strings.Contains(strings.Split(path, "/")[0], ".")
			for _, a := range allowed {
				ok = ok || path == a || strings.HasPrefix(path, strings.TrimSuffix(a, "/")+"/")
			}
			if !ok {
				t.Errorf("%s imports %s, outside what package oras may use", f, path)
			}
		}
	}
}
