package policy_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/provkit/provkit/policy"
)

// FuzzLoad feeds arbitrary bytes to the loader: it must never panic, and every failure must be
// a *LoadError wrapping ErrInvalidPolicy.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(gatePolicy))
	f.Add([]byte(benchPolicy))
	if src, err := os.ReadFile("doc.go"); err == nil {
		var b bytes.Buffer
		for _, l := range strings.Split(string(src), "\n") {
			if rest, ok := strings.CutPrefix(l, "//\t"); ok {
				b.WriteString(rest + "\n")
			}
		}
		f.Add(b.Bytes())
	}
	f.Add([]byte(`{"apiVersion":"provkit.dev/policy/v1","kind":"Policy","metadata":{"name":"j"},"rules":[{"name":"a","cel":{"expression":"true"}}]}`))
	f.Add([]byte(header + "rules:\n  - &a {name: x}\n  - *a\n"))
	f.Add([]byte(header + "rules:\n  - name: a\n    signers: {threshold: 99999999999999999999, identities: []}\n"))
	f.Add([]byte("apiVersion: provkit.dev/policy/v1\nkind: Policy\n---\n"))
	f.Add(nestedPolicy())
	f.Add([]byte{0xff, 0xfe, '{'})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := policy.Load(bytes.NewReader(data))
		if err != nil {
			var le *policy.LoadError
			if !errors.As(err, &le) || !errors.Is(err, policy.ErrInvalidPolicy) {
				t.Fatalf("error %v (%T) is not a *LoadError", err, err)
			}
			return
		}
		if p.Name() == "" || p.Digest().Validate() != nil {
			t.Fatalf("loaded policy without a name or digest")
		}
	})
}
