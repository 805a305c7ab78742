package policy

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
)

// slsaFacts is what the SLSA rules read of one verified SLSA provenance attestation. It is
// decoded once, by the same decoders the verifier's Result.SLSAProvenance, the lineage graph and
// the index use (protojson into the in-toto provenance types), so a predicate written with
// protobuf field names (build_definition, resolved_dependencies) reads the same as one written
// with JSON names, and no rule reads the raw predicate by one spelling of a path.
type slsaFacts struct {
	shape        *slsaShape // JSON paths of the facts, for evidence
	builderID    string
	buildType    string
	deps         []dependency
	external     *structpb.Struct
	internal     *structpb.Struct
	configSource string // v0.2's invocation.configSource.uri
}

// dependency is one resolved dependency (v1) or material (v0.2).
type dependency struct {
	uri, name   string
	digest      map[string]string
	annotations *structpb.Struct
}

func (d dependency) annotation(key string) string {
	return d.annotations.GetFields()[key].GetStringValue()
}

// slsa decodes the view's SLSA provenance on first use and keeps the result.
func (v *view) slsa() (*slsaFacts, error) {
	if v.slsaDone {
		return v.slsaFacts, v.slsaErr
	}
	v.slsaDone = true
	v.slsaFacts, v.slsaErr = decodeSLSA(v)
	return v.slsaFacts, v.slsaErr
}

func decodeSLSA(v *view) (*slsaFacts, error) {
	switch v.predicateType {
	case slsaV1:
		p, err := provenance.SLSAProvenance(v.statement)
		if err == nil {
			err = p.Validate()
		}
		if err != nil {
			return nil, err
		}
		bd, rd := p.GetBuildDefinition(), p.GetRunDetails()
		f := &slsaFacts{
			shape:     shapeV1,
			builderID: rd.GetBuilder().GetId(),
			buildType: bd.GetBuildType(),
			external:  bd.GetExternalParameters(),
			internal:  bd.GetInternalParameters(),
		}
		for _, d := range bd.GetResolvedDependencies() {
			f.deps = append(f.deps, dependency{uri: d.GetUri(), name: d.GetName(), digest: d.GetDigest(), annotations: d.GetAnnotations()})
		}
		return f, nil
	case slsaV02:
		p, err := provenance.SLSAProvenanceV02(v.statement)
		if err != nil {
			return nil, err
		}
		if p.GetBuilder().GetId() == "" || p.GetBuildType() == "" {
			return nil, fmt.Errorf("%w: builder.id and buildType are required", provenance.ErrInvalidPredicate)
		}
		inv := p.GetInvocation()
		f := &slsaFacts{
			shape:        shapeV02,
			builderID:    p.GetBuilder().GetId(),
			buildType:    p.GetBuildType(),
			external:     inv.GetParameters(),
			internal:     inv.GetEnvironment(),
			configSource: inv.GetConfigSource().GetUri(),
		}
		for _, m := range p.GetMaterials() {
			f.deps = append(f.deps, dependency{uri: m.GetUri(), digest: m.GetDigest()})
		}
		return f, nil
	}
	return nil, fmt.Errorf("%w: %q is not a SLSA provenance predicate type", provenance.ErrInvalidPredicate, v.predicateType)
}

// slsaView is a verified SLSA provenance attestation with its decoded facts.
type slsaView struct {
	*view
	facts *slsaFacts
}

// slsaProvenances returns the SLSA provenance attestations (v1 and v0.2), decoded. When one of
// them does not decode, or there are none, it returns the failing check instead: a rule never
// passes over provenance it could not read.
func (ec *evalContext) slsaProvenances() ([]slsaView, *check) {
	var out []slsaView
	var bad []Evidence
	var reasons []string
	for _, v := range ec.views {
		if v.predicateType != slsaV1 && v.predicateType != slsaV02 {
			continue
		}
		f, err := v.slsa()
		if err != nil {
			bad = append(bad, Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: "predicate", Message: "not a readable SLSA provenance: " + err.Error()})
			reasons = append(reasons, fmt.Sprintf("attestation %d is not a readable SLSA provenance: %v", v.index, err))
			continue
		}
		out = append(out, slsaView{view: v, facts: f})
	}
	if len(bad) > 0 {
		c := fail(joinReasons(reasons), bad...)
		return nil, &c
	}
	if len(out) == 0 {
		c := noSLSA()
		return nil, &c
	}
	return out, nil
}

func joinReasons(reasons []string) string { return strings.Join(dedupe(reasons), "; ") }
