package oras_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/provkit/provkit/internal/storetest"
	"github.com/provkit/provkit/internal/testenv"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
)

// flakyProxy fronts the registry at host and answers the first attempt of every request
// (method and path, all upload sessions counting as one path) 503, as a registry under load does. It returns its host:port and the
// requests it failed.
func flakyProxy(t *testing.T, host string) (string, func() []string) {
	t.Helper()
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: host})
	var mu sync.Mutex
	seen := map[string]bool{}
	var failed []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		if i := strings.Index(key, "/blobs/uploads/"); i >= 0 {
			key = key[:i] + "/blobs/uploads/" // every upload session is one request to fail once
		}
		mu.Lock()
		first := !seen[key] && r.URL.Path != "/v2/"
		seen[key] = true
		if first {
			failed = append(failed, key)
		}
		mu.Unlock()
		if first {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), failed...)
	}
}

// TestRetriesEveryRequest: blob uploads and downloads, manifest pushes and listings are all
// retried after a 503, not only some of them.
func TestRetriesEveryRequest(t *testing.T) {
	host, failed := flakyProxy(t, testenv.OlaregServer(t))
	s := remoteStore(t, host, "flaky", provoras.WithReferrersAPI(true))
	ctx := hostileCtx(t)
	subject := pushImage(t, s.Target(), "img", "v1")
	b := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 7)
	if _, err := s.Attach(ctx, subject, b); err != nil {
		t.Fatalf("Attach: %v", err)
	}
	as, err := s.Discover(ctx, subject, provoras.Query{SkipLegacyTags: true})
	if err != nil || len(as) != 1 {
		t.Fatalf("Discover = %d, %v", len(as), err)
	}
	if _, err := s.FetchAll(ctx, as); err != nil {
		t.Fatalf("FetchAll: %v", err)
	}
	kinds := map[string]bool{}
	for _, f := range failed() {
		method, p, _ := strings.Cut(f, " ")
		switch {
		case strings.Contains(p, "/blobs/uploads/"):
			kinds[method+" upload"] = true
		case strings.Contains(p, "/blobs/"):
			kinds[method+" blob"] = true
		case strings.Contains(p, "/manifests/"):
			kinds[method+" manifest"] = true
		}
	}
	for _, k := range []string{"POST upload", "PUT upload", "GET blob", "PUT manifest", "GET manifest"} {
		if !kinds[k] {
			t.Errorf("no %s request was failed and retried (failed: %v)", k, failed())
		}
	}
}

// TestRetriesFileUpload: a streamed file upload, which oras-go's retry transport cannot send
// again, is uploaded again by PushFile after a 503.
func TestRetriesFileUpload(t *testing.T) {
	host, failed := flakyProxy(t, testenv.OlaregServer(t))
	s := remoteStore(t, host, "flaky")
	path := filepath.Join(t.TempDir(), "app.bin")
	if err := os.WriteFile(path, []byte(strings.Repeat("binary ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, file, err := s.PushFile(hostileCtx(t), path, "app")
	if err != nil {
		t.Fatalf("PushFile: %v", err)
	}
	if !slices.ContainsFunc(failed(), func(f string) bool { return strings.HasPrefix(f, "PUT ") && strings.Contains(f, "/blobs/uploads/") }) {
		t.Fatalf("no upload was failed (failed: %v)", failed())
	}
	got, err := s.Fetch(hostileCtx(t), file)
	if err != nil || string(got.Data) != strings.Repeat("binary ", 1000) {
		t.Fatalf("Fetch of the pushed file = %d bytes, %v", len(got.Data), err)
	}
}
