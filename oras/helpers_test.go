package oras_test

import (
	"bytes"
	"context"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	provoras "github.com/provkit/provkit/oras"
	orasgo "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
)

// counter counts the HTTP requests a remote store sends, and keeps them as "METHOD kind ref"
// (kind is manifests, blobs or referrers) for tests that say which requests they expect.
type counter struct {
	next http.RoundTripper
	n    atomic.Int64
	mu   sync.Mutex
	log  []string
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	parts := strings.Split(strings.TrimSuffix(r.URL.Path, "/"), "/")
	req := r.Method + " " + r.URL.Path
	if len(parts) >= 2 {
		req = r.Method + " " + parts[len(parts)-2] + " " + parts[len(parts)-1]
	}
	c.mu.Lock()
	c.log = append(c.log, req)
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

// reset forgets the requests counted so far.
func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n.Store(0)
	c.log = nil
}

// requests returns the requests counted since the last reset.
func (c *counter) requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log...)
}

func newCounter() *counter { return &counter{next: http.DefaultTransport.(*http.Transport).Clone()} }

// remoteStore opens a plain-HTTP store on host/repo.
func remoteStore(t testing.TB, host, repo string, opts ...provoras.Option) *provoras.Store {
	t.Helper()
	s, err := provoras.NewRemote(host+"/"+repo, append([]provoras.Option{provoras.WithPlainHTTPUnsafe()}, opts...)...)
	if err != nil {
		t.Fatalf("NewRemote: %v", err)
	}
	return s
}

// pushImage pushes a small OCI image (one layer holding name) to target, tags it tag and
// returns its manifest descriptor.
func pushImage(t testing.TB, target orasgo.Target, name, tag string) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	layerData := []byte("layer of " + name)
	layer := content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayer, layerData)
	if err := pushBlob(ctx, target, layer, layerData); err != nil {
		t.Fatalf("push layer: %v", err)
	}
	desc, err := orasgo.PackManifest(ctx, target, orasgo.PackManifestVersion1_1, "application/vnd.example.image.v1",
		orasgo.PackManifestOptions{Layers: []ocispec.Descriptor{layer},
			ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2024-01-01T00:00:00Z", "name": name}})
	if err != nil {
		t.Fatalf("pack image manifest: %v", err)
	}
	if tag != "" {
		if err := target.Tag(ctx, desc, tag); err != nil {
			t.Fatalf("tag image: %v", err)
		}
	}
	return ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
}

func pushBlob(ctx context.Context, target orasgo.Target, desc ocispec.Descriptor, data []byte) error {
	ok, err := target.Exists(ctx, desc)
	if err != nil || ok {
		return err
	}
	return target.Push(ctx, desc, strings.NewReader(string(data)))
}

// tamperProxy puts a reverse proxy in front of the registry at host that flips a byte in every
// response for a digest marked bad, as a hostile registry or a man in the middle would. It
// returns the proxy's host:port and the function that marks a digest.
func tamperProxy(t testing.TB, host string) (string, func(digest.Digest)) {
	t.Helper()
	var bad sync.Map
	u := &url.URL{Scheme: "http", Host: host}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodGet || resp.StatusCode != http.StatusOK {
			return nil
		}
		i := strings.LastIndex(resp.Request.URL.Path, "/")
		if _, ok := bad.Load(resp.Request.URL.Path[i+1:]); !ok {
			return nil
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if len(data) > 0 {
			data[len(data)/2] ^= 0xff
		}
		resp.Body = io.NopCloser(bytes.NewReader(data))
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), func(d digest.Digest) { bad.Store(d.String(), true) }
}

// tamperTarget wraps a real oras-go target and corrupts what Fetch returns for digests marked
// bad. It stands in for a tampered memory store, whose contents nothing outside can edit.
type tamperTarget struct {
	orasgo.GraphTarget
	bad sync.Map
}

func (tt *tamperTarget) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	rc, err := tt.GraphTarget.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	if _, ok := tt.bad.Load(desc.Digest); !ok {
		return rc, nil
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	data[len(data)/2] ^= 0xff
	return io.NopCloser(bytes.NewReader(data)), nil
}

var specV2 = specs.Versioned{SchemaVersion: 2}
