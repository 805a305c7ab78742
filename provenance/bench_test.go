package provenance_test

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance"
)

const bigFileSize = 256 << 20

var (
	bigFileOnce sync.Once
	bigFilePath string
	bigFileData []byte
)

// bigFile writes one 256 MiB file per benchmark binary, so every sub-benchmark reads the same
// page-cached bytes that the in-memory baselines hash.
func bigFile(b *testing.B) (string, []byte) {
	b.Helper()
	bigFileOnce.Do(func() {
		dir, err := os.MkdirTemp("", "provkit-bench")
		if err != nil {
			b.Fatal(err)
		}
		bigFileData = pattern(bigFileSize)
		bigFilePath = filepath.Join(dir, "big")
		if err := os.WriteFile(bigFilePath, bigFileData, 0o644); err != nil {
			b.Fatal(err)
		}
	})
	return bigFilePath, bigFileData
}

// BenchmarkHash256MiB compares hashing a page-cached file through SubjectFromFile with hashing
// the same bytes in memory with the standard library, which is the bar.
func BenchmarkHash256MiB(b *testing.B) {
	path, data := bigFile(b)
	b.Cleanup(func() { os.RemoveAll(filepath.Dir(path)) })
	b.Run("memory/crypto-sha256", func(b *testing.B) {
		b.SetBytes(bigFileSize)
		b.ReportAllocs()
		for b.Loop() {
			sha256.Sum256(data)
		}
	})
	b.Run("memory/crypto-sha512", func(b *testing.B) {
		b.SetBytes(bigFileSize)
		b.ReportAllocs()
		for b.Loop() {
			sha512.Sum512(data)
		}
	})
	for _, tc := range []struct {
		name string
		algs []digest.Algorithm
	}{
		{"file/sha256", []digest.Algorithm{digest.SHA256}},
		{"file/sha512", []digest.Algorithm{digest.SHA512}},
		{"file/sha256+sha512", []digest.Algorithm{digest.SHA256, digest.SHA512}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(bigFileSize)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := provenance.SubjectFromFile(path, provenance.WithAlgorithms(tc.algs...)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTree10k hashes a tree of 10,000 small files with 1 and 2 workers.
func BenchmarkTree10k(b *testing.B) {
	root := b.TempDir()
	var total int64
	for i := range 10000 {
		dir := filepath.Join(root, fmt.Sprintf("d%02d", i%100))
		if i < 100 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		body := pattern(512 + i%4096)
		total += int64(len(body))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d", i)), body, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				got, err := provenance.SubjectsFromDir(context.Background(), root, provenance.WithWorkers(workers))
				if err != nil || len(got) != 10000 {
					b.Fatal(err, len(got))
				}
			}
		})
	}
}

// BenchmarkMarshal1000Subjects marshals a statement with 1,000 subjects to canonical JSON.
func BenchmarkMarshal1000Subjects(b *testing.B) {
	subjects := make([]*intoto.ResourceDescriptor, 1000)
	for i := range subjects {
		subjects[i] = &intoto.ResourceDescriptor{
			Name:   fmt.Sprintf("dist/file-%04d.tar.gz", i),
			Digest: map[string]string{"sha256": digest.FromString(fmt.Sprint(i)).Encoded()},
		}
	}
	st, err := validBuild().Statement(subjects)
	if err != nil {
		b.Fatal(err)
	}
	out, err := provenance.Marshal(st)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := provenance.Marshal(st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshal4KiB marshals a typical SLSA statement of about 4 KiB, the size signing
// benchmarks use.
func BenchmarkMarshal4KiB(b *testing.B) {
	build := validBuild()
	deps := make([]*intoto.ResourceDescriptor, 0, 24)
	for i := range 24 {
		deps = append(deps, &intoto.ResourceDescriptor{
			Uri:    fmt.Sprintf("pkg:golang/example.com/module%02d@v1.%d.0", i, i),
			Digest: map[string]string{"sha256": digest.FromString(fmt.Sprint(i)).Encoded()},
		})
	}
	build.ResolvedDependencies = append(build.ResolvedDependencies, deps...)
	st, err := build.Statement([]*intoto.ResourceDescriptor{subject("app")})
	if err != nil {
		b.Fatal(err)
	}
	out, err := provenance.Marshal(st)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := provenance.Marshal(st); err != nil {
			b.Fatal(err)
		}
	}
}
