package oras_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// hostileSubject is the image the hostile registries below are asked about.
var hostileSubject = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("hostile subject"), Size: 512}

// hostileRegistry starts an httptest server for a registry written for one test and returns its
// host:port. The handler sees every request except GET /v2/, which it answers 200.
func hostileRegistry(t testing.TB, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// writeIndex answers with an image index listing refs, as the referrers API does, and with a
// Link header when link is not empty.
func writeIndex(w http.ResponseWriter, refs []ocispec.Descriptor, link string) {
	data, _ := json.Marshal(ocispec.Index{Versioned: specV2, MediaType: ocispec.MediaTypeImageIndex, Manifests: refs})
	w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
	if link != "" {
		w.Header().Set("Link", "<"+link+`>; rel="next"`)
	}
	w.Write(data)
}

// hostileCtx bounds a test against a registry that might otherwise keep it for ever.
func hostileCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestHostileLinkOtherPath: a registry whose every page links to a next page on another path
// (not /referrers/) is stopped by the page budget: every page counts, whatever its path.
func TestHostileLinkOtherPath(t *testing.T) {
	var pages atomic.Int64
	host := hostileRegistry(t, func(w http.ResponseWriter, r *http.Request) {
		n := pages.Add(1)
		writeIndex(w, nil, fmt.Sprintf("/v2/repo/elsewhere/%d", n))
	})
	s := remoteStore(t, host, "repo", provoras.WithReferrersAPI(true))
	_, err := s.Referrers(hostileCtx(t), hostileSubject, "")
	var le *provoras.LimitError
	if !errors.As(err, &le) || !errors.Is(err, provenance.ErrTooLarge) {
		t.Fatalf("Referrers error = %v, want a *LimitError", err)
	}
	if got := pages.Load(); got > int64(le.Limit)+1 {
		t.Fatalf("registry served %d pages, budget %d", got, le.Limit)
	}
}

// victim is a registry that challenges for basic credentials and records whether anything
// reached it, and with which credentials.
type victim struct {
	host  string
	hits  atomic.Int64
	creds atomic.Value // string: the last Authorization header seen
}

func newVictim(t *testing.T) *victim {
	t.Helper()
	v := &victim{}
	v.creds.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.hits.Add(1)
		if a := r.Header.Get("Authorization"); a != "" {
			v.creds.Store(a)
			writeIndex(w, nil, "")
			return
		}
		w.Header().Set("Www-Authenticate", `Basic realm="victim"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	v.host = strings.TrimPrefix(srv.URL, "http://")
	return v
}

// TestHostileLinkOtherHost: a Link header naming another registry, over plain HTTP, must not
// make the client go there, let alone with that registry's credentials.
func TestHostileLinkOtherHost(t *testing.T) {
	v := newVictim(t)
	host := hostileRegistry(t, func(w http.ResponseWriter, r *http.Request) {
		writeIndex(w, nil, "http://"+v.host+"/v2/repo/referrers/"+hostileSubject.Digest.String())
	})
	creds := credentials.NewMemoryStore()
	if err := creds.Put(t.Context(), v.host, auth.Credential{Username: "victim", Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	s := remoteStore(t, host, "repo", provoras.WithReferrersAPI(true), provoras.WithCredentials(creds))
	_, err := s.Referrers(hostileCtx(t), hostileSubject, "")
	if !errors.Is(err, provoras.ErrRedirect) {
		t.Fatalf("Referrers error = %v, want ErrRedirect", err)
	}
	if n := v.hits.Load(); n != 0 {
		t.Fatalf("the other registry got %d requests (credentials %q)", n, v.creds.Load())
	}
}

// TestHostileRedirect: redirects are followed to the same host and scheme only with
// credentials; to another host only over HTTPS and without credentials; never to plain HTTP
// elsewhere.
func TestHostileRedirect(t *testing.T) {
	blob := []byte("bundle bytes behind a redirect")
	blobDesc := ocispec.Descriptor{MediaType: provenance.MediaTypeBundleV03, Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	var cdnAuth atomic.Value
	cdnAuth.Store("")
	cdn := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cdnAuth.Store(r.Header.Get("Authorization"))
		w.Write(blob)
	}))
	t.Cleanup(cdn.Close)
	v := newVictim(t)
	tests := []struct {
		name   string
		target func(host string) string
		ok     bool
	}{
		{"SameHost", func(host string) string { return "http://" + host + "/cdn/blob" }, true},
		{"OtherHostHTTPS", func(string) string { return cdn.URL + "/blob" }, true},
		{"OtherHostPlainHTTP", func(string) string { return "http://" + v.host + "/blob" }, false},
		{"OtherPortPlainHTTP", func(string) string { return "http://127.0.0.1:" + v.host[strings.LastIndex(v.host, ":")+1:] + "/blob" }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cdnAuth.Store("")
			var host string
			host = hostileRegistry(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") == "" {
					w.Header().Set("Www-Authenticate", `Basic realm="hostile"`)
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				if r.URL.Path == "/cdn/blob" {
					w.Write(blob)
					return
				}
				http.Redirect(w, r, tc.target(host), http.StatusTemporaryRedirect)
			})
			creds := credentials.NewMemoryStore()
			if err := creds.Put(t.Context(), host, auth.Credential{Username: "user", Password: "pass"}); err != nil {
				t.Fatal(err)
			}
			base := cdn.Client().Transport.(*http.Transport).Clone()
			s := remoteStore(t, host, "repo", provoras.WithCredentials(creds), provoras.WithTransport(base))
			before := v.hits.Load()
			b, err := s.Fetch(hostileCtx(t), blobDesc)
			if tc.ok {
				if err != nil || string(b.Data) != string(blob) {
					t.Fatalf("Fetch = %q, %v", b.Data, err)
				}
			} else if !errors.Is(err, provoras.ErrRedirect) {
				t.Fatalf("Fetch error = %v, want ErrRedirect", err)
			}
			if a := cdnAuth.Load().(string); a != "" {
				t.Fatalf("the other host got credentials %q", a)
			}
			if n := v.hits.Load() - before; n != 0 {
				t.Fatalf("the plain-HTTP host got %d requests", n)
			}
		})
	}
}

// TestPlainHTTPLoopbackOnly: WithPlainHTTPUnsafe is for loopback registries; any other host
// must be named.
func TestPlainHTTPLoopbackOnly(t *testing.T) {
	tests := []struct {
		repo string
		opt  provoras.Option
		ok   bool
	}{
		{"127.0.0.1:5000/x", provoras.WithPlainHTTPUnsafe(), true},
		{"[::1]:5000/x", provoras.WithPlainHTTPUnsafe(), true},
		{"localhost:5000/x", provoras.WithPlainHTTPUnsafe(), true},
		{"registry.example:5000/x", provoras.WithPlainHTTPUnsafe(), false},
		{"10.0.0.1/x", provoras.WithPlainHTTPUnsafe(), false},
		{"registry.example:5000/x", provoras.WithPlainHTTPUnsafe("registry.example:5000"), true},
		{"registry.example:5000/x", provoras.WithPlainHTTPUnsafe("other.example:5000"), false},
	}
	for _, tc := range tests {
		t.Run(tc.repo, func(t *testing.T) {
			_, err := provoras.NewRemote(tc.repo, tc.opt)
			if tc.ok && err != nil {
				t.Fatalf("NewRemote: %v", err)
			}
			if !tc.ok && !errors.Is(err, provoras.ErrInvalidOption) {
				t.Fatalf("NewRemote error = %v, want ErrInvalidOption", err)
			}
		})
	}
}

// TestHostileStall: a registry that stops sending, before the response headers or in the
// middle of a body, fails the call once the stall timeout passes, even with no deadline on
// the context.
func TestHostileStall(t *testing.T) {
	blob := []byte(strings.Repeat("x", 4096))
	blobDesc := ocispec.Descriptor{MediaType: provenance.MediaTypeBundleV03, Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	var release chan struct{}
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"BeforeHeaders", func(w http.ResponseWriter, r *http.Request) { <-release }},
		{"InBody", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(blob)))
			w.Write(blob[:100])
			w.(http.Flusher).Flush()
			<-release
		}},
	}
	tests = append(tests, struct {
		name    string
		handler http.HandlerFunc
	}{"AfterUpload", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			w.Header().Set("Location", "/v2/repo/blobs/uploads/session")
			w.WriteHeader(http.StatusAccepted)
		case http.MethodPut:
			io.Copy(io.Discard, r.Body)
			<-release
		default:
			http.NotFound(w, r)
		}
	}})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			release = make(chan struct{})
			host := hostileRegistry(t, tc.handler)
			t.Cleanup(func() { close(release) }) // before the server's Close, which waits for handlers
			s := remoteStore(t, host, "repo", provoras.WithStallTimeout(200*time.Millisecond))
			done := make(chan error, 1)
			go func() {
				if tc.name == "AfterUpload" {
					done <- s.Target().Push(context.Background(), blobDesc, bytes.NewReader(blob))
					return
				}
				_, err := s.Fetch(context.Background(), blobDesc)
				done <- err
			}()
			select {
			case err := <-done:
				var se *provoras.StallError
				if !errors.Is(err, provoras.ErrStalled) || !errors.As(err, &se) {
					t.Fatalf("Fetch error = %v, want a *StallError", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("Fetch still waiting on a stalled registry after 15 s")
			}
		})
	}
}

// TestHostileContentLength: a Content-Length that differs from the descriptor's size is an
// integrity failure.
func TestHostileContentLength(t *testing.T) {
	blob := []byte("the real bundle bytes")
	blobDesc := ocispec.Descriptor{MediaType: provenance.MediaTypeBundleV03, Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	host := hostileRegistry(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(blob)-3))
		w.Write(blob[:len(blob)-3])
	})
	s := remoteStore(t, host, "repo")
	_, err := s.Fetch(hostileCtx(t), blobDesc)
	var ie *provoras.IntegrityError
	if !errors.Is(err, provoras.ErrIntegrity) || !errors.As(err, &ie) {
		t.Fatalf("Fetch error = %v, want an *IntegrityError", err)
	}
}

// TestHostileListingTooLarge: a referrers listing over provenance.MaxManifestBytes fails with
// a *LimitError, not a decoding error.
func TestHostileListingTooLarge(t *testing.T) {
	pad := base64.StdEncoding.EncodeToString(make([]byte, provenance.MaxManifestBytes))
	host := hostileRegistry(t, func(w http.ResponseWriter, r *http.Request) {
		writeIndex(w, []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("m"), Size: 10,
			Annotations: map[string]string{"pad": pad}}}, "")
	})
	s := remoteStore(t, host, "repo", provoras.WithReferrersAPI(true))
	_, err := s.Referrers(hostileCtx(t), hostileSubject, "")
	var le *provoras.LimitError
	if !errors.As(err, &le) || !errors.Is(err, provenance.ErrTooLarge) {
		t.Fatalf("Referrers error = %v, want a *LimitError", err)
	}
}

// TestFetchAllSharedBlob: many attestations naming one bundle download it once.
func TestFetchAllSharedBlob(t *testing.T) {
	a := newAmplifier(t, 8, 1, 1<<20)
	s := remoteStore(t, a.host, "repo", provoras.WithReferrersAPI(true))
	as, err := s.Discover(hostileCtx(t), hostileSubject, provoras.Query{SkipNested: true, SkipLegacyTags: true})
	if err != nil || len(as) != 8 {
		t.Fatalf("Discover = %d, %v", len(as), err)
	}
	bundles, err := s.FetchAll(hostileCtx(t), as)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bundles {
		if b.Descriptor().Digest != a.blobs[0].Digest {
			t.Fatalf("bundle %s, want %s", b.Descriptor().Digest, a.blobs[0].Digest)
		}
	}
	if n := a.blobGET.Load(); n != 1 {
		t.Fatalf("%d blob downloads, want 1", n)
	}
}

// TestFetchAllBudget: declared sizes over the byte budget fail before anything is downloaded.
func TestFetchAllBudget(t *testing.T) {
	a := newAmplifier(t, 8, 8, 1<<20)
	s := remoteStore(t, a.host, "repo", provoras.WithReferrersAPI(true), provoras.WithMaxFetchBytes(4<<20))
	as, err := s.Discover(hostileCtx(t), hostileSubject, provoras.Query{SkipNested: true, SkipLegacyTags: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.FetchAll(hostileCtx(t), as)
	var se *provenance.SizeError
	if !errors.As(err, &se) || !errors.Is(err, provenance.ErrTooLarge) {
		t.Fatalf("FetchAll error = %v, want a *provenance.SizeError", err)
	}
	if n := a.blobGET.Load(); n != 0 {
		t.Fatalf("%d blob downloads before failing, want 0", n)
	}
	if _, err := s.FetchAll(hostileCtx(t), as[:3]); err != nil {
		t.Fatalf("FetchAll within the budget: %v", err)
	}
}
