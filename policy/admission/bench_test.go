package admission_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// BenchmarkAdmit is one review of a Pod with one attested image on olareg, through ServeHTTP:
// resolve, discover, fetch, verify and decide. p50-ms and p99-ms are the latencies' median
// and 99th percentile.
func BenchmarkAdmit(b *testing.B) {
	k := newKeys(b)
	reg := newRegistry(b, k)
	h := newHandler(b, checker(b, k, "prod"))
	body := podReview(b, "prod", reg.attested)
	if resp := post(b, h, body); !resp.Allowed {
		b.Fatal(message(resp))
	}
	var took []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
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
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}
