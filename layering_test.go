package provkit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/provkit/provkit"

// layer says what one package may import directly, and what it must never link, even
// through other packages. Prefixes match a package and everything below it.
type layer struct {
	// allow lists the non-standard-library import prefixes permitted; nil means anything.
	allow []string
	// denyImports lists prefixes, standard library included, the package must not import itself.
	denyImports []string
	// deny lists prefixes that must not appear among the package's transitive dependencies.
	deny []string
}

var (
	modelDeps = []string{
		"github.com/opencontainers/go-digest",
		"github.com/opencontainers/image-spec",
		"github.com/in-toto/attestation",
		"google.golang.org/protobuf",
		"golang.org/x/mod/semver",
	}
	provkitUpper = []string{module + "/sign", module + "/verify", module + "/policy", module + "/oras"}
	// modelLayer is the rule of provenance's sub-packages: the model and nothing that signs,
	// verifies or talks to a registry.
	modelLayer = layer{
		allow: append([]string{module + "/provenance"}, modelDeps...),
		deny:  append([]string{"github.com/sigstore", "oras.land"}, provkitUpper...),
	}
)

// layers is the dependency direction of ../shared/STYLE.md: the model at the bottom, sign and
// verify beside each other on top of it, policy over verify, and the registry adapter apart
// from all cryptography. Keyed by package path relative to the module; the longest key that is
// a prefix of a package's path applies.
var layers = map[string]layer{
	"provenance": {
		allow: modelDeps,
		deny:  append([]string{"github.com/sigstore", "oras.land"}, provkitUpper...),
	},
	"provenance/collect":   modelLayer,
	"provenance/workflow":  modelLayer,
	"provenance/diff":      modelLayer,
	"provenance/rebuild":   modelLayer,
	"provenance/release":   modelLayer,
	"provenance/audit":     modelLayer,
	"provenance/lifecycle": modelLayer,
	"provenance/vuln":      modelLayer,
	"provenance/runtime":   modelLayer,
	"provenance/runtime/tpm": {
		// A TPM quote binds a runtime statement to hardware: the TPM libraries, nothing that
		// signs with Sigstore, verifies bundles or talks to a registry.
		deny: append([]string{"github.com/sigstore", "oras.land"}, provkitUpper...),
	},
	"sign": {
		deny: []string{module + "/verify", module + "/policy", module + "/oras", "oras.land"},
	},
	"verify": {
		deny: []string{module + "/sign", module + "/policy", module + "/oras", "oras.land", "github.com/sigstore/sigstore-go/pkg/sign"},
	},
	"policy": {
		// Pure: no I/O of its own. What verify links (sigstore-go's clients) is verify's business.
		denyImports: []string{"net", "os", "io/fs", "crypto/ecdsa", "crypto/rsa", "crypto/ed25519", "crypto/x509", "crypto/tls"},
		deny:        []string{module + "/sign", module + "/oras", "oras.land", "github.com/sigstore/sigstore-go/pkg/sign"},
	},
	"policy/gate": {
		// The one place that joins a store to verification and policy; still verify-only.
		deny: []string{module + "/sign", "github.com/sigstore/sigstore-go/pkg/sign"},
	},
	"policy/admission": {
		// The Kubernetes admission webhook: HTTP in, gate decisions out; it never signs.
		deny: []string{module + "/sign", "github.com/sigstore/sigstore-go/pkg/sign"},
	},
	"oras": {
		allow: append([]string{module + "/provenance", "oras.land/oras-go/v2", "golang.org/x/sync"}, modelDeps...),
		deny:  []string{"github.com/sigstore", module + "/sign", module + "/verify", module + "/policy"},
	},
}

type goPackage struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T) []goPackage {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []goPackage
	dec := json.NewDecoder(&stdout)
	for {
		var p goPackage
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			return pkgs
		}
		if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
}

func ruleFor(pkg string) (string, layer, bool) {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	best := ""
	for key := range layers {
		if (rel == key || strings.HasPrefix(rel, key+"/")) && len(key) > len(best) {
			best = key
		}
	}
	return best, layers[best], best != ""
}

func hasPrefix(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

func isStandard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func TestLayering(t *testing.T) {
	pkgs := listPackages(t)
	checked := map[string]bool{}
	for _, p := range pkgs {
		key, rule, ok := ruleFor(p.ImportPath)
		if !ok {
			continue
		}
		checked[key] = true
		for _, imp := range p.Imports {
			if hasPrefix(imp, rule.denyImports) {
				t.Errorf("%s imports %s, which %s must not import", p.ImportPath, imp, key)
			}
			if rule.allow == nil || isStandard(imp) || imp == p.ImportPath {
				continue
			}
			if !hasPrefix(imp, rule.allow) {
				t.Errorf("%s imports %s; %s may import only the standard library and %v", p.ImportPath, imp, key, rule.allow)
			}
		}
		for _, dep := range p.Deps {
			if hasPrefix(dep, rule.deny) {
				t.Errorf("%s depends on %s, which %s must never link", p.ImportPath, dep, key)
			}
		}
	}
	if !checked["provenance"] {
		t.Fatal("no package of the provenance layer was listed: the check ran on nothing")
	}
}

func TestRuleForPicksLongestPrefix(t *testing.T) {
	key, _, ok := ruleFor(module + "/provenance/collect")
	if !ok || key != "provenance/collect" {
		t.Fatalf("got %q", key)
	}
	key, _, _ = ruleFor(module + "/sign/kms")
	if key != "sign" {
		t.Fatalf("got %q", key)
	}
	if _, _, ok := ruleFor(module + "/examples/quickstart"); ok {
		t.Fatal("examples are not layered")
	}
}
