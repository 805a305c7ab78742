package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/opencontainers/go-digest"

	intoto "github.com/in-toto/attestation/go/v1"

	"github.com/provkit/provkit/provenance"
)

// PredicateType is the predicate type of an audit event, schema version 1; the package
// documentation describes it field by field.
const PredicateType = "https://provkit.dev/audit/event/v1"

// Limits on one event, so that a log entry stays small.
const (
	// MaxEventBytes is the largest event predicate Parse reads and Statement writes: 64 KiB.
	MaxEventBytes = 64 << 10
	// MaxReasons is the most reasons an event holds.
	MaxReasons = 256
	// MaxEvidence is the most evidence digests an event holds.
	MaxEvidence = 1024
	// MaxAttributes is the most free attributes an event holds.
	MaxAttributes = 64
)

// Kind says what happened to the subject.
type Kind string

// The kinds of event. An event of another kind is invalid.
const (
	// KindAttested: an attestation about the subject was signed.
	KindAttested Kind = "attested"
	// KindAttached: a signed attestation was stored as a referrer of the subject.
	KindAttached Kind = "attached"
	// KindVerified: the subject's attestations verified and policy allowed it (Decision allow or warn).
	KindVerified Kind = "verified"
	// KindDenied: verification or policy refused the subject (Decision deny).
	KindDenied Kind = "denied"
	// KindPromoted: the subject was promoted to an environment.
	KindPromoted Kind = "promoted"
	// KindReleased: a release record of the subject was made.
	KindReleased Kind = "released"
	// KindDeployed: the subject was deployed, or admitted to run, in an environment.
	KindDeployed Kind = "deployed"
	// KindDeprecated: the subject's lifecycle status became deprecated.
	KindDeprecated Kind = "deprecated"
	// KindRetired: the subject's lifecycle status became retired.
	KindRetired Kind = "retired"
	// KindRevoked: the subject's lifecycle status became revoked.
	KindRevoked Kind = "revoked"
	// KindResigned: the subject's attestations were signed again, with a new key or identity.
	KindResigned Kind = "resigned"
	// KindRuntimeDeviation: what runs differs from what was built or allowed.
	KindRuntimeDeviation Kind = "runtime-deviation"
)

// Kinds returns every kind of event, in the order the package declares them.
func Kinds() []Kind {
	return []Kind{KindAttested, KindAttached, KindVerified, KindDenied, KindPromoted, KindReleased, KindDeployed,
		KindDeprecated, KindRetired, KindRevoked, KindResigned, KindRuntimeDeviation}
}

func (k Kind) known() bool {
	for _, known := range Kinds() {
		if k == known {
			return true
		}
	}
	return false
}

// Decision is the outcome an event records, when it records one.
type Decision string

// The decisions.
const (
	// DecisionNone: the event records a fact, not a decision.
	DecisionNone Decision = ""
	// DecisionAllow: the subject was allowed.
	DecisionAllow Decision = "allow"
	// DecisionWarn: the subject was allowed although a rule said no (a warn-mode gate).
	DecisionWarn Decision = "warn"
	// DecisionDeny: the subject was refused.
	DecisionDeny Decision = "deny"
)

// Event is one provenance event: what happened to which artifact, on what evidence, decided by
// whom, when, and why. Every field is required but SubjectName, Evidence, Decision (except as
// its Kind requires), Reasons, Environment and Attributes. An Event is a plain value: its
// methods never modify it.
type Event struct {
	// Kind says what happened.
	Kind Kind
	// Subject is the artifact's digest, in an identifying algorithm (sha256, sha384, sha512).
	// It is the statement's subject.
	Subject digest.Digest
	// SubjectName names the artifact for people, such as "registry.example/shop/api:1.4.2"
	// (optional). It is the subject's name in the statement; nothing is decided by it.
	SubjectName string
	// Evidence lists the digests of the attestations, bundles or records the event concerns:
	// the bundles a verification used, the release record made, the status signed.
	Evidence []digest.Digest
	// Actor is who made the decision or the change: a person's e-mail address, a team, or a
	// gate's or pipeline's identity.
	Actor string
	// Time is when it happened, from the caller's provenance.Clock.
	Time time.Time
	// Decision is the outcome, when the event records one: KindVerified requires allow or
	// warn, KindDenied requires deny.
	Decision Decision
	// Reasons explain the decision or the change, one sentence each, such as the policy's
	// explanation rule by rule.
	Reasons []string
	// Environment is where it happened, such as "prod" (optional).
	Environment string
	// Attributes are free name-value pairs, such as a ticket or a pipeline run id.
	Attributes map[string]string
}

// Recorder records events. A Recorder may return before the event is durable; one that does
// says how to wait for it (such as a Flush method). Implementations are safe for concurrent use.
type Recorder interface {
	// Record records e, or fails with an error saying why it cannot.
	Record(ctx context.Context, e Event) error
}

// wireEvent is the predicate's JSON form, documented in doc.go.
type wireEvent struct {
	Kind        string            `json:"kind"`
	Time        string            `json:"time"`
	Actor       string            `json:"actor"`
	Decision    string            `json:"decision,omitempty"`
	Reasons     []string          `json:"reasons,omitempty"`
	Environment string            `json:"environment,omitempty"`
	Evidence    []string          `json:"evidence,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
}

// predicate is w as the predicate object its JSON encoding is, built directly: decoding the
// JSON into a structpb.Struct would cost a logged decision more than the rest of its entry.
func (w wireEvent) predicate() *structpb.Struct {
	fields := map[string]*structpb.Value{
		"kind":  structpb.NewStringValue(w.Kind),
		"time":  structpb.NewStringValue(w.Time),
		"actor": structpb.NewStringValue(w.Actor),
	}
	optional := func(name, v string) {
		if v != "" {
			fields[name] = structpb.NewStringValue(v)
		}
	}
	list := func(name string, vs []string) {
		if len(vs) == 0 {
			return
		}
		values := make([]*structpb.Value, len(vs))
		for i, v := range vs {
			values[i] = structpb.NewStringValue(v)
		}
		fields[name] = structpb.NewListValue(&structpb.ListValue{Values: values})
	}
	optional("decision", w.Decision)
	list("reasons", w.Reasons)
	optional("environment", w.Environment)
	list("evidence", w.Evidence)
	if len(w.Attributes) > 0 {
		attrs := make(map[string]*structpb.Value, len(w.Attributes))
		for k, v := range w.Attributes {
			attrs[k] = structpb.NewStringValue(v)
		}
		fields["attributes"] = structpb.NewStructValue(&structpb.Struct{Fields: attrs})
	}
	return &structpb.Struct{Fields: fields}
}

// wireFields are the predicate's field names, exactly: encoding/json alone would match them
// regardless of case.
var wireFields = []string{"kind", "time", "actor", "decision", "reasons", "environment", "evidence", "attributes"}

// Statement returns the event as a validated in-toto statement, ready to sign: its subject is
// the artifact and its predicate, of type PredicateType, the rest of the event. An invalid
// event fails with a *FieldError naming the field.
func (e *Event) Statement() (*intoto.Statement, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(e.wire())
	if err != nil {
		return nil, &FieldError{Field: "predicate", Reason: err.Error()}
	}
	if len(raw) > MaxEventBytes {
		return nil, &FieldError{Field: "predicate", Reason: fmt.Sprintf("%d bytes, more than %d", len(raw), MaxEventBytes)}
	}
	subject := &intoto.ResourceDescriptor{Name: e.SubjectName, Digest: map[string]string{e.Subject.Algorithm().String(): e.Subject.Encoded()}}
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{subject}, PredicateType, e.wire().predicate())
	if err != nil {
		return nil, &FieldError{Field: "subject", Reason: err.Error()}
	}
	return st, nil
}

func (e *Event) wire() wireEvent {
	w := wireEvent{
		Kind:        string(e.Kind),
		Time:        e.Time.UTC().Format(time.RFC3339Nano),
		Actor:       e.Actor,
		Decision:    string(e.Decision),
		Reasons:     e.Reasons,
		Environment: e.Environment,
		Attributes:  e.Attributes,
	}
	for _, d := range e.Evidence {
		w.Evidence = append(w.Evidence, d.String())
	}
	return w
}

// Validate checks the event, naming the first bad field by its path in the predicate
// ("subject" for the statement's subject) in a *FieldError.
func (e *Event) Validate() error {
	if !e.Kind.known() {
		return &FieldError{Field: "kind", Reason: fmt.Sprintf("%q is not a kind of event", e.Kind)}
	}
	if err := checkDigest("subject", e.Subject); err != nil {
		return err
	}
	if len(e.Evidence) > MaxEvidence {
		return &FieldError{Field: "evidence", Reason: fmt.Sprintf("%d digests, more than %d", len(e.Evidence), MaxEvidence)}
	}
	for i, d := range e.Evidence {
		if err := checkDigest(fmt.Sprintf("evidence[%d]", i), d); err != nil {
			return err
		}
	}
	if strings.TrimSpace(e.Actor) == "" {
		return &FieldError{Field: "actor", Reason: "required"}
	}
	if e.Time.IsZero() {
		return &FieldError{Field: "time", Reason: "required"}
	}
	if y := e.Time.UTC().Year(); y < 1 || y > 9999 {
		return &FieldError{Field: "time", Reason: fmt.Sprintf("year %d out of range", y)}
	}
	if err := e.checkDecision(); err != nil {
		return err
	}
	if len(e.Reasons) > MaxReasons {
		return &FieldError{Field: "reasons", Reason: fmt.Sprintf("%d reasons, more than %d", len(e.Reasons), MaxReasons)}
	}
	for i, r := range e.Reasons {
		if strings.TrimSpace(r) == "" {
			return &FieldError{Field: fmt.Sprintf("reasons[%d]", i), Reason: "empty"}
		}
	}
	if len(e.Attributes) > MaxAttributes {
		return &FieldError{Field: "attributes", Reason: fmt.Sprintf("%d attributes, more than %d", len(e.Attributes), MaxAttributes)}
	}
	for _, name := range sortedKeys(e.Attributes) {
		if name == "" {
			return &FieldError{Field: "attributes", Reason: "an attribute has no name"}
		}
	}
	return nil
}

func (e *Event) checkDecision() error {
	switch e.Decision {
	case DecisionNone, DecisionAllow, DecisionWarn, DecisionDeny:
	default:
		return &FieldError{Field: "decision", Reason: fmt.Sprintf("%q is not allow, warn or deny", e.Decision)}
	}
	switch {
	case e.Kind == KindVerified && e.Decision != DecisionAllow && e.Decision != DecisionWarn:
		return &FieldError{Field: "decision", Reason: fmt.Sprintf("a %s event decides allow or warn, not %q", e.Kind, e.Decision)}
	case e.Kind == KindDenied && e.Decision != DecisionDeny:
		return &FieldError{Field: "decision", Reason: fmt.Sprintf("a %s event decides deny, not %q", e.Kind, e.Decision)}
	}
	return nil
}

// checkDigest requires a digest in normal form of an identifying algorithm.
func checkDigest(field string, d digest.Digest) error {
	if d == "" {
		return &FieldError{Field: field, Reason: "required"}
	}
	if err := provenance.CheckArtifactDigest(d); err != nil {
		return &FieldError{Field: field, Reason: err.Error()}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Parse reads an event back from a statement, such as one a verifier returned. Parse is
// strict: the predicate type must be PredicateType, the statement must have exactly one
// subject with exactly one digest, and the predicate must hold no field Statement does not
// write. The event read must be valid as Statement requires. A rejected statement fails with a
// *PredicateError wrapping ErrInvalidPredicate (and the *FieldError of an invalid event). Parse
// checks the document, not its signature: verify it first.
func Parse(st *intoto.Statement) (*Event, error) {
	var w wireEvent
	subject, subjectDigest, err := provenance.DecodePredicateStrict(st, PredicateType, wireFields, MaxEventBytes, &w)
	if err != nil {
		return nil, &PredicateError{Reason: err.Error()}
	}
	e := &Event{
		Kind:        Kind(w.Kind),
		SubjectName: subject.GetName(),
		Actor:       w.Actor,
		Decision:    Decision(w.Decision),
		Reasons:     w.Reasons,
		Environment: w.Environment,
	}
	if len(w.Attributes) > 0 {
		e.Attributes = w.Attributes
	}
	if len(w.Reasons) == 0 {
		e.Reasons = nil
	}
	e.Subject = subjectDigest
	for _, s := range w.Evidence {
		e.Evidence = append(e.Evidence, digest.Digest(s))
	}
	t, err := time.Parse(time.RFC3339Nano, w.Time)
	if err != nil || t.Location() != time.UTC {
		return nil, &PredicateError{Reason: "invalid event", Err: &FieldError{Field: "time", Reason: fmt.Sprintf("%q is not an RFC 3339 time in UTC", w.Time)}}
	}
	e.Time = t
	if err := e.Validate(); err != nil {
		return nil, &PredicateError{Reason: "invalid event", Err: err}
	}
	return e, nil
}
