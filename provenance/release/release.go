package release

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/provkit/provkit/provenance"
)

// PredicateType is the predicate type of a release record; the package documentation
// describes the predicate field by field.
const PredicateType = "https://provkit.dev/release/v1"

// Record says which image was released to which environment with which deployment
// configuration, and who approved it. Every field is required but Approval's Reference and
// Decision. A Record is a plain value: its methods never modify it, so a Record not being
// modified is safe for concurrent use.
type Record struct {
	// Image is the released image: its name (the repository or reference, such as
	// "registry.example/shop/api") and its manifest digest, as provenance.SubjectFromDescriptor
	// makes it. It is the statement's subject.
	Image *intoto.ResourceDescriptor
	// Environment is where it was released, such as "prod" or "eu-west/staging".
	Environment string
	// Configuration is the deployment configuration it was released with, by digest:
	// Kubernetes manifests, a Helm chart, environment overrides. Hash files with
	// provenance.SubjectFromFile or a directory with provenance.SubjectsFromDir. At least one;
	// each needs a name, unique in the list, and a digest.
	Configuration []*intoto.ResourceDescriptor
	// Approval is who allowed the release.
	Approval Approval
	// ReleasedOn is when it was released: take it from the caller's provenance.Clock.
	ReleasedOn time.Time
}

// Approval is the decision that allowed a release.
type Approval struct {
	// By is who approved: a person's e-mail address, a team, or an automated gate's identity.
	By string
	// On is when they approved.
	On time.Time
	// Reference is an absolute URI of the approval's record, such as a change ticket or a pull
	// request (optional).
	Reference string
	// Decision is the policy decision or verification summary (VSA) that allowed the release,
	// by digest (optional).
	Decision *intoto.ResourceDescriptor
}

// wirePredicate is the predicate's JSON form, documented in doc.go. Descriptors are held as
// their protojson encoding.
type wirePredicate struct {
	Environment   string            `json:"environment"`
	Configuration []json.RawMessage `json:"configuration"`
	Approval      wireApproval      `json:"approval"`
	ReleasedOn    string            `json:"releasedOn"`
}

type wireApproval struct {
	By        string          `json:"by"`
	On        string          `json:"on"`
	Reference string          `json:"reference,omitempty"`
	Decision  json.RawMessage `json:"decision,omitempty"`
}

// Statement returns the record as a validated in-toto statement, ready to sign: its subject is
// Image and its predicate, of type PredicateType, the rest of the record. A missing field
// fails with a *MissingFieldError, an invalid one with a *FieldError.
func (r *Record) Statement() (*intoto.Statement, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	p, err := r.predicate()
	if err != nil {
		return nil, err
	}
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{r.Image}, PredicateType, json.RawMessage(p))
	if err != nil {
		return nil, &FieldError{Field: "image", Reason: err.Error()}
	}
	return st, nil
}

// predicate encodes the record's predicate.
func (r *Record) predicate() ([]byte, error) {
	w := wirePredicate{
		Environment: r.Environment,
		Approval: wireApproval{
			By:        r.Approval.By,
			On:        timeString(r.Approval.On),
			Reference: r.Approval.Reference,
		},
		ReleasedOn: timeString(r.ReleasedOn),
	}
	for i, c := range r.Configuration {
		raw, err := protojson.Marshal(c)
		if err != nil {
			return nil, &FieldError{Field: fmt.Sprintf("configuration[%d]", i), Reason: err.Error()}
		}
		w.Configuration = append(w.Configuration, raw)
	}
	if d := r.Approval.Decision; d != nil {
		raw, err := protojson.Marshal(d)
		if err != nil {
			return nil, &FieldError{Field: "approval.decision", Reason: err.Error()}
		}
		w.Approval.Decision = raw
	}
	return json.Marshal(w)
}

func timeString(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// validate checks the record, naming the first bad field by its path in the predicate.
func (r *Record) validate() error {
	if r.Image == nil {
		return &MissingFieldError{Field: "image"}
	}
	if r.Image.GetName() == "" {
		return &MissingFieldError{Field: "image.name"}
	}
	if err := checkDigest("image", r.Image); err != nil {
		return err
	}
	if r.Environment == "" {
		return &MissingFieldError{Field: "environment"}
	}
	if len(r.Configuration) == 0 {
		return &MissingFieldError{Field: "configuration"}
	}
	names := map[string]int{}
	for i, c := range r.Configuration {
		field := fmt.Sprintf("configuration[%d]", i)
		if c == nil {
			return &MissingFieldError{Field: field}
		}
		if c.GetName() == "" {
			return &MissingFieldError{Field: field + ".name"}
		}
		if j, dup := names[c.GetName()]; dup {
			return &FieldError{Field: field + ".name", Reason: fmt.Sprintf("%q is also configuration[%d]", c.GetName(), j)}
		}
		names[c.GetName()] = i
		if err := checkDigest(field, c); err != nil {
			return err
		}
	}
	a := &r.Approval
	if a.By == "" {
		return &MissingFieldError{Field: "approval.by"}
	}
	if err := checkTime("approval.on", a.On); err != nil {
		return err
	}
	if a.Reference != "" {
		u, err := url.Parse(a.Reference)
		if err != nil || !u.IsAbs() {
			return &FieldError{Field: "approval.reference", Reason: fmt.Sprintf("%q is not an absolute URI", a.Reference)}
		}
	}
	if d := a.Decision; d != nil {
		if d.GetName() == "" && d.GetUri() == "" {
			return &MissingFieldError{Field: "approval.decision.uri"}
		}
		if err := checkDigest("approval.decision", d); err != nil {
			return err
		}
	}
	return checkTime("releasedOn", r.ReleasedOn)
}

func checkDigest(field string, rd *intoto.ResourceDescriptor) error {
	if len(rd.GetDigest()) == 0 {
		return &MissingFieldError{Field: field + ".digest"}
	}
	for alg, hex := range rd.GetDigest() {
		if alg == "" || hex == "" {
			return &FieldError{Field: field + ".digest", Reason: "empty algorithm or value"}
		}
	}
	if err := rd.Validate(); err != nil {
		return &FieldError{Field: field, Reason: err.Error()}
	}
	return nil
}

// checkTime requires a time that RFC 3339 can write: not zero, between years 1 and 9999.
func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return &MissingFieldError{Field: field}
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return &FieldError{Field: field, Reason: fmt.Sprintf("year %d out of range", y)}
	}
	return nil
}

// Parse reads a release statement back, such as one a verifier returned, and returns its
// Record. Parse is strict: the predicate type must be PredicateType, the statement must have
// exactly one subject (the image), and the predicate must hold every required field, no other
// field, with field names and values exactly as Statement writes them. The record read must be
// valid as Statement requires. A rejected statement fails with a *PredicateError wrapping
// ErrInvalidPredicate (and, for an incomplete or invalid record, the *MissingFieldError or
// *FieldError). Parse checks the document, not its signature: verify it first.
func Parse(st *intoto.Statement) (*Record, error) {
	if st.GetPredicateType() != PredicateType {
		return nil, &PredicateError{Reason: fmt.Sprintf("predicate type is %q, not %q", st.GetPredicateType(), PredicateType)}
	}
	if n := len(st.GetSubject()); n != 1 {
		return nil, &PredicateError{Reason: fmt.Sprintf("%d subjects, want exactly one: the image", n)}
	}
	if st.GetPredicate() == nil {
		return nil, &PredicateError{Reason: "no predicate"}
	}
	raw, err := json.Marshal(st.GetPredicate().AsMap())
	if err != nil {
		return nil, &PredicateError{Reason: err.Error()}
	}
	var w wirePredicate
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, &PredicateError{Reason: err.Error()}
	}
	r := &Record{
		Image:       proto.Clone(st.GetSubject()[0]).(*intoto.ResourceDescriptor),
		Environment: w.Environment,
		Approval:    Approval{By: w.Approval.By, Reference: w.Approval.Reference},
	}
	for i, c := range w.Configuration {
		rd := &intoto.ResourceDescriptor{}
		if err := protojson.Unmarshal(c, rd); err != nil {
			return nil, &PredicateError{Reason: fmt.Sprintf("configuration[%d]: %v", i, err)}
		}
		r.Configuration = append(r.Configuration, rd)
	}
	if len(w.Approval.Decision) > 0 {
		r.Approval.Decision = &intoto.ResourceDescriptor{}
		if err := protojson.Unmarshal(w.Approval.Decision, r.Approval.Decision); err != nil {
			return nil, &PredicateError{Reason: fmt.Sprintf("approval.decision: %v", err)}
		}
	}
	for _, t := range []struct {
		field string
		value string
		to    *time.Time
	}{{"approval.on", w.Approval.On, &r.Approval.On}, {"releasedOn", w.ReleasedOn, &r.ReleasedOn}} {
		if t.value == "" {
			return nil, &PredicateError{Reason: "incomplete record", Err: &MissingFieldError{Field: t.field}}
		}
		parsed, err := time.Parse(time.RFC3339Nano, t.value)
		if err != nil || parsed.Location() != time.UTC {
			return nil, &PredicateError{Reason: "invalid record", Err: &FieldError{Field: t.field, Reason: fmt.Sprintf("%q is not an RFC 3339 time in UTC", t.value)}}
		}
		*t.to = parsed
	}
	if err := r.validate(); err != nil {
		return nil, &PredicateError{Reason: "invalid record", Err: err}
	}
	// encoding/json matches field names regardless of case, and protojson takes protobuf field
	// names too: the predicate must be exactly what Statement writes for the record read.
	again, err := r.predicate()
	if err != nil {
		return nil, &PredicateError{Reason: err.Error()}
	}
	if !sameJSON(raw, again) {
		return nil, &PredicateError{Reason: "predicate not in the form this package writes (field names are case-sensitive; empty fields are left out, not null)"}
	}
	return r, nil
}

// sameJSON reports whether two JSON documents are equal once both are in canonical form.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ca, _ := json.Marshal(x)
	cb, _ := json.Marshal(y)
	return bytes.Equal(ca, cb)
}
