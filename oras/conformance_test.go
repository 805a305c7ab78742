package oras_test

import (
	"github.com/provkit/provkit/internal/testenv"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/internal/storetest"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"oras.land/oras-go/v2/content/memory"
)

func TestConformanceMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Instance {
		tt := &tamperTarget{GraphTarget: memory.New()}
		s, err := provoras.New(tt)
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Instance{
			Store:     s,
			Subject:   pushImage(t, s.Target(), "memory", "v1"),
			Tamper:    func(t *testing.T, blob ocispec.Descriptor) { tt.bad.Store(blob.Digest, true) },
			Integrity: provoras.ErrIntegrity,
		}
	})
}

func TestConformanceLayout(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Instance {
		dir := t.TempDir()
		s, err := provoras.NewLayout(t.Context(), dir)
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Instance{
			Store:   s,
			Subject: pushImage(t, s.Target(), "layout", "v1"),
			Tamper: func(t *testing.T, blob ocispec.Descriptor) {
				t.Helper()
				path := filepath.Join(dir, "blobs", blob.Digest.Algorithm().String(), blob.Digest.Encoded())
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				data[len(data)/2] ^= 0xff
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			Integrity: provoras.ErrIntegrity,
		}
	})
}

// remoteInstance makes an instance on a fresh repository of the registry at host.
func remoteInstance(t *testing.T, host string) storetest.Instance {
	t.Helper()
	repo := "conformance/" + sanitize(t.Name()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	proxy, tamper := tamperProxy(t, host)
	s := remoteStore(t, proxy, repo)
	return storetest.Instance{
		Store:     s,
		Subject:   pushImage(t, s.Target(), t.Name(), "v1"),
		Writer:    func(t *testing.T) provenance.Store { return remoteStore(t, host, repo) },
		Tamper:    func(t *testing.T, blob ocispec.Descriptor) { tamper(blob.Digest) },
		Integrity: provoras.ErrIntegrity,
	}
}

func TestConformanceOlaregInProcess(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Instance { return remoteInstance(t, testenv.OlaregServer(t)) })
}

func TestConformanceGGCRInProcess(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Instance { return remoteInstance(t, testenv.GGCRServer(t)) })
}

func sanitize(name string) string {
	out := []byte{}
	for _, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			out = append(out, c)
		case c >= 'A' && c <= 'Z':
			out = append(out, c+'a'-'A')
		default:
			if len(out) > 0 && out[len(out)-1] != '-' {
				out = append(out, '-')
			}
		}
	}
	return string(out)
}

// The real registry programs `make test` starts on loopback; they keep content between runs,
// so each instance uses a fresh repository.
func TestConformanceDistribution(t *testing.T) {
	host := testenv.Distribution(t)
	storetest.Run(t, func(t *testing.T) storetest.Instance { return remoteInstance(t, host) })
}

func TestConformanceOlareg(t *testing.T) {
	host := testenv.Olareg(t)
	storetest.Run(t, func(t *testing.T) storetest.Instance { return remoteInstance(t, host) })
}
