package policy

import (
	"fmt"
	"sort"
	"time"

	"cel.dev/cel-go/common/types"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/verify"
)

// Policy is a loaded, validated and compiled policy document. Make one with Load. A Policy is
// immutable and safe for concurrent use: evaluations share the compiled rules and nothing else.
type Policy struct {
	name   string
	digest digest.Digest
	rules  []*compiledRule
	envs   map[string]*profile
	// adapter turns Go values into CEL values, once per evaluation and attestation.
	adapter types.Adapter
}

type compiledRule struct {
	name string
	kind string
	impl rule
}

// profile is one environment: the mode of each selected rule, by rule index.
type profile struct {
	modes      []Mode // len(rules); "" means not selected
	allowEmpty bool
}

// rule is one compiled check.
type rule interface {
	eval(ec *evalContext) check
}

// check is what a rule found.
type check struct {
	ok       bool
	reason   string
	err      error
	evidence []Evidence
}

func pass(reason string, ev ...Evidence) check { return check{ok: true, reason: reason, evidence: ev} }
func fail(reason string, ev ...Evidence) check { return check{reason: reason, evidence: ev} }
func broken(err error, ev ...Evidence) check {
	return check{reason: "evaluation error: " + err.Error(), err: err, evidence: ev}
}

// view is the part of a verified result that rules read, taken through verify.Result's accessors.
type view struct {
	index         int
	statement     *intoto.Statement
	predicateType string
	predicate     *structpb.Struct
	subject       digest.Digest
	signer        verify.Signer
	timestamps    []verify.Timestamp
	signedAt      time.Time
	hasSignedAt   bool
	act           *celActivation // built on first use by a CEL rule
	slsaFacts     *slsaFacts     // decoded on first use by a SLSA rule
	slsaErr       error
	slsaDone      bool
}

func newView(i int, r *verify.Result) *view {
	v := &view{
		index:         i,
		statement:     r.Statement(),
		predicateType: r.PredicateType(),
		subject:       r.Subject(),
		signer:        r.Signer(),
		timestamps:    r.Timestamps(),
	}
	v.predicate = v.statement.GetPredicate()
	v.signedAt, v.hasSignedAt = r.SignedAt()
	return v
}

// evalContext is one evaluation: the results about the subject and the time.
type evalContext struct {
	views   []*view
	subject digest.Digest
	now     time.Time
	all     []any // the CEL "attestations" list, built on first use
	adapter types.Adapter
	// until is the earliest time after now at which a rule's outcome may change with time
	// alone; zero while none may.
	until time.Time
}

// changesAt records that a rule's outcome may change at t, with time alone.
func (ec *evalContext) changesAt(t time.Time) {
	if t.Before(ec.now) {
		t = ec.now
	}
	if ec.until.IsZero() || t.Before(ec.until) {
		ec.until = t
	}
}

func (ec *evalContext) ofType(types ...string) []*view {
	var out []*view
	for _, v := range ec.views {
		for _, t := range types {
			if v.predicateType == t {
				out = append(out, v)
				break
			}
		}
	}
	return out
}

// Name returns metadata.name of the document.
func (p *Policy) Name() string { return p.name }

// Digest returns the SHA-256 of the document's bytes as loaded.
func (p *Policy) Digest() digest.Digest { return p.digest }

// Environments returns the names of the environments the policy defines, sorted.
func (p *Policy) Environments() []string {
	out := make([]string, 0, len(p.envs))
	for name := range p.envs {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Rules returns the names of the policy's rules, in document order.
func (p *Policy) Rules() []string {
	out := make([]string, len(p.rules))
	for i, r := range p.rules {
		out[i] = r.name
	}
	return out
}

// Evaluate decides about subject with every rule of the policy enforced, at time now. results
// are verified attestations; those about another subject are listed in the decision as ignored.
//
// It returns the Decision and nil when the policy allows, and the Decision and a *DeniedError
// (wrapping ErrDenied) when it denies. It fails closed: no results, a rule that cannot be
// evaluated, or a nil result all deny.
func (p *Policy) Evaluate(subject digest.Digest, results []*verify.Result, now time.Time) (*Decision, error) {
	modes := make([]Mode, len(p.rules))
	for i := range modes {
		modes[i] = ModeEnforce
	}
	return p.evaluate("", &profile{modes: modes}, subject, results, now)
}

// Gate answers "may subject go to environment env?" at time now: it evaluates the rules env
// selects, each in its mode (enforce or warn), and skips the others. Like Evaluate it returns
// a *DeniedError with the Decision on denial, and fails closed. An environment that selects no
// rule denies unless the document sets allowEmpty for it. An environment the policy does not
// define yields an error wrapping ErrUnknownEnvironment and no decision.
func (p *Policy) Gate(env string, subject digest.Digest, results []*verify.Result, now time.Time) (*Decision, error) {
	prof, ok := p.envs[env]
	if !ok {
		return nil, fmt.Errorf("%w: %q (policy %q defines %v)", ErrUnknownEnvironment, env, p.name, p.Environments())
	}
	return p.evaluate(env, prof, subject, results, now)
}

func (p *Policy) evaluate(env string, prof *profile, subject digest.Digest, results []*verify.Result, now time.Time) (*Decision, error) {
	d := &Decision{
		Schema:       DecisionSchemaV1,
		Policy:       PolicyRef{Name: p.name, Digest: p.digest},
		Environment:  env,
		Subject:      subject,
		Time:         now.UTC(),
		Attestations: make([]Attestation, 0, len(results)),
		Rules:        make([]RuleResult, 0, len(p.rules)),
	}
	ec := &evalContext{subject: subject, now: now, adapter: p.adapter}
	if err := subject.Validate(); err != nil {
		d.Reasons = append(d.Reasons, fmt.Sprintf("subject %q is not a valid digest: %v", subject, err))
	}
	for i, r := range results {
		if r == nil || r.Statement() == nil {
			d.Reasons = append(d.Reasons, fmt.Sprintf("result %d is nil", i))
			d.Attestations = append(d.Attestations, Attestation{Index: i, Ignored: "nil result"})
			continue
		}
		v := newView(i, r)
		a := Attestation{Index: i, PredicateType: v.predicateType, Signer: signerString(v.signer)}
		if v.hasSignedAt {
			t := v.signedAt.UTC()
			a.SignedAt = &t
		}
		if v.subject != subject {
			a.Ignored = fmt.Sprintf("about subject %s, not %s", v.subject, subject)
		} else {
			ec.views = append(ec.views, v)
			d.statements = append(d.statements, v.statement)
		}
		d.Attestations = append(d.Attestations, a)
	}
	if len(ec.views) == 0 {
		d.Reasons = append(d.Reasons, fmt.Sprintf("no verified attestations about %s", subject))
	}
	selected := 0
	for i, r := range p.rules {
		rr := RuleResult{Name: r.name, Kind: r.kind, Mode: prof.modes[i]}
		if rr.Mode == "" {
			rr.Outcome, rr.Reason = OutcomeSkipped, "not selected"
			if env != "" {
				rr.Reason = "not selected for environment " + env
			}
			d.Rules = append(d.Rules, rr)
			continue
		}
		selected++
		c := safeEval(r.impl, ec)
		rr.Reason, rr.Evidence = c.reason, c.evidence
		switch {
		case c.err != nil:
			rr.Outcome, rr.Error = OutcomeFail, c.err.Error()
		case c.ok:
			rr.Outcome = OutcomePass
		case rr.Mode == ModeWarn:
			rr.Outcome = OutcomeWarn
		default:
			rr.Outcome = OutcomeFail
		}
		d.Rules = append(d.Rules, rr)
	}
	switch {
	case selected > 0 || prof.allowEmpty:
	case env == "":
		d.Reasons = append(d.Reasons, "the policy has no rules")
	default:
		d.Reasons = append(d.Reasons, fmt.Sprintf("environment %s selects no rules (set allowEmpty to allow)", env))
	}
	d.Until = ec.until.UTC()
	if ec.until.IsZero() {
		d.Until = time.Time{}
	}
	d.Verdict = VerdictAllow
	if len(d.Reasons) > 0 {
		d.Verdict = VerdictDeny
	}
	for _, r := range d.Rules {
		if r.Outcome == OutcomeFail {
			d.Verdict = VerdictDeny
		}
	}
	if d.Verdict == VerdictDeny {
		return d, &DeniedError{Decision: d}
	}
	return d, nil
}

// safeEval runs a rule, turning a panic into an evaluation error so that a defect in one rule
// denies instead of crashing the caller.
func safeEval(r rule, ec *evalContext) (c check) {
	defer func() {
		if p := recover(); p != nil {
			c = broken(fmt.Errorf("rule panicked: %v", p))
		}
	}()
	return r.eval(ec)
}

func signerString(s verify.Signer) string {
	switch {
	case s.Certificate != nil:
		return fmt.Sprintf("%s (%s)", s.Certificate.SubjectAlternativeName, s.Certificate.Issuer)
	case s.KeyID != "":
		return "key " + s.KeyID
	default:
		return "unknown"
	}
}
