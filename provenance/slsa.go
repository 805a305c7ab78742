package provenance

import (
	"fmt"
	"time"

	slsa02 "github.com/in-toto/attestation/go/predicates/provenance/v02"
	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Build describes one run of a build: the input to a SLSA Provenance v1 predicate. Fields map
// one to one onto the predicate (https://slsa.dev/spec/v1.0/provenance); BuildType,
// ExternalParameters and BuilderID are required. The collect package fills a Build from a real
// build's environment; callers may also fill one by hand.
type Build struct {
	// BuildType is a URI naming the template of the build; it gives ExternalParameters meaning.
	BuildType string
	// ExternalParameters are the inputs the build's caller chose (required and not empty: at the
	// least, what was built, such as the source repository and ref).
	ExternalParameters map[string]any
	// InternalParameters are inputs the builder chose, such as the toolchain's build settings.
	InternalParameters map[string]any
	// ResolvedDependencies are the artifacts the build read, each pinned by digest where possible.
	ResolvedDependencies []*intoto.ResourceDescriptor

	// BuilderID is the URI of the trusted build platform that ran the build.
	BuilderID string
	// BuilderVersion maps components of the builder to their versions.
	BuilderVersion map[string]string
	// BuilderDependencies are the builder's own dependencies, such as its container image.
	BuilderDependencies []*intoto.ResourceDescriptor

	// InvocationID identifies this run, such as a CI job URL.
	InvocationID string
	// StartedOn and FinishedOn bound the run; zero times are left out.
	StartedOn, FinishedOn time.Time
	// Byproducts are artifacts made along the way that are not subjects, such as logs.
	Byproducts []*intoto.ResourceDescriptor
}

// Predicate returns the SLSA Provenance v1 predicate of b, validated. A missing required field
// yields a *MissingFieldError naming it.
func (b *Build) Predicate() (*slsa.Provenance, error) {
	switch {
	case b.BuildType == "":
		return nil, &MissingFieldError{Field: "buildDefinition.buildType"}
	case len(b.ExternalParameters) == 0:
		return nil, &MissingFieldError{Field: "buildDefinition.externalParameters"}
	case b.BuilderID == "":
		return nil, &MissingFieldError{Field: "runDetails.builder.id"}
	}
	external, err := structpb.NewStruct(normalise(b.ExternalParameters))
	if err != nil {
		return nil, fmt.Errorf("%w: externalParameters: %v", ErrInvalidPredicate, err)
	}
	var internal *structpb.Struct
	if b.InternalParameters != nil {
		if internal, err = structpb.NewStruct(normalise(b.InternalParameters)); err != nil {
			return nil, fmt.Errorf("%w: internalParameters: %v", ErrInvalidPredicate, err)
		}
	}
	p := &slsa.Provenance{
		BuildDefinition: &slsa.BuildDefinition{
			BuildType:            b.BuildType,
			ExternalParameters:   external,
			InternalParameters:   internal,
			ResolvedDependencies: b.ResolvedDependencies,
		},
		RunDetails: &slsa.RunDetails{
			Builder: &slsa.Builder{
				Id:                  b.BuilderID,
				Version:             b.BuilderVersion,
				BuilderDependencies: b.BuilderDependencies,
			},
			Byproducts: b.Byproducts,
		},
	}
	if b.InvocationID != "" || !b.StartedOn.IsZero() || !b.FinishedOn.IsZero() {
		m := &slsa.BuildMetadata{InvocationId: b.InvocationID}
		if !b.StartedOn.IsZero() {
			m.StartedOn = timestamppb.New(b.StartedOn)
		}
		if !b.FinishedOn.IsZero() {
			m.FinishedOn = timestamppb.New(b.FinishedOn)
		}
		p.RunDetails.Metadata = m
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPredicate, err)
	}
	return p, nil
}

// Statement returns a validated in-toto Statement v1 with b's SLSA Provenance v1 predicate about subjects.
func (b *Build) Statement(subjects []*intoto.ResourceDescriptor) (*intoto.Statement, error) {
	p, err := b.Predicate()
	if err != nil {
		return nil, err
	}
	return NewStatement(subjects, PredicateSLSAProvenanceV1, p)
}

// normalise turns the Go values callers naturally use in parameter maps (string slices, nested
// string maps, integers) into the shapes structpb accepts.
func normalise(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = normaliseValue(v)
	}
	return out
}

func normaliseValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return normalise(x)
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return m
	case []string:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		return l
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = normaliseValue(e)
		}
		return l
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	default:
		return v
	}
}

// SLSAProvenance decodes the SLSA Provenance v1 predicate of st. A statement of another
// predicate type yields an error wrapping ErrInvalidPredicate.
func SLSAProvenance(st *intoto.Statement) (*slsa.Provenance, error) {
	if st.GetPredicateType() != PredicateSLSAProvenanceV1 {
		return nil, fmt.Errorf("%w: predicate type is %q, not %q", ErrInvalidPredicate, st.GetPredicateType(), PredicateSLSAProvenanceV1)
	}
	p := &slsa.Provenance{}
	if err := DecodePredicate(st, p); err != nil {
		return nil, err
	}
	return p, nil
}

// SLSAProvenanceV02 decodes the SLSA Provenance v0.2 predicate of st (as cosign's
// "slsaprovenance" writes it) the same way SLSAProvenance decodes v1: through protojson, so
// fields written with their JSON or their protobuf names both decode. A statement of another
// predicate type, or a predicate that is not of this shape, yields an error wrapping
// ErrInvalidPredicate.
func SLSAProvenanceV02(st *intoto.Statement) (*slsa02.Provenance, error) {
	if st.GetPredicateType() != PredicateSLSAProvenanceV02 {
		return nil, fmt.Errorf("%w: predicate type is %q, not %q", ErrInvalidPredicate, st.GetPredicateType(), PredicateSLSAProvenanceV02)
	}
	p := &slsa02.Provenance{}
	if err := DecodePredicate(st, p); err != nil {
		return nil, err
	}
	return p, nil
}
