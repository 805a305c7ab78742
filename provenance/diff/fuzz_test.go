package diff_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/diff"
)

// FuzzImages compares images decoded from arbitrary JSON: Images must not panic, must report
// nothing for an image against itself, and must report only real differences.
func FuzzImages(f *testing.F) {
	good, _ := json.Marshal(testImage())
	f.Add(good, []byte(`{}`))
	f.Add([]byte(`{"index":{"manifests":[{"digest":"sha256:00","platform":{"os":"a","architecture":"b"}},{"digest":"x"}]}}`),
		[]byte(`{"manifest":{"layers":[{},{},{}]},"config":{"config":{"Env":["=","A","B=C=D"]}}}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var x, y diff.Image
		if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
			return
		}
		if got := diff.Images(x, x); got != nil {
			t.Fatalf("an image differs from itself: %v", got)
		}
		for _, c := range diff.Images(x, y) {
			if c.Kind == diff.Changed && c.Baseline == c.Current {
				t.Fatalf("change without a difference: %+v", c)
			}
		}
	})
}

// FuzzProvenance compares statements decoded from arbitrary JSON: Provenance must not panic
// and must fail only with this package's sentinels.
func FuzzProvenance(f *testing.F) {
	st, err := (&provenance.Build{
		BuildType:            "https://example.com/b",
		ExternalParameters:   map[string]any{"a": map[string]any{"b": []any{1.0, "x", nil}}},
		BuilderID:            "https://example.com/builder",
		ResolvedDependencies: []*intoto.ResourceDescriptor{{Uri: "git+https://example.com/r@main", Digest: map[string]string{"gitCommit": strings.Repeat("a", 40)}}},
	}).Statement([]*intoto.ResourceDescriptor{{Name: "a", Digest: map[string]string{"sha256": strings.Repeat("0", 64)}}})
	if err != nil {
		f.Fatal(err)
	}
	good, _ := protojson.Marshal(st)
	f.Add(good, good)
	f.Add([]byte(`{"predicateType":"https://slsa.dev/provenance/v0.2","predicate":{"materials":[{"uri":"git+x"},{"uri":"git+x"}],"invocation":{"configSource":{"uri":"git+ssh://git@h/r@v1"}}}}`), good)
	f.Add([]byte(`{"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":1}}`), []byte(`{"predicate":{}}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		x, y := &intoto.Statement{}, &intoto.Statement{}
		opts := protojson.UnmarshalOptions{DiscardUnknown: true}
		if opts.Unmarshal(a, x) != nil || opts.Unmarshal(b, y) != nil {
			return
		}
		if _, err := diff.Provenance(x, y); err != nil {
			if !errors.Is(err, diff.ErrInvalidPredicate) && !errors.Is(err, diff.ErrInvalidDescriptor) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if got, err := diff.Provenance(x, x); err != nil || got != nil {
			t.Fatalf("a statement differs from itself: %v %v", got, err)
		}
	})
}
