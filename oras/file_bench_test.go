package oras_test

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	provoras "github.com/provkit/provkit/oras"
)

// BenchmarkPushFile stores a 64 MiB file in a fresh OCI layout each time: one pass to hash,
// one to copy. Bytes allocated per operation stay far below the file's size, because the
// file is streamed, never held in memory.
func BenchmarkPushFile(b *testing.B) {
	const size = 64 << 20
	path := filepath.Join(b.TempDir(), "big.bin")
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	data = nil
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		s, err := provoras.NewLayout(b.Context(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, _, err := s.PushFile(b.Context(), path, "v1"); err != nil {
			b.Fatal(err)
		}
	}
}
