package oras_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/provkit/provkit/internal/storetest"
	"github.com/provkit/provkit/internal/testenv"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
)

// TestCopyKeepsEveryReferrer copies an image with eight attestations into registries, twenty
// times each: every copy must list all eight. olareg updates its referrers list with a
// read-modify-write, so referrers pushed in parallel overwrite each other unless the copy
// checks and re-lists them.
func TestCopyKeepsEveryReferrer(t *testing.T) {
	ctx := t.Context()
	src := remoteStore(t, testenv.GGCRServer(t), "copy/src")
	subject := pushImage(t, src.Target(), "app", "v1")
	const n = 8
	for i := range n {
		if _, err := src.Attach(ctx, subject, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, reg := range []struct {
		name string
		host func(testing.TB) string
	}{{"olareg", testenv.OlaregServer}, {"ggcr", testenv.GGCRServer}} {
		t.Run(reg.name, func(t *testing.T) {
			host := reg.host(t)
			short := 0
			const copies = 20
			for c := range copies {
				dst := remoteStore(t, host, "copy/dst"+strconv.Itoa(c))
				if _, err := provoras.Copy(ctx, src, "v1", dst, ""); err != nil {
					t.Fatalf("copy %d: %v", c, err)
				}
				refs, err := remoteStore(t, host, "copy/dst"+strconv.Itoa(c)).Referrers(ctx, subject, "")
				if err != nil {
					t.Fatal(err)
				}
				if len(refs) != n {
					short++
				}
			}
			if short > 0 {
				t.Errorf("%d of %d copies list fewer than %d referrers", short, copies, n)
			}
		})
	}
}

// TestCopyRetriesUploads copies through a proxy that answers every third upload request 503
// and every fifth 429, as an overloaded registry does: Copy must retry them and succeed.
func TestCopyRetriesUploads(t *testing.T) {
	ctx := t.Context()
	src := remoteStore(t, testenv.GGCRServer(t), "copy/src")
	subject := pushImage(t, src.Target(), "app", "v1")
	for i := range 4 {
		if _, err := src.Attach(ctx, subject, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, i)); err != nil {
			t.Fatal(err)
		}
	}
	u := &url.URL{Scheme: "http", Host: testenv.OlaregServer(t)}
	proxy := httputil.NewSingleHostReverseProxy(u)
	var uploads, refused atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/blobs/uploads") && r.Method != http.MethodGet {
			switch k := uploads.Add(1); {
			case k%3 == 0:
				refused.Add(1)
				http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"busy"}]}`, http.StatusServiceUnavailable)
				return
			case k%5 == 0:
				refused.Add(1)
				http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`, http.StatusTooManyRequests)
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	const copies = 2
	failed := 0
	for c := range copies {
		dst := remoteStore(t, host, "faults/dst"+strconv.Itoa(c))
		if _, err := provoras.Copy(ctx, src, "v1", dst, ""); err != nil {
			failed++
			t.Logf("copy %d: %v", c, err)
			continue
		}
		refs, err := dst.Referrers(ctx, subject, "")
		if err != nil || len(refs) != 4 {
			t.Errorf("copy %d lists %d referrers, %v; want 4", c, len(refs), err)
		}
	}
	t.Logf("%d upload requests refused, %d of %d copies failed", refused.Load(), failed, copies)
	if failed > 0 {
		t.Errorf("%d of %d copies failed on refused uploads", failed, copies)
	}
}
