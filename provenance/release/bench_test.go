package release_test

import (
	"testing"

	"github.com/provkit/provkit/provenance/release"
)

func BenchmarkStatementAndParse(b *testing.B) {
	r := validRecord(b)
	b.ReportAllocs()
	for b.Loop() {
		st, err := r.Statement()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := release.Parse(st); err != nil {
			b.Fatal(err)
		}
	}
}
