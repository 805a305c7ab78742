package rebuild_test

import (
	"strconv"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/rebuild"
)

// BenchmarkCheck checks a rebuilt tree of 1000 files, one of which differs, and makes its
// statement.
func BenchmarkCheck(b *testing.B) {
	var original, rebuilt []*intoto.ResourceDescriptor
	for i := range 1000 {
		name := "files/" + strconv.Itoa(i)
		original = append(original, &intoto.ResourceDescriptor{Name: name, Digest: map[string]string{"sha256": digest.FromString(name).Encoded()}})
		if i == 500 {
			name += " changed"
		}
		rebuilt = append(rebuilt, &intoto.ResourceDescriptor{Name: "files/" + strconv.Itoa(i), Digest: map[string]string{"sha256": digest.FromString(name).Encoded()}})
	}
	st, err := (&provenance.Build{BuildType: "https://example.com/b", ExternalParameters: map[string]any{"a": "b"}, BuilderID: "https://example.com/ci"}).Statement(original)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := rebuild.Check(rebuild.Input{Original: st, Rebuilt: rebuilt, CheckedOn: checkedOn})
		if err != nil || len(res.Differences) != 1 {
			b.Fatal(err, res.Differences)
		}
		if _, err := res.Statement(); err != nil {
			b.Fatal(err)
		}
	}
}
