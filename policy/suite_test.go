package policy_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/policy/policytest"
	"github.com/provkit/provkit/verify"
)

// resolver signs fixture statements with the kit's keys or virtual Fulcio, and verifies them.
func resolver(t *testing.T) policytest.Resolver {
	k := newKit(t)
	return func(_ context.Context, a policytest.Attestation) (*verify.Result, error) {
		switch {
		case a.Signer.KeyID != "" && a.Untimestamped:
			return k.untimedResult(t, a.Signer.KeyID, a.Statement), nil
		case a.Signer.KeyID != "":
			return k.keyResult(t, a.Signer.KeyID, a.Statement), nil
		default:
			return k.certResult(t, a.Signer.Subject, a.Signer.Issuer, a.Statement), nil
		}
	}
}

func openSuite(t *testing.T, path string) *policytest.Suite {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := policytest.LoadSuite(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openPolicy(t *testing.T, path string) *policy.Policy {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := policy.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReleaseSuite runs the fixture suite in testdata, as users run theirs.
func TestReleaseSuite(t *testing.T) {
	p := openPolicy(t, "testdata/release.policy.yaml")
	s := openSuite(t, "testdata/release.suite.yaml")
	if len(s.Cases) < 10 {
		t.Fatalf("%d cases", len(s.Cases))
	}
	policytest.Run(t, p, s, resolver(t))
}

func TestCheckReportsMismatch(t *testing.T) {
	p := openPolicy(t, "testdata/release.policy.yaml")
	s := openSuite(t, "testdata/release.suite.yaml")
	c := s.Cases[0]
	c.Expect.Verdict = policy.VerdictDeny
	c.Expect.Rules = map[string]policy.Outcome{"signed": policy.OutcomeFail, "nope": policy.OutcomePass}
	res, err := resolver(t)(t.Context(), c.Attestations[0])
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Decide(p, []*verify.Result{res})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Check(d)
	var me *policytest.MismatchError
	if !errors.As(err, &me) || !errors.Is(err, policytest.ErrMismatch) || len(me.Problems) != 3 {
		t.Fatalf("err = %v, want three problems", err)
	}
}

func TestLoadSuiteErrors(t *testing.T) {
	cases := []struct {
		name, doc, msg string
	}{
		{name: "wrong version", doc: "apiVersion: provkit.dev/policytest/v0\nkind: PolicyTest\n", msg: "is not"},
		{name: "unknown field", doc: "apiVersion: provkit.dev/policytest/v1\nkind: PolicyTest\ncases:\n  - name: a\n    expekt: {}\n", msg: "expekt"},
		{name: "bad verdict", doc: "apiVersion: provkit.dev/policytest/v1\nkind: PolicyTest\ncases:\n  - name: a\n    expect: {verdict: maybe}\n", msg: "maybe"},
		{name: "bad statement", doc: "apiVersion: provkit.dev/policytest/v1\nkind: PolicyTest\ncases:\n  - name: a\n    attestations: [{signer: {keyId: k}, statement: {_type: x}}]\n    expect: {verdict: deny}\n", msg: "statement"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := policytest.LoadSuite(strings.NewReader(c.doc))
			var se *policytest.SuiteError
			if !errors.As(err, &se) || !errors.Is(err, policytest.ErrInvalidSuite) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
