package policytest_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/provkit/provkit/policy/policytest"
)

// FuzzLoadSuite: the suite loader never panics and fails only with a *SuiteError.
func FuzzLoadSuite(f *testing.F) {
	f.Add([]byte(suite))
	f.Add([]byte("apiVersion: provkit.dev/policytest/v1\nkind: PolicyTest\ncases: [{name: a, expect: {verdict: allow}}]\n"))
	f.Add([]byte(`{"apiVersion":"provkit.dev/policytest/v1","kind":"PolicyTest","cases":[{"name":"a","after":"1h","expect":{"verdict":"deny","rules":{"x":"warn"}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := policytest.LoadSuite(bytes.NewReader(data))
		if err != nil {
			var se *policytest.SuiteError
			if !errors.As(err, &se) || !errors.Is(err, policytest.ErrInvalidSuite) {
				t.Fatalf("error %v (%T) is not a *SuiteError", err, err)
			}
			return
		}
		for _, c := range s.Cases {
			if c.Name == "" {
				t.Fatal("case without a name")
			}
		}
	})
}
