package oras_test

import (
	"testing"

	"github.com/provkit/provkit/internal/storetest"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
)

// BenchmarkAttachLayout attaches distinct bundles to one subject of an OCI layout on disk,
// and lists the subject's referrers, which re-reads index.json only when it changed.
func BenchmarkAttachLayout(b *testing.B) {
	s, err := provoras.NewLayout(b.Context(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	subject := pushImage(b, s.Target(), "img", "v1")
	b.Run("attach", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n++
			if _, err := s.Attach(b.Context(), subject, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSPDX, n)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("referrers", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Referrers(b.Context(), subject, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}
