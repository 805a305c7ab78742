package admission_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy/admission"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/verify"
)

// BenchmarkAdmit is one review of a Pod with one attested image on olareg, through ServeHTTP:
// resolve, discover, fetch, verify and decide ("review"), beside the one-call verify of the same
// image through a store the same opener makes ("check"), so that the two compare in one run.
// p50-ms and p99-ms are the latencies' median and 99th percentile.
func BenchmarkAdmit(b *testing.B) {
	k := newKeys(b)
	reg := newRegistry(b, k)
	c := checker(b, k, "prod")
	h := newHandler(b, c)
	body := podReview(b, "prod", reg.attested)
	if resp := post(b, h, body); !resp.Allowed {
		b.Fatal(message(resp))
	}
	percentiles := func(b *testing.B, took []time.Duration) {
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	}
	b.Run("review", func(b *testing.B) {
		var took []time.Duration
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, req)
			took = append(took, time.Since(start))
			if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"allowed":true`)) {
				b.Fatalf("%d %s", rec.Code, rec.Body.String())
			}
		}
		percentiles(b, took)
	})
	b.Run("check", func(b *testing.B) {
		open := admission.RemoteOpener(oras.WithPlainHTTPUnsafe())
		ref, err := oras.ParseRemoteReference(reg.attested)
		if err != nil {
			b.Fatal(err)
		}
		var took []time.Duration
		b.ReportAllocs()
		for b.Loop() {
			start := time.Now()
			store, err := open(b.Context(), reg.repo)
			if err != nil {
				b.Fatal(err)
			}
			desc, err := store.Resolve(b.Context(), ref.Digest.String())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Check(b.Context(), store, desc); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(start))
		}
		percentiles(b, took)
	})
}

// BenchmarkAdmitCached is the same review with the Checker's decisions kept in a gate.Cache:
// "admit" the decision alone (Handler.Admit on the decoded request), "serial" one review at a time (p50 and p99 of each), "concurrent" 100 reviews in flight at
// once (reviews/s, and p50 and p99 of each review's latency).
func BenchmarkAdmitCached(b *testing.B) {
	k := newKeys(b)
	reg := newRegistry(b, k)
	cache, err := gate.NewCache(10000, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	c, err := gate.New(k.verifier, verify.KeyIDs("release"), gate.WithPolicy(releasePolicy(b)), gate.WithEnvironment("prod"), gate.WithCache(cache))
	if err != nil {
		b.Fatal(err)
	}
	h := newHandler(b, c)
	body := podReview(b, "prod", reg.attested)
	if resp := post(b, h, body); !resp.Allowed {
		b.Fatal(message(resp))
	}
	serve := func() time.Duration {
		req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		took := time.Since(start)
		if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"allowed":true`)) {
			b.Errorf("%d %s", rec.Code, rec.Body.String())
		}
		return took
	}
	percentiles := func(b *testing.B, took []time.Duration) {
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Nanoseconds())/1000, "p50-µs")
		b.ReportMetric(float64(took[len(took)*99/100].Nanoseconds())/1000, "p99-µs")
	}
	b.Run("admit", func(b *testing.B) {
		// Handler.Admit on a decoded request: the decision for a Pod, without HTTP and without
		// decoding the AdmissionReview envelope.
		var sent admissionv1.AdmissionReview
		if err := json.Unmarshal(body, &sent); err != nil {
			b.Fatal(err)
		}
		var took []time.Duration
		b.ReportAllocs()
		for b.Loop() {
			start := time.Now()
			resp := h.Admit(b.Context(), sent.Request)
			took = append(took, time.Since(start))
			if !resp.Allowed {
				b.Fatal(message(resp))
			}
		}
		percentiles(b, took)
	})
	b.Run("serial", func(b *testing.B) {
		var took []time.Duration
		b.ReportAllocs()
		for b.Loop() {
			took = append(took, serve())
		}
		percentiles(b, took)
	})
	b.Run("concurrent", func(b *testing.B) {
		const inFlight = 100
		var mu sync.Mutex
		var took []time.Duration
		b.ReportAllocs()
		b.SetParallelism(inFlight / runtime.GOMAXPROCS(0))
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			var mine []time.Duration
			for pb.Next() {
				mine = append(mine, serve())
			}
			mu.Lock()
			took = append(took, mine...)
			mu.Unlock()
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reviews/s")
		percentiles(b, took)
	})
	if s := cache.Stats(); s.Misses != 1 {
		b.Fatalf("cache %+v: every review after the first should be answered from it", s)
	}
}
