package policy

import (
	"time"

	intoto "github.com/in-toto/attestation/go/v1"

	"github.com/opencontainers/go-digest"
)

// DecisionSchemaV1 is the schema version of a Decision's JSON. Fields are only ever added
// within a version; a rename or a change of meaning makes a new version.
const DecisionSchemaV1 = "https://provkit.dev/policy/decision/v1"

// Verdict is a decision's answer.
type Verdict string

// Verdicts.
const (
	// VerdictAllow means every enforced rule passed.
	VerdictAllow Verdict = "allow"
	// VerdictDeny means an enforced rule failed, a rule could not be evaluated, or there was
	// nothing to evaluate.
	VerdictDeny Verdict = "deny"
)

// Mode says what a rule's failure does in an environment.
type Mode string

// Modes.
const (
	// ModeEnforce makes a failing rule deny.
	ModeEnforce Mode = "enforce"
	// ModeWarn records a failing rule as a warning and does not deny. A rule that cannot be
	// evaluated (an error, not a failed check) denies even in this mode.
	ModeWarn Mode = "warn"
)

// Outcome is one rule's result.
type Outcome string

// Outcomes.
const (
	// OutcomePass means the rule held.
	OutcomePass Outcome = "pass"
	// OutcomeFail means the rule did not hold and denies: it is enforced, or it could not be
	// evaluated.
	OutcomeFail Outcome = "fail"
	// OutcomeWarn means the rule did not hold but is in warn mode.
	OutcomeWarn Outcome = "warn"
	// OutcomeSkipped means the environment does not select the rule.
	OutcomeSkipped Outcome = "skipped"
)

// Decision is an explained policy decision about one artifact. Its JSON form is stable under
// DecisionSchemaV1. A Decision is a plain value: safe to read from several goroutines.
type Decision struct {
	// Schema is DecisionSchemaV1.
	Schema string `json:"schema"`
	// Verdict is allow or deny.
	Verdict Verdict `json:"verdict"`
	// Policy names the policy that decided.
	Policy PolicyRef `json:"policy"`
	// Environment is the environment gated, or "" for Evaluate (every rule enforced).
	Environment string `json:"environment,omitempty"`
	// Subject is the artifact digest decided about.
	Subject digest.Digest `json:"subject"`
	// Time is the evaluation time the caller gave.
	Time time.Time `json:"time"`
	// Until is the earliest time at which the decision may change with time alone, for the
	// same attestations: when a fresh attestation or scan becomes too old (maxAge), or a
	// lifecycle status published ahead takes effect; Time itself when a rule reads the time
	// directly (CEL's now). It is zero when no rule depends on the time. A decision kept for
	// later, as a cache does, must be made again by then.
	Until time.Time `json:"until,omitempty"`
	// Reasons are decision-wide reasons to deny that belong to no rule, such as "no verified
	// attestations".
	Reasons []string `json:"reasons,omitempty"`
	// Attestations lists every verified result given, in order; evidence refers to them by index.
	Attestations []Attestation `json:"attestations"`
	// Rules holds every rule of the policy, in document order, with its outcome.
	Rules []RuleResult `json:"rules"`

	// statements are the evaluated statements, for VSA's input attestations. Digests are made
	// only there: hashing the canonical statement costs more than evaluating most policies.
	statements []*intoto.Statement
}

// Allowed reports whether the verdict is allow.
func (d *Decision) Allowed() bool { return d != nil && d.Verdict == VerdictAllow }

// Rule returns the result of the rule named name, and false when the policy has no such rule.
func (d *Decision) Rule(name string) (RuleResult, bool) {
	for _, r := range d.Rules {
		if r.Name == name {
			return r, true
		}
	}
	return RuleResult{}, false
}

// PolicyRef identifies a loaded policy.
type PolicyRef struct {
	// Name is metadata.name from the document.
	Name string `json:"name"`
	// Digest is the SHA-256 of the document's bytes as loaded.
	Digest digest.Digest `json:"digest"`
}

// Attestation describes one verified result given to an evaluation.
type Attestation struct {
	// Index is the result's position in the slice given, which evidence refers to.
	Index int `json:"index"`
	// PredicateType is the statement's predicate type.
	PredicateType string `json:"predicateType"`
	// Signer describes who signed: "key KEYID" or "SAN (ISSUER)".
	Signer string `json:"signer"`
	// SignedAt is the earliest verified signing time, absent when the result had none.
	SignedAt *time.Time `json:"signedAt,omitempty"`
	// Ignored says why the result was left out of the evaluation (it is about another
	// subject), or is empty.
	Ignored string `json:"ignored,omitempty"`
}

// RuleResult is the outcome of one rule.
type RuleResult struct {
	// Name is the rule's name from the document.
	Name string `json:"name"`
	// Kind is the rule's type: signers, requiredAttestations, slsa, materials, freshness,
	// environment, vulnerabilities or cel.
	Kind string `json:"kind"`
	// Mode is the rule's mode in this evaluation; empty when skipped.
	Mode Mode `json:"mode,omitempty"`
	// Outcome is pass, fail, warn or skipped.
	Outcome Outcome `json:"outcome"`
	// Reason says why, in one line.
	Reason string `json:"reason"`
	// Error is set when the rule could not be evaluated; such a rule always fails.
	Error string `json:"error,omitempty"`
	// Evidence points at the facts the outcome rests on.
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Evidence is one fact a rule outcome rests on.
type Evidence struct {
	// Attestation is the index of the attestation in Decision.Attestations, or -1 when the
	// evidence is about the set as a whole (such as a missing predicate type).
	Attestation int `json:"attestation"`
	// PredicateType is that attestation's predicate type, or the one looked for.
	PredicateType string `json:"predicateType,omitempty"`
	// Field is the JSON path of the field inside the statement ("predicate.runDetails.builder.id"),
	// or a signer or timestamp property ("signer.keyId", "signedAt").
	Field string `json:"field,omitempty"`
	// Value is the value found. Values matched as secrets are redacted.
	Value string `json:"value,omitempty"`
	// Message says what the fact shows, when the field and value alone do not.
	Message string `json:"message,omitempty"`
}
