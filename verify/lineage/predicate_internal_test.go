package lineage

import (
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/provkit/provkit/provenance"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// checkFacts decodes predicate JSON both ways: when the direct reading accepts it, the full
// decoding must too, with the same facts.
func checkFacts(t *testing.T, predicate []byte) (fast bool) {
	t.Helper()
	pred := &structpb.Struct{}
	if err := protojson.Unmarshal(predicate, pred); err != nil {
		return false
	}
	f, ok := slsaFactsOf(pred)
	if !ok {
		return false
	}
	st := &intoto.Statement{PredicateType: provenance.PredicateSLSAProvenanceV1, Predicate: pred}
	p, err := provenance.SLSAProvenance(st)
	if err != nil {
		t.Fatalf("read directly, but does not decode: %v\n%s", err, predicate)
	}
	g := slsaFactsFromProvenance(p)
	if f.buildType != g.buildType || f.builderID != g.builderID || f.invocationID != g.invocationID ||
		!f.startedOn.Equal(g.startedOn) || !f.finishedOn.Equal(g.finishedOn) {
		t.Fatalf("facts differ:\n%+v\n%+v\n%s", f, g, predicate)
	}
	if !proto.Equal(&structpb.Struct{Fields: f.external}, &structpb.Struct{Fields: g.external}) {
		t.Fatalf("externalParameters differ\n%s", predicate)
	}
	if !proto.Equal(&structpb.Struct{Fields: f.internal}, &structpb.Struct{Fields: g.internal}) {
		t.Fatalf("internalParameters differ\n%s", predicate)
	}
	if len(f.builderVersion) != len(g.builderVersion) {
		t.Fatalf("builder.version %v, decoded %v\n%s", f.builderVersion, g.builderVersion, predicate)
	}
	for k, v := range f.builderVersion {
		if g.builderVersion[k] != v {
			t.Fatalf("builder.version %v, decoded %v\n%s", f.builderVersion, g.builderVersion, predicate)
		}
	}
	if len(f.dependencies) != len(g.dependencies) {
		t.Fatalf("%d dependencies, decoded %d\n%s", len(f.dependencies), len(g.dependencies), predicate)
	}
	for i, d := range f.dependencies {
		e := g.dependencies[i]
		if d.GetUri() != e.GetUri() || d.GetName() != e.GetName() || !proto.Equal(d.GetAnnotations(), e.GetAnnotations()) ||
			len(d.GetDigest()) != len(e.GetDigest()) {
			t.Fatalf("dependency %d: %v, decoded %v\n%s", i, d, e, predicate)
		}
		for k, v := range d.GetDigest() {
			if e.GetDigest()[k] != v {
				t.Fatalf("dependency %d digest %s\n%s", i, k, predicate)
			}
		}
	}
	return true
}

var predicateSeeds = []string{
	`{}`,
	`{"buildDefinition":{"buildType":"https://example.com/b","externalParameters":{"name":"x","n":[1,{"a":null}]},"internalParameters":{"agents":[{"orcid":"https://orcid.org/0000-0002-1825-0097"}]},"resolvedDependencies":[{"uri":"git+https://example.com/r@refs/heads/main","digest":{"gitCommit":"abc","sha256":"00"},"annotations":{"dev.provkit.role":"source"}},{"name":"n","content":"aGk=","downloadLocation":"https://x","mediaType":"text/plain"}]},"runDetails":{"builder":{"id":"https://b","version":{"a":"1"}},"metadata":{"invocationId":"i","startedOn":"2026-01-02T03:04:05Z","finishedOn":"2026-01-02T03:04:05.123456789+02:00"},"byproducts":[{"name":"log"}]}}`,
	`{"build_definition":{"build_type":"t","external_parameters":{},"resolved_dependencies":[{"uri":"u","digest":{"sha256":"ab"}}]},"run_details":{"builder":{"id":"b"},"metadata":{"invocation_id":"i","started_on":"2026-01-02T03:04:05Z"}}}`,
	`{"buildDefinition":{"buildType":"t","build_type":"u"}}`,
	`{"buildDefinition":{"buildType":7}}`,
	`{"buildDefinition":{"resolvedDependencies":{"uri":"u"}}}`,
	`{"buildDefinition":{"resolvedDependencies":[{"digest":{"sha256":1}}]}}`,
	`{"buildDefinition":{"resolvedDependencies":null},"runDetails":null}`,
	`{"runDetails":{"metadata":{"startedOn":"yesterday"}}}`,
	`{"runDetails":{"metadata":{"startedOn":"2026-01-02T03:04:05"}}}`,
}

func TestSLSAFactsMatchDecoding(t *testing.T) {
	var fast int
	for _, s := range predicateSeeds {
		if checkFacts(t, []byte(s)) {
			fast++
		}
	}
	if fast < 3 {
		t.Fatalf("only %d of the well-formed seeds were read directly", fast)
	}
}

// FuzzSLSAFacts checks that reading a predicate directly never accepts what decoding it fully
// rejects, and never disagrees with it.
func FuzzSLSAFacts(f *testing.F) {
	for _, s := range predicateSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, predicate []byte) {
		checkFacts(t, predicate)
	})
}
