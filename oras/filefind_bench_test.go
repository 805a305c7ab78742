package oras_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	provoras "github.com/provkit/provkit/oras"
)

// BenchmarkFileManifests finds one file among 1,000 stored with PushFile, by its digest, in a
// memory store and an OCI layout.
func BenchmarkFileManifests(b *testing.B) {
	for _, backend := range []string{"memory", "layout"} {
		b.Run(backend, func(b *testing.B) {
			var s *provoras.Store
			var err error
			if backend == "memory" {
				s, err = provoras.NewMemory()
			} else {
				s, err = provoras.NewLayout(b.Context(), b.TempDir())
			}
			if err != nil {
				b.Fatal(err)
			}
			dir := b.TempDir()
			var target digest.Digest
			for i := range 1000 {
				path := filepath.Join(dir, fmt.Sprintf("f%04d.csv", i))
				if err := os.WriteFile(path, []byte(fmt.Sprintf("row,%d\n", i)), 0o644); err != nil {
					b.Fatal(err)
				}
				_, file, err := s.PushFile(b.Context(), path, "")
				if err != nil {
					b.Fatal(err)
				}
				if i == 500 {
					target = file.Digest
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				got, err := s.FileManifests(b.Context(), target)
				if err != nil || len(got) != 1 {
					b.Fatal(got, err)
				}
			}
		})
	}
}
