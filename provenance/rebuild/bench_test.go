package rebuild_test

import (
	"strconv"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/rebuild"
)

// benchInput is the check of a rebuilt tree of 1000 files, one of which differs.
func benchInput(b *testing.B) rebuild.Input {
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
	return rebuild.Input{Original: st, Rebuilt: rebuilt, CheckedOn: checkedOn}
}

func BenchmarkCheck(b *testing.B) {
	in := benchInput(b)
	b.ReportAllocs()
	for b.Loop() {
		res, err := rebuild.Check(in)
		if err != nil || len(res.Differences) != 1 {
			b.Fatal(err, res.Differences)
		}
	}
}

func BenchmarkStatement(b *testing.B) {
	res, err := rebuild.Check(benchInput(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := res.Statement(); err != nil {
			b.Fatal(err)
		}
	}
}
