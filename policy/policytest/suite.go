package policytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

// Suite identification.
const (
	// APIVersionV1 is the apiVersion of the suites this package reads.
	APIVersionV1 = "provkit.dev/policytest/v1"
	// KindPolicyTest is the kind of a suite document.
	KindPolicyTest = "PolicyTest"
	// MaxSuiteBytes caps the size of a suite document.
	MaxSuiteBytes = 16 << 20
)

// Suite is a set of cases for one policy.
type Suite struct {
	// Cases run in order.
	Cases []Case
}

// Case is one scenario: attestations, when and where they are judged, and what is expected.
type Case struct {
	// Name names the case; Run uses it as the subtest name.
	Name string
	// Environment is the environment to Gate, or "" to Evaluate with every rule enforced.
	Environment string
	// Subject is the artifact decided about; by default the first subject of the first statement.
	Subject digest.Digest
	// Time is the evaluation time. When zero, it is the latest verified signing time among the
	// results plus After, or the Unix epoch plus After when none has one: cases never read the clock.
	Time time.Time
	// After is added to a zero Time, to test freshness.
	After time.Duration
	// Attestations are the statements to sign and verify.
	Attestations []Attestation
	// Expect is the decision expected.
	Expect Expectation
}

// Attestation is one statement and who is to sign it.
type Attestation struct {
	// Statement is the statement, validated by provenance.ParseStatement.
	Statement *intoto.Statement
	// Signer says who signs it, for the Resolver.
	Signer Signer
	// Untimestamped asks the Resolver for a signature without any verified signing time.
	Untimestamped bool
}

// Signer names a test signer: a key id, or a certificate identity.
type Signer struct {
	// KeyID is the id of a test key.
	KeyID string `yaml:"keyId" json:"keyId"`
	// Issuer is a certificate identity's OIDC issuer.
	Issuer string `yaml:"issuer" json:"issuer"`
	// Subject is a certificate identity's subject alternative name.
	Subject string `yaml:"subject" json:"subject"`
}

// Expectation is the decision a case expects.
type Expectation struct {
	// Verdict is allow or deny.
	Verdict policy.Verdict
	// Rules maps rule names to the outcomes expected; rules not named are not checked.
	Rules map[string]policy.Outcome
}

type suiteDoc struct {
	APIVersion string    `yaml:"apiVersion"`
	Kind       string    `yaml:"kind"`
	Cases      []caseDoc `yaml:"cases"`
}

type caseDoc struct {
	Name         string           `yaml:"name"`
	Environment  string           `yaml:"environment"`
	Subject      string           `yaml:"subject"`
	Time         string           `yaml:"time"`
	After        string           `yaml:"after"`
	Attestations []attestationDoc `yaml:"attestations"`
	Expect       expectDoc        `yaml:"expect"`
}

type attestationDoc struct {
	Statement     map[string]any `yaml:"statement"`
	Signer        Signer         `yaml:"signer"`
	Untimestamped bool           `yaml:"untimestamped"`
}

type expectDoc struct {
	Verdict string            `yaml:"verdict"`
	Rules   map[string]string `yaml:"rules"`
}

// LoadSuite reads a suite document in YAML or JSON, strictly: unknown fields, bad values and
// invalid statements are a *SuiteError wrapping ErrInvalidSuite.
func LoadSuite(r io.Reader) (*Suite, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSuiteBytes+1))
	if err != nil {
		return nil, &SuiteError{Msg: "reading: " + err.Error()}
	}
	if len(data) > MaxSuiteBytes {
		return nil, &SuiteError{Msg: fmt.Sprintf("document exceeds %d bytes", MaxSuiteBytes)}
	}
	var doc suiteDoc
	if err := yaml.UnmarshalWithOptions(data, &doc, yaml.Strict()); err != nil {
		se := &SuiteError{Msg: err.Error()}
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			se.Line, se.Msg = ye.GetToken().Position.Line, ye.GetMessage()
		}
		return nil, se
	}
	if doc.APIVersion != APIVersionV1 || doc.Kind != KindPolicyTest {
		return nil, &SuiteError{Field: "apiVersion", Msg: fmt.Sprintf("%s %s is not %s %s", doc.APIVersion, doc.Kind, APIVersionV1, KindPolicyTest)}
	}
	s := &Suite{}
	for i, cd := range doc.Cases {
		c, err := buildCase(fmt.Sprintf("cases[%d]", i), cd)
		if err != nil {
			return nil, err
		}
		s.Cases = append(s.Cases, c)
	}
	return s, nil
}

func buildCase(field string, cd caseDoc) (Case, error) {
	bad := func(f, format string, args ...any) (Case, error) {
		return Case{}, &SuiteError{Field: field + f, Msg: fmt.Sprintf(format, args...)}
	}
	c := Case{Name: cd.Name, Environment: cd.Environment, Subject: digest.Digest(cd.Subject)}
	if c.Name == "" {
		return bad(".name", "required")
	}
	if cd.Subject != "" {
		if err := c.Subject.Validate(); err != nil {
			return bad(".subject", "%v", err)
		}
	}
	if cd.Time != "" {
		t, err := time.Parse(time.RFC3339, cd.Time)
		if err != nil {
			return bad(".time", "not an RFC 3339 time: %v", err)
		}
		c.Time = t
	}
	if cd.After != "" {
		d, err := time.ParseDuration(cd.After)
		if err != nil {
			return bad(".after", "%v", err)
		}
		c.After = d
	}
	for j, ad := range cd.Attestations {
		f := fmt.Sprintf(".attestations[%d]", j)
		raw, err := json.Marshal(ad.Statement)
		if err != nil {
			return bad(f+".statement", "%v", err)
		}
		st, err := provenance.ParseStatement(raw)
		if err != nil {
			return bad(f+".statement", "%v", err)
		}
		if (ad.Signer.KeyID == "") == (ad.Signer.Subject == "" && ad.Signer.Issuer == "") {
			return bad(f+".signer", "needs a keyId, or an issuer and a subject")
		}
		c.Attestations = append(c.Attestations, Attestation{Statement: st, Signer: ad.Signer, Untimestamped: ad.Untimestamped})
	}
	switch v := policy.Verdict(cd.Expect.Verdict); v {
	case policy.VerdictAllow, policy.VerdictDeny:
		c.Expect.Verdict = v
	default:
		return bad(".expect.verdict", "%q is not allow or deny", cd.Expect.Verdict)
	}
	if len(cd.Expect.Rules) > 0 {
		c.Expect.Rules = map[string]policy.Outcome{}
	}
	for name, o := range cd.Expect.Rules {
		switch out := policy.Outcome(o); out {
		case policy.OutcomePass, policy.OutcomeFail, policy.OutcomeWarn, policy.OutcomeSkipped:
			c.Expect.Rules[name] = out
		default:
			return bad(".expect.rules."+name, "%q is not pass, fail, warn or skipped", o)
		}
	}
	return c, nil
}

// Resolver signs a fixture attestation and verifies it, returning the verified result. It is
// the caller's: with provkit's sign package and test keys or a test CA, and package verify.
type Resolver func(ctx context.Context, a Attestation) (*verify.Result, error)

// Decide runs the case against p with results already verified, and returns the decision.
func (c Case) Decide(p *policy.Policy, results []*verify.Result) (*policy.Decision, error) {
	subject := c.Subject
	if subject == "" && len(c.Attestations) > 0 {
		for alg, hex := range c.Attestations[0].Statement.GetSubject()[0].GetDigest() {
			if d := digest.NewDigestFromEncoded(digest.Algorithm(alg), hex); d.Validate() == nil {
				subject = d
				break
			}
		}
	}
	now := c.Time
	if now.IsZero() {
		now = time.Unix(0, 0).UTC()
		for _, r := range results {
			if at, ok := r.SignedAt(); ok && at.After(now) {
				now = at
			}
		}
		now = now.Add(c.After)
	}
	if c.Environment == "" {
		return p.Evaluate(subject, results, now)
	}
	return p.Gate(c.Environment, subject, results, now)
}

// Check compares decision d with the case's expectation. It returns nil when they agree and a
// *MismatchError (wrapping ErrMismatch) listing every difference otherwise.
func (c Case) Check(d *policy.Decision) error {
	if d == nil {
		return &MismatchError{Case: c.Name, Problems: []string{"no decision"}}
	}
	var problems []string
	if d.Verdict != c.Expect.Verdict {
		why := d.Reasons
		for _, r := range d.Rules {
			if r.Outcome == policy.OutcomeFail || r.Outcome == policy.OutcomeWarn {
				why = append(why, fmt.Sprintf("%s %s: %s", r.Name, r.Outcome, r.Reason))
			}
		}
		msg := fmt.Sprintf("verdict %s, want %s", d.Verdict, c.Expect.Verdict)
		if len(why) > 0 {
			msg += " (" + strings.Join(why, "; ") + ")"
		}
		problems = append(problems, msg)
	}
	for name, want := range c.Expect.Rules {
		r, ok := d.Rule(name)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("no rule %q in the policy", name))
		case r.Outcome != want:
			problems = append(problems, fmt.Sprintf("rule %s: %s (%s), want %s", name, r.Outcome, r.Reason, want))
		}
	}
	if len(problems) > 0 {
		return &MismatchError{Case: c.Name, Problems: problems}
	}
	return nil
}

// Run runs every case of s against p as a subtest: resolve signs and verifies the case's
// attestations, the decision is made, and Check must pass.
func Run(t *testing.T, p *policy.Policy, s *Suite, resolve Resolver) {
	t.Helper()
	for _, c := range s.Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Helper()
			var results []*verify.Result
			for i, a := range c.Attestations {
				r, err := resolve(t.Context(), a)
				if err != nil {
					t.Fatalf("attestation %d: %v", i, err)
				}
				results = append(results, r)
			}
			d, err := c.Decide(p, results)
			if err != nil && !errors.Is(err, policy.ErrDenied) {
				t.Fatalf("decide: %v", err)
			}
			if err := c.Check(d); err != nil {
				t.Fatal(err)
			}
		})
	}
}
