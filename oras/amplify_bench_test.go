package oras_test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
)

// patternReader produces size bytes that depend on seed, without holding them.
type patternReader struct {
	block []byte
	left  int64
	off   int
}

func newPattern(seed int, size int64) *patternReader {
	block := make([]byte, 64<<10)
	for i := 0; i < len(block); i += sha256.Size {
		h := sha256.Sum256([]byte(strconv.Itoa(seed*1_000_003 + i)))
		copy(block[i:], h[:])
	}
	return &patternReader{block: block, left: size}
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.block[p.off:])
	if int64(n) > p.left {
		n = int(p.left)
	}
	p.left -= int64(n)
	p.off = (p.off + n) % len(p.block)
	return n, nil
}

// amplifier is a registry listing many small attestation manifests whose bundle hints name
// large blobs, which it serves from a generator rather than memory so that only the client's
// heap grows. blobs[i] is named by the listing entries i, i+len(blobs), ...
type amplifier struct {
	host    string
	blobs   []ocispec.Descriptor
	seeds   map[digest.Digest]int
	blobGET atomic.Int64
}

func newAmplifier(tb testing.TB, entries, distinct int, size int64) *amplifier {
	tb.Helper()
	a := &amplifier{seeds: map[digest.Digest]int{}}
	for i := range distinct {
		d := digest.SHA256.Digester()
		io.Copy(d.Hash(), newPattern(i, size))
		desc := ocispec.Descriptor{MediaType: provenance.MediaTypeBundleV03, Digest: d.Digest(), Size: size}
		a.blobs = append(a.blobs, desc)
		a.seeds[desc.Digest] = i
	}
	var refs []ocispec.Descriptor
	for i := range entries {
		b := a.blobs[i%distinct]
		refs = append(refs, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest,
			Digest: digest.FromString(fmt.Sprint("manifest ", i)), Size: 400, ArtifactType: provenance.MediaTypeBundleV03,
			Annotations: map[string]string{provoras.AnnotationBundleDigest: b.Digest.String(),
				provoras.AnnotationBundleSize:            strconv.FormatInt(b.Size, 10),
				provenance.AnnotationBundlePredicateType: provenance.PredicateSLSAProvenanceV1}})
	}
	a.host = hostileRegistry(tb, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/referrers/"):
			writeIndex(w, refs, "")
		case strings.Contains(r.URL.Path, "/blobs/"):
			d := digest.Digest(r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:])
			seed, ok := a.seeds[d]
			if !ok {
				http.NotFound(w, r)
				return
			}
			a.blobGET.Add(1)
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
			io.Copy(w, newPattern(seed, size))
		default:
			http.NotFound(w, r)
		}
	})
	return a
}

// peakHeap samples the live heap every millisecond while fn runs and returns the highest
// sample above the heap before fn, in MiB.
func peakHeap(fn func()) float64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	fn()
	if v := read(); v > peak.Load() {
		peak.Store(v)
	}
	close(stop)
	wg.Wait()
	if peak.Load() < base {
		return 0
	}
	return float64(peak.Load()-base) / (1 << 20)
}

// BenchmarkFetchAllAmplification discovers and fetches the attestations of an amplifying
// registry and reports the peak heap above the starting heap (peak-MiB) and the bundle blobs
// downloaded per operation (blob-GETs/op).
//   - SharedBlob: 8 manifests whose hints all name one 32 MiB bundle.
//   - DistinctBlobs: 8 manifests each naming a 60 MiB bundle of its own, 480 MiB in all.
func BenchmarkFetchAllAmplification(b *testing.B) {
	for _, bc := range []struct {
		name              string
		entries, distinct int
		size              int64
	}{
		{"SharedBlob", 8, 1, 32 << 20},
		{"DistinctBlobs", 8, 8, 60 << 20},
	} {
		b.Run(bc.name, func(b *testing.B) {
			a := newAmplifier(b, bc.entries, bc.distinct, bc.size)
			s := remoteStore(b, a.host, "repo", provoras.WithReferrersAPI(true))
			b.ReportAllocs()
			var peak float64
			var err error
			for b.Loop() {
				peak = max(peak, peakHeap(func() {
					var as []provoras.Attestation
					as, err = s.Discover(b.Context(), hostileSubject, provoras.Query{SkipNested: true, SkipLegacyTags: true})
					if err != nil {
						b.Fatal(err)
					}
					var bundles []provenance.Bundle
					bundles, err = s.FetchAll(b.Context(), as)
					runtime.KeepAlive(bundles)
				}))
			}
			b.ReportMetric(peak, "peak-MiB")
			b.ReportMetric(float64(a.blobGET.Load())/float64(b.N), "blob-GETs/op")
			b.Logf("FetchAll error: %v", err)
		})
	}
}
