package provenance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// NewStatement returns a validated in-toto Statement v1 about subjects.
//
// predicate is the predicate document: a *structpb.Struct, any other protobuf message (such as
// the in-toto SLSA, VSA or vulnerability predicates, encoded with protojson), a json.RawMessage
// or []byte holding a JSON object, or any Go value that encoding/json turns into an object.
// JSON numbers become float64 as the in-toto model holds them, so integers above 2^53 lose
// precision: carry such values as strings.
func NewStatement(subjects []*intoto.ResourceDescriptor, predicateType string, predicate any) (*intoto.Statement, error) {
	if len(subjects) == 0 {
		return nil, ErrNoSubjects
	}
	if predicateType == "" {
		return nil, &MissingFieldError{Field: "predicateType"}
	}
	body, err := predicateStruct(predicate)
	if err != nil {
		return nil, err
	}
	st := &intoto.Statement{
		Type:          StatementTypeV1,
		Subject:       subjects,
		PredicateType: predicateType,
		Predicate:     body,
	}
	if err := validate(st); err != nil {
		return nil, err
	}
	return st, nil
}

func predicateStruct(predicate any) (*structpb.Struct, error) {
	var raw []byte
	var err error
	switch p := predicate.(type) {
	case nil:
		return nil, &MissingFieldError{Field: "predicate"}
	case *structpb.Struct:
		if p == nil {
			return nil, &MissingFieldError{Field: "predicate"}
		}
		return p, nil
	case proto.Message:
		raw, err = protojson.Marshal(p)
	case json.RawMessage:
		raw = p
	case []byte:
		raw = p
	default:
		raw, err = json.Marshal(p)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPredicate, err)
	}
	body := &structpb.Struct{}
	if err := protojson.Unmarshal(raw, body); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object: %v", ErrInvalidPredicate, err)
	}
	return body, nil
}

// validate runs the in-toto checks and maps their errors onto ours.
func validate(st *intoto.Statement) error {
	err := st.Validate()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, intoto.ErrSubjectRequired):
		return ErrNoSubjects
	case errors.Is(err, intoto.ErrDigestRequired),
		errors.Is(err, intoto.ErrIncorrectDigestLength),
		errors.Is(err, intoto.ErrInvalidDigestEncoding):
		return fmt.Errorf("%w: subject: %v", ErrInvalidDigest, err)
	case errors.Is(err, intoto.ErrPredicateTypeRequired):
		return &MissingFieldError{Field: "predicateType"}
	case errors.Is(err, intoto.ErrPredicateRequired):
		return &MissingFieldError{Field: "predicate"}
	default:
		return fmt.Errorf("%w: %v", ErrInvalidStatement, err)
	}
}

// Marshal validates st and returns its JSON in canonical form: object keys sorted, no
// insignificant white space, no HTML escaping. The same statement always gives the same bytes,
// which protojson alone deliberately does not, and ParseStatement reads them back to an equal
// statement. Sign these bytes and keep them: never re-marshal a statement that was signed.
func Marshal(st *intoto.Statement) ([]byte, error) {
	if st == nil {
		return nil, fmt.Errorf("%w: nil statement", ErrInvalidStatement)
	}
	if err := validate(st); err != nil {
		return nil, err
	}
	doc := canonicalStatement{
		Type:          st.GetType(),
		Predicate:     st.GetPredicate().AsMap(),
		PredicateType: st.GetPredicateType(),
		Subject:       make([]canonicalDescriptor, len(st.GetSubject())),
	}
	for i, rd := range st.GetSubject() {
		doc.Subject[i] = canonicalDescriptor{
			Content:          rd.GetContent(),
			Digest:           rd.GetDigest(),
			DownloadLocation: rd.GetDownloadLocation(),
			MediaType:        rd.GetMediaType(),
			Name:             rd.GetName(),
			URI:              rd.GetUri(),
		}
		if a := rd.GetAnnotations(); a != nil {
			doc.Subject[i].Annotations = a.AsMap()
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidStatement, err)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte{'\n'}), nil
}

// canonicalStatement and canonicalDescriptor mirror the in-toto JSON form with their fields in
// key order; encoding/json sorts the keys of the maps inside, so the whole document is sorted.
type canonicalStatement struct {
	Type          string                `json:"_type"`
	Predicate     map[string]any        `json:"predicate"`
	PredicateType string                `json:"predicateType"`
	Subject       []canonicalDescriptor `json:"subject"`
}

type canonicalDescriptor struct {
	Annotations      map[string]any    `json:"annotations,omitempty"`
	Content          []byte            `json:"content,omitempty"`
	Digest           map[string]string `json:"digest,omitempty"`
	DownloadLocation string            `json:"downloadLocation,omitempty"`
	MediaType        string            `json:"mediaType,omitempty"`
	Name             string            `json:"name,omitempty"`
	URI              string            `json:"uri,omitempty"`
}

// ParseStatement decodes and validates an in-toto Statement, v1 or the legacy v0.1 that cosign
// writes. Unknown fields are ignored, as the in-toto specification requires of consumers. Input
// over MaxStatementBytes fails with a *SizeError; anything else malformed wraps ErrInvalidStatement
// or a more specific sentinel.
func ParseStatement(data []byte) (*intoto.Statement, error) {
	if len(data) > MaxStatementBytes {
		return nil, &SizeError{What: "statement", Limit: MaxStatementBytes, Size: int64(len(data))}
	}
	st := &intoto.Statement{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidStatement, err)
	}
	if err := validate(st); err != nil {
		return nil, err
	}
	return st, nil
}

// DecodePredicate decodes st's predicate into v: a protobuf message (decoded with protojson,
// unknown fields ignored) or any value encoding/json can decode into. It does not check the
// predicate type; callers do.
func DecodePredicate(st *intoto.Statement, v any) error {
	if st.GetPredicate() == nil {
		return &MissingFieldError{Field: "predicate"}
	}
	raw, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidPredicate, err)
	}
	if m, ok := v.(proto.Message); ok {
		err = protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(raw, m)
	} else {
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidPredicate, err)
	}
	return nil
}
