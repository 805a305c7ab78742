package oras

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
)

// A remote Store's HTTP stack, from the top:
//
//	auth.Client (oras-go: picks credentials by the repository's host, fetches tokens)
//	  http.Client (follows redirects)
//	    guard      every request and response, redirect hops and token requests included:
//	               hosts and schemes, Link headers, listing budgets, Content-Length
//	      retry    oras-go's retry transport: 429, 408, 5xx, dial timeouts
//	        stall  per attempt: how long the registry may send nothing
//	          base the caller's transport, or a clone of http.DefaultTransport with timeouts
//
// The guard sits under the http.Client so it sees each hop of a redirect as its own request.

// origin is a scheme and a host with its port made explicit, for comparing URLs.
type origin struct{ scheme, host string }

func originOf(u *url.URL) origin {
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = "443"
		if scheme == "http" {
			port = "80"
		}
	}
	return origin{scheme: scheme, host: net.JoinHostPort(host, port)}
}

// guard enforces where a remote Store's requests may go and what it accepts back.
//
//   - Plain HTTP goes only to hosts allowed it (loopback with WithPlainHTTPUnsafe, or the
//     hosts named there); everything else must be HTTPS, so no redirect, Link or token realm
//     can downgrade a connection.
//   - A redirect hop to another host (a blob CDN) is sent without Authorization and Cookie
//     headers: credentials only ever go to the registry host they were chosen for. Go's own
//     client keeps them for the same host name on another port, and for subdomains.
//   - A Link header (the next page of a listing) must name the registry's own scheme and host;
//     a response with any other is refused, before oras-go can follow it, because oras-go's
//     auth.Client would pick credentials for whatever host the next request goes to.
//   - Within a listing, every request counts against the page budget, whatever its path, and
//     every response body against the listing size limit.
//   - Within a fetch, a Content-Length other than the descriptor's size is an integrity failure.
type guard struct {
	origin origin
	plain  func(host string) bool
	next   http.RoundTripper
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	b, listing := ctx.Value(pageBudgetKey{}).(*pageBudget)
	if listing && b.left.Add(-1) < 0 {
		return nil, &LimitError{What: "requests of one referrers listing", Limit: b.limit}
	}
	to := originOf(req.URL)
	switch to.scheme {
	case "https":
	case "http":
		if !g.plain(req.URL.Host) {
			return nil, &RedirectError{URL: req.URL.Redacted(), Reason: "plain HTTP is allowed to loopback and named hosts only"}
		}
	default:
		return nil, &RedirectError{URL: req.URL.Redacted(), Reason: "scheme is neither https nor http"}
	}
	if to.host != g.origin.host && req.Response != nil {
		req = req.Clone(ctx)
		req.Header.Del("Authorization")
		req.Header.Del("Cookie")
	}
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if link := resp.Header.Get("Link"); link != "" {
		if u, ok := parseNextLink(req.URL, link); ok && originOf(u) != g.origin {
			resp.Body.Close()
			return nil, &RedirectError{URL: u.Redacted(), Reason: "Link header names another host or scheme than the registry's"}
		}
	}
	if listing {
		const limit = provenance.MaxManifestBytes
		if resp.ContentLength > limit {
			resp.Body.Close()
			return nil, &LimitError{What: "bytes of the referrers listing page " + req.URL.Redacted(), Limit: limit}
		}
		resp.Body = &cappedBody{ReadCloser: resp.Body, limit: limit, what: "bytes of the referrers listing page " + req.URL.Redacted()}
	}
	if want, ok := ctx.Value(expectKey{}).(*ocispec.Descriptor); ok && req.Method == http.MethodGet &&
		resp.StatusCode == http.StatusOK && resp.ContentLength >= 0 && resp.ContentLength != want.Size &&
		(strings.HasSuffix(req.URL.Path, "/"+want.Digest.String()) || req.Response != nil) {
		resp.Body.Close()
		return nil, &IntegrityError{Descriptor: *want, Err: &contentLengthError{got: resp.ContentLength}}
	}
	return resp, nil
}

// parseNextLink resolves a Link header value as oras-go reads it (the URL between the first
// '<' and the first '>', relative to the request), and reports false when oras-go would reject
// it anyway.
func parseNextLink(base *url.URL, link string) (*url.URL, bool) {
	if link == "" || link[0] != '<' {
		return nil, false
	}
	i := strings.IndexByte(link, '>')
	if i < 0 {
		return nil, false
	}
	u, err := base.Parse(link[1:i])
	if err != nil {
		return nil, false
	}
	return u, true
}

// contentLengthError is the cause of an IntegrityError for a response whose declared length
// differs from the descriptor's size.
type contentLengthError struct{ got int64 }

func (e *contentLengthError) Error() string {
	return "registry declared Content-Length " + strconv.FormatInt(e.got, 10)
}

// cappedBody fails a read that would take a response body past limit bytes with a
// *LimitError, rather than let a reader above see a truncated document.
type cappedBody struct {
	io.ReadCloser
	limit, read int64
	what        string
}

func (c *cappedBody) Read(p []byte) (int, error) {
	if c.read >= c.limit {
		// One byte more than the limit tells a body at the limit from one over it.
		var one [1]byte
		n, err := c.ReadCloser.Read(one[:])
		if n > 0 {
			return 0, &LimitError{What: c.what, Limit: int(c.limit)}
		}
		return 0, err
	}
	if int64(len(p)) > c.limit-c.read {
		p = p[:c.limit-c.read]
	}
	n, err := c.ReadCloser.Read(p)
	c.read += int64(n)
	return n, err
}

type expectKey struct{}

// expecting marks ctx as the fetch of desc, so the guard checks the declared length.
func expecting(ctx context.Context, desc ocispec.Descriptor) context.Context {
	return context.WithValue(ctx, expectKey{}, &desc)
}

// isLoopback reports whether host (a host name or IP address, with or without port) is
// "localhost" or a loopback address.
func isLoopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// stall fails an attempt when the registry sends nothing for d: while waiting for the response
// headers once the request is sent, and while a read of the response body waits.
type stall struct {
	d    time.Duration
	next http.RoundTripper
}

// stallTimer arms a timer only while the client waits on the registry.
type stallTimer struct {
	mu     sync.Mutex
	t      *time.Timer
	d      time.Duration
	done   bool
	fired  atomic.Pointer[StallError]
	cancel context.CancelCauseFunc
}

func (s *stallTimer) arm(waiting, u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	e := &StallError{URL: u, Waiting: waiting, After: s.d}
	if s.t == nil {
		s.t = time.AfterFunc(s.d, func() { s.fire(e) })
		return
	}
	s.t.Stop()
	s.t = time.AfterFunc(s.d, func() { s.fire(e) })
}

func (s *stallTimer) fire(e *StallError) {
	s.fired.CompareAndSwap(nil, e)
	s.cancel(e)
}

func (s *stallTimer) disarm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.t != nil {
		s.t.Stop()
	}
}

func (s *stallTimer) stop() {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	s.disarm()
}

// err returns the StallError when the timer fired, else err.
func (s *stallTimer) err(err error) error {
	if e := s.fired.Load(); e != nil {
		return e
	}
	return err
}

func (st *stall) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	t := &stallTimer{d: st.d, cancel: cancel}
	u := req.URL.Redacted()
	req = req.WithContext(ctx)
	if req.Body == nil || req.Body == http.NoBody {
		t.arm("response headers", u)
	} else {
		req.Body = &sentBody{ReadCloser: req.Body, left: req.ContentLength, sent: func() { t.arm("response headers", u) }}
	}
	resp, err := st.next.RoundTrip(req)
	t.disarm()
	if err != nil {
		t.stop()
		cancel(nil)
		return nil, t.err(err)
	}
	resp.Body = &stallBody{ReadCloser: resp.Body, t: t, u: u}
	return resp, nil
}

// sentBody calls sent once the transport has read the whole request body: at EOF, or once the
// declared length is read (a transport may stop there without reading EOF).
type sentBody struct {
	io.ReadCloser
	left int64 // bytes still to send when the length is known, else -1 or 0
	once sync.Once
	sent func()
}

func (b *sentBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.left > 0 {
		b.left -= int64(n)
		if b.left <= 0 {
			b.once.Do(b.sent)
		}
	}
	if errors.Is(err, io.EOF) {
		b.once.Do(b.sent)
	}
	return n, err
}

type stallBody struct {
	io.ReadCloser
	t *stallTimer
	u string
}

func (b *stallBody) Read(p []byte) (int, error) {
	b.t.arm("response body", b.u)
	n, err := b.ReadCloser.Read(p)
	b.t.disarm()
	if err != nil {
		err = b.t.err(err)
	}
	return n, err
}

func (b *stallBody) Close() error {
	b.t.stop()
	err := b.ReadCloser.Close()
	b.t.cancel(nil)
	return err
}

// defaultTransport returns the transport a remote Store uses when the caller gives none: a
// clone of http.DefaultTransport with every phase of a connection bounded.
func defaultTransport(stallTimeout time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	// A backstop: the stall transport above reports the same wait first, as a *StallError.
	t.ResponseHeaderTimeout = 2 * stallTimeout
	t.IdleConnTimeout = 90 * time.Second
	t.ExpectContinueTimeout = time.Second
	return t
}

// rereadAttempts bounds how often reread sends one request.
const rereadAttempts = 3

// reread sends a request again when what came back is broken rather than refused: the
// connection reset, a body shorter than its Content-Length, or, for a request naming content by
// digest (…/blobs/DIGEST, …/manifests/DIGEST), a body of another digest. It does so for the
// requests a registry treats as idempotent: reads (GET, HEAD), manifest pushes (PUT …/manifests/…,
// the same bytes under the same name) and the start of an upload session (POST …/blobs/uploads/,
// which only opens a session), up to rereadAttempts times. It reads answers up to
// provenance.MaxManifestBytes (manifests, listings, bundles) whole before returning them, so a
// broken body is seen and asked for again here; larger bodies pass through as they come, checked
// by the caller. oras-go's retry transport below it retries 429 and 5xx answers. When every
// attempt fails, the last answer or error is returned unchanged, and the caller's digest check
// still reports it.
type reread struct{ next http.RoundTripper }

func (r *reread) RoundTrip(req *http.Request) (*http.Response, error) {
	if !idempotent(req) {
		return r.next.RoundTrip(req)
	}
	want := addressed(req.URL.Path)
	var (
		lastErr  error
		lastResp *http.Response
	)
	for attempt := 0; attempt < rereadAttempts; attempt++ {
		if attempt > 0 {
			if err := req.Context().Err(); err != nil {
				break
			}
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					break
				}
				req = req.Clone(req.Context())
				req.Body = body
			}
		}
		resp, err := r.next.RoundTrip(req)
		if err != nil {
			if !transient(err) {
				return nil, err
			}
			lastErr, lastResp = err, nil
			continue
		}
		if req.Method != http.MethodGet || resp.ContentLength > provenance.MaxManifestBytes {
			return resp, nil
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, provenance.MaxManifestBytes+1))
		if err != nil {
			resp.Body.Close()
			if !transient(err) {
				return nil, err
			}
			lastErr, lastResp = err, nil
			continue
		}
		rest := resp.Body
		whole := int64(len(data)) <= provenance.MaxManifestBytes
		if whole {
			rest.Close()
			rest = http.NoBody
		}
		resp.Body = &joinedBody{Reader: io.MultiReader(bytes.NewReader(data), rest), closer: rest}
		if whole && resp.StatusCode == http.StatusOK && want != "" && want.Algorithm().FromBytes(data) != want {
			lastErr, lastResp = nil, resp
			continue
		}
		return resp, nil
	}
	if lastResp != nil {
		return lastResp, nil
	}
	if lastErr == nil {
		lastErr = req.Context().Err()
	}
	return nil, lastErr
}

// addressed returns the digest a path names content by (…/blobs/DIGEST or …/manifests/DIGEST),
// or "" for every other path, listings by subject digest among them.
func addressed(path string) digest.Digest {
	dir, last := path, ""
	if i := strings.LastIndex(path, "/"); i >= 0 {
		dir, last = path[:i], path[i+1:]
	}
	if !strings.HasSuffix(dir, "/blobs") && !strings.HasSuffix(dir, "/manifests") {
		return ""
	}
	d, err := digest.Parse(last)
	if err != nil {
		return ""
	}
	return d
}

// idempotent reports whether sending req twice does what sending it once does.
func idempotent(req *http.Request) bool {
	hasBody := req.Body != nil && req.Body != http.NoBody
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		return !hasBody
	case http.MethodPut:
		return strings.Contains(req.URL.Path, "/manifests/") && (!hasBody || req.GetBody != nil)
	case http.MethodPost:
		return strings.HasSuffix(req.URL.Path, "/blobs/uploads/") && !hasBody
	}
	return false
}

// transient reports whether err is the connection failing, as opposed to the caller's context
// ending, a stall, or one of provkit's own refusals, none of which a second try changes.
func transient(err error) bool {
	var stallErr *StallError
	var limitErr *LimitError
	var redirectErr *RedirectError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &stallErr), errors.As(err, &limitErr), errors.As(err, &redirectErr):
		return false
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}

type joinedBody struct {
	io.Reader
	closer io.Closer
}

func (b *joinedBody) Close() error { return b.closer.Close() }
