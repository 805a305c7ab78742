package oras_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/internal/storetest"
	"github.com/provkit/provkit/internal/testenv"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
)

// TestFaultyRegistryNeverSilentlyWrong runs Attach, Discover, FetchAll and Copy through a proxy
// that injects a fault into a fifth of a registry's responses (429, 503, a 502 or a reset after
// the registry acted, a truncated or a corrupted body). Every operation must either succeed with
// the right result or fail with an error; and once the faults stop, every attestation whose
// Attach succeeded is listed and reads back byte for byte, at the source and at the copy.
func TestFaultyRegistryNeverSilentlyWrong(t *testing.T) {
	backends := map[string]func(t testing.TB) string{
		"olareg (referrers API)":              testenv.OlaregServer,
		"go-containerregistry (tag fallback)": testenv.GGCRServer,
	}
	for name, start := range backends {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			backend := start(t)
			proxy := testenv.NewFaultProxy(t, backend, 0.2, 12)
			direct := remoteStore(t, backend, "app")
			image := pushImage(t, direct.Target(), "app", "v1")
			faulty := remoteStore(t, proxy.Host(), "app")

			acknowledged := map[digest.Digest][]byte{}
			var attachErrs, wrong int
			for i := range 20 {
				b := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, i)
				if _, err := faulty.Attach(ctx, image, b); err != nil {
					t.Logf("attach: %v", err)
					attachErrs++
					continue
				}
				acknowledged[b.Digest()] = b.Data
			}

			var readErrs int
			for range 10 {
				found, err := faulty.Discover(ctx, image, provoras.Query{})
				if err != nil {
					t.Logf("discover: %v", err)
					readErrs++
					continue
				}
				bundles, err := faulty.FetchAll(ctx, found)
				if err != nil {
					t.Logf("fetch: %v", err)
					readErrs++
					continue
				}
				for _, b := range bundles {
					if want, ok := acknowledged[b.Digest()]; ok && !bytes.Equal(want, b.Data) {
						wrong++
					}
					if _, ok := acknowledged[b.Digest()]; !ok && !attachedAtAll(b, attachErrs) {
						wrong++
					}
				}
			}

			var copyErrs int
			copied := false
			for i := range 5 {
				dst := remoteStore(t, proxy.Host(), fmt.Sprintf("copy%d", i))
				if _, err := provoras.Copy(ctx, faulty, "v1", dst, ""); err != nil {
					t.Logf("copy: %v", err)
					copyErrs++
					continue
				}
				copied = true
				proxy.SetRate(0)
				checkAllListed(ctx, t, remoteStore(t, backend, fmt.Sprintf("copy%d", i)), image, acknowledged, "copy")
				proxy.SetRate(0.2)
			}

			proxy.SetRate(0)
			checkAllListed(ctx, t, direct, image, acknowledged, "source")
			if wrong != 0 {
				t.Errorf("%d results were wrong without an error", wrong)
			}
			t.Logf("faults %v; attach: %d acknowledged, %d failed; discover+fetch failed %d of 10; copy failed %d of 5 (one succeeded: %v)",
				proxy.Counts(), len(acknowledged), attachErrs, readErrs, copyErrs, copied)
		})
	}
}

// attachedAtAll reports whether b may be one of the bundles whose Attach failed after the
// registry stored it (a 502 or reset after forwarding): those may be listed, and that is not
// wrong, as long as its bytes are the bundle's.
func attachedAtAll(b provenance.Bundle, failedAttaches int) bool {
	for i := range 20 {
		if bytes.Equal(storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, i).Data, b.Data) {
			return failedAttaches > 0
		}
	}
	return false
}

func checkAllListed(ctx context.Context, t *testing.T, s *provoras.Store, image ocispec.Descriptor, want map[digest.Digest][]byte, where string) {
	t.Helper()
	found, err := s.Discover(ctx, image, provoras.Query{})
	if err != nil {
		t.Fatalf("%s: Discover without faults: %v", where, err)
	}
	bundles, err := s.FetchAll(ctx, found)
	if err != nil {
		t.Fatalf("%s: FetchAll without faults: %v", where, err)
	}
	got := map[digest.Digest]bool{}
	for _, b := range bundles {
		got[b.Digest()] = true
	}
	lost := 0
	for d := range want {
		if !got[d] {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%s: %d of %d acknowledged attestations are not listed", where, lost, len(want))
	}
}

// TestRereadBrokenAnswers checks that a read answered with a reset, a cut body or a body of
// another digest is sent again, and that a registry that always answers so fails the read.
func TestRereadBrokenAnswers(t *testing.T) {
	for _, fault := range []testenv.Fault{testenv.FaultReset, testenv.FaultTruncated, testenv.FaultCorrupted} {
		t.Run(fault.String(), func(t *testing.T) {
			ctx := t.Context()
			backend := testenv.GGCRServer(t)
			direct := remoteStore(t, backend, "app")
			image := pushImage(t, direct.Target(), "app", "v1")
			b := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 1)
			desc, err := direct.Attach(ctx, image, b)
			if err != nil {
				t.Fatal(err)
			}

			proxy := testenv.NewFaultProxy(t, backend, 0, 1)
			proxy.FailNext(fault, 2)
			got, err := remoteStore(t, proxy.Host(), "app").Fetch(ctx, desc)
			if err != nil {
				t.Fatalf("Fetch after two broken answers: %v", err)
			}
			if !bytes.Equal(got.Data, b.Data) {
				t.Fatalf("Fetch returned other bytes")
			}

			proxy.FailNext(fault, 1000)
			_, err = remoteStore(t, proxy.Host(), "app").Fetch(ctx, desc)
			if err == nil {
				t.Fatalf("Fetch through a registry that always answers %s succeeded", fault)
			}
			if fault == testenv.FaultCorrupted && !errors.Is(err, provoras.ErrIntegrity) {
				t.Fatalf("Fetch of corrupted content: %v, want ErrIntegrity", err)
			}
		})
	}
}
