package dashboard

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/verify/lineage/index"
)

//go:embed assets
var assets embed.FS

// Limits on what a request may ask for.
const (
	// MaxQueryBytes is the longest query string served.
	MaxQueryBytes = 4 << 10
	// MaxValueBytes is the longest value of one query parameter.
	MaxValueBytes = 1 << 10
	// MaxPageNumber is the highest page number of a listing.
	MaxPageNumber = 10_000
	// PageSize is how many rows a listing shows per page.
	PageSize = 50
)

// contentSecurityPolicy allows the page's own stylesheet, its own images and data: images
// (the lineage graph), forms sent to itself, and nothing else: no script, no frame, no
// connection, no font or style from elsewhere.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; " +
	"base-uri 'none'; frame-ancestors 'none'"

// Handler serves the dashboard: server-rendered HTML pages over an index, read-only. A Handler
// is safe for concurrent use.
type Handler struct {
	ix         *index.Index
	dot        string
	logger     *slog.Logger
	now        func() time.Time
	entitled   func(signer string) bool
	title      string
	maxNodes   int
	loginValue []byte // HMAC of the bearer token, the value of the login cookie; nil without a token
	token      []byte
	pages      map[string]*template.Template
	style      []byte
	styleETag  string
	mux        *http.ServeMux
	timeout    time.Duration
	cached     int
	pictures   *pictureCache
}

// Option configures New.
type Option func(*Handler) error

// WithDot sets the path of Graphviz's dot program; the default is "dot", looked up on PATH
// when New runs. Without dot, lineage pages list the graph's nodes and say why it is not
// drawn.
func WithDot(path string) Option {
	return func(h *Handler) error {
		if path == "" {
			return &OptionError{Option: "WithDot", Reason: "empty path"}
		}
		h.dot = path
		return nil
	}
}

// WithLogger reports failures to serve a page (an index or Graphviz error) to l. The
// dashboard is silent by default.
func WithLogger(l *slog.Logger) Option {
	return func(h *Handler) error {
		h.logger = l
		return nil
	}
}

// WithClock sets the clock the dashboard judges lifecycle statuses by (which status is in
// effect now); the default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(h *Handler) error {
		if now == nil {
			return &OptionError{Option: "WithClock", Reason: "nil clock"}
		}
		h.now = now
		return nil
	}
}

// WithStatusSigners names who may set an artifact's lifecycle status, by signer label (see
// lineage.SignerLabel: "key:ID", or "SAN (ISSUER)"). Without it, a status signed by any
// signer the index verified counts, and the page says who signed it.
func WithStatusSigners(labels ...string) Option {
	return func(h *Handler) error {
		if len(labels) == 0 {
			return &OptionError{Option: "WithStatusSigners", Reason: "no signers"}
		}
		allowed := map[string]bool{}
		for _, l := range labels {
			allowed[l] = true
		}
		h.entitled = func(s string) bool { return allowed[s] }
		return nil
	}
}

// WithTitle sets the name shown at the top of every page; the default is "Provenance".
func WithTitle(title string) Option {
	return func(h *Handler) error {
		h.title = title
		return nil
	}
}

// WithMaxGraphNodes sets the most nodes (artifacts and steps) a lineage page draws; a larger
// lineage is listed, not drawn. The default is 2,000.
func WithMaxGraphNodes(n int) Option {
	return func(h *Handler) error {
		if n < 1 {
			return &OptionError{Option: "WithMaxGraphNodes", Reason: "must be at least 1"}
		}
		h.maxNodes = n
		return nil
	}
}

// WithBearerToken requires every request to carry token: as "Authorization: Bearer TOKEN", or
// the login cookie a browser gets by opening any page once with "?token=TOKEN" (HttpOnly,
// SameSite=Strict, Secure over TLS; the page then reloads without the token in its address).
// Tokens are compared in constant time. A token shorter than 16 bytes is refused.
func WithBearerToken(token string) Option {
	return func(h *Handler) error {
		if len(token) < 16 {
			return &OptionError{Option: "WithBearerToken", Reason: "a token needs at least 16 bytes"}
		}
		h.token = []byte(token)
		m := hmac.New(sha256.New, h.token)
		m.Write([]byte("provkit dashboard login"))
		h.loginValue = []byte(hex.EncodeToString(m.Sum(nil)))
		return nil
	}
}

// WithGraphCache keeps the latest n drawn lineage graphs, so that a graph shown again is not
// drawn again; 0 keeps none. A cached drawing is found by the exact text Graphviz was given,
// so a lineage that changed is drawn anew. The default is 32.
func WithGraphCache(n int) Option {
	return func(h *Handler) error {
		if n < 0 {
			return &OptionError{Option: "WithGraphCache", Reason: "must not be negative"}
		}
		h.cached = n
		return nil
	}
}

// WithTimeout bounds the time one page may take, Graphviz included; the default is 30 seconds.
func WithTimeout(d time.Duration) Option {
	return func(h *Handler) error {
		if d <= 0 {
			return &OptionError{Option: "WithTimeout", Reason: "must be positive"}
		}
		h.timeout = d
		return nil
	}
}

// New returns the dashboard of ix. It reads ix on every request and never writes to it.
func New(ix *index.Index, opts ...Option) (*Handler, error) {
	if ix == nil {
		return nil, &OptionError{Option: "New", Reason: "nil index"}
	}
	h := &Handler{ix: ix, now: time.Now, title: "Provenance", maxNodes: 2000, timeout: 30 * time.Second, cached: 32,
		entitled: func(string) bool { return true }}
	for _, o := range opts {
		if err := o(h); err != nil {
			return nil, err
		}
	}
	h.pictures = newPictureCache(h.cached)
	if h.dot == "" {
		if p, err := exec.LookPath("dot"); err == nil {
			h.dot = p
		}
	}
	if err := h.parse(); err != nil {
		return nil, err
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET /{$}", h.page(h.overview))
	h.mux.HandleFunc("GET /artifacts", h.page(h.artifacts))
	h.mux.HandleFunc("GET /builds", h.page(h.builds))
	h.mux.HandleFunc("GET /artifact/{digest}", h.page(h.artifact))
	h.mux.HandleFunc("GET /step/{id}", h.page(h.step))
	h.mux.HandleFunc("GET /lineage/{digest}", h.page(h.lineage))
	h.mux.HandleFunc("GET /drift", h.page(h.drift))
	h.mux.HandleFunc("GET /search", h.page(h.search))
	h.mux.HandleFunc("GET /static/style.css", h.serveStyle)
	h.mux.HandleFunc("GET /", h.page(func(*http.Request) (string, any, error) {
		return "", nil, &RequestError{Param: "path", Reason: "no such page"}
	}))
	return h, nil
}

func (h *Handler) parse() error {
	funcs := template.FuncMap{
		"short": func(v fmt.Stringer) string { return shortDigest(digest.Digest(v.String())) },
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		"join": strings.Join,
		"add":  func(a, b int) int { return a + b },
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "assets/layout.html", "assets/part-*.html")
	if err != nil {
		return err
	}
	names, err := fs.Glob(assets, "assets/page-*.html")
	if err != nil {
		return err
	}
	h.pages = map[string]*template.Template{}
	for _, n := range names {
		t, err := template.Must(base.Clone()).ParseFS(assets, n)
		if err != nil {
			return err
		}
		h.pages[strings.TrimSuffix(strings.TrimPrefix(n, "assets/page-"), ".html")] = t
	}
	if h.style, err = assets.ReadFile("assets/style.css"); err != nil {
		return err
	}
	sum := sha256.Sum256(h.style)
	h.styleETag = `"` + hex.EncodeToString(sum[:8]) + `"`
	return nil
}

// ServeHTTP serves GET and HEAD requests, after the bearer token when one is required; other
// methods get 405. Every response carries the security headers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		h.fail(w, r, http.StatusMethodNotAllowed, "This dashboard is read-only: it answers GET and HEAD requests only.")
		return
	}
	if h.token != nil && !h.authorized(w, r) {
		return
	}
	if len(r.URL.RawQuery) > MaxQueryBytes {
		h.fail(w, r, http.StatusRequestURITooLong, "The query is too long.")
		return
	}
	h.mux.ServeHTTP(w, r)
}

const loginCookieName = "provkit_dashboard"

// authorized checks the bearer token or the login cookie, and turns a ?token= login into a
// cookie. It writes the response itself when it returns false.
func (h *Handler) authorized(w http.ResponseWriter, r *http.Request) bool {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, tok, _ := strings.Cut(auth, " ")
		if strings.EqualFold(scheme, "Bearer") && h.tokenOK(strings.TrimSpace(tok)) {
			return true
		}
	}
	if c, err := r.Cookie(loginCookieName); err == nil && subtle.ConstantTimeCompare([]byte(c.Value), h.loginValue) == 1 {
		return true
	}
	if q := r.URL.Query(); q.Has("token") && h.tokenOK(q.Get("token")) {
		http.SetCookie(w, &http.Cookie{Name: loginCookieName, Value: string(h.loginValue), Path: "/", HttpOnly: true,
			Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
		q.Del("token")
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
		return false
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="provkit dashboard"`)
	h.fail(w, r, http.StatusUnauthorized, "This dashboard needs its access token: open it with ?token=… or send Authorization: Bearer ….")
	return false
}

// tokenOK compares tok with the token in constant time, whatever their lengths.
func (h *Handler) tokenOK(tok string) bool {
	a, b := sha256.Sum256([]byte(tok)), sha256.Sum256(h.token)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func (h *Handler) serveStyle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=3600")
	w.Header().Set("ETag", h.styleETag)
	http.ServeContent(w, r, "style.css", time.Time{}, bytes.NewReader(h.style))
}

// layout is what every page's template receives.
type layout struct {
	Title, Site string
	Nav         string
	Page        any
	Status      int
	Message     string
}

// page adapts a page function, which returns its template's name and data, to a handler, and
// serves its errors as pages.
func (h *Handler) page(fn func(r *http.Request) (string, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
		defer cancel()
		name, data, err := fn(r.WithContext(ctx))
		if err != nil {
			h.serveError(w, r, err)
			return
		}
		h.render(w, r, http.StatusOK, name, data)
	}
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	t := h.pages[name]
	var buf bytes.Buffer
	title, _ := titled(data)
	if err := t.ExecuteTemplate(&buf, "layout.html", layout{Title: title, Site: h.title, Nav: name, Page: data, Status: status}); err != nil {
		h.log(r, "render", err)
		h.fail(w, r, http.StatusInternalServerError, "The page could not be drawn.")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// titled is a page's data with a title of its own.
type titler interface{ title() string }

func titled(data any) (string, bool) {
	if t, ok := data.(titler); ok {
		return t.title(), true
	}
	return "", false
}

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Heading string
	Message string
}

func (e errorPage) title() string { return e.Heading }

func (h *Handler) serveError(w http.ResponseWriter, r *http.Request, err error) {
	var re *RequestError
	var nf *NotFoundError
	var qe *index.QueryError
	switch {
	case errors.As(err, &re):
		h.fail(w, r, http.StatusBadRequest, cmp.Or(re.Reason, "The request cannot be served.")+" ("+re.Param+")")
	case errors.As(err, &qe):
		h.fail(w, r, http.StatusBadRequest, "The search cannot be run: "+qe.Err.Error())
	case errors.As(err, &nf):
		h.fail(w, r, http.StatusNotFound, "The index holds no "+nf.Kind+" "+nf.Key+".")
	case errors.Is(err, context.DeadlineExceeded):
		h.log(r, "timeout", err)
		h.fail(w, r, http.StatusServiceUnavailable, "The page took too long to prepare.")
	default:
		h.log(r, "serve", err)
		h.fail(w, r, http.StatusInternalServerError, "The page could not be prepared; the server's log says why.")
	}
}

// fail serves the error page, with the status and a message for people.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, message string) {
	if status == http.StatusUnauthorized || status == http.StatusMethodNotAllowed || h.pages == nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		w.Write([]byte(message + "\n"))
		return
	}
	h.render(w, r, status, "error", errorPage{Status: status, Heading: http.StatusText(status), Message: message})
}

func (h *Handler) log(r *http.Request, what string, err error) {
	if h.logger != nil {
		h.logger.LogAttrs(r.Context(), slog.LevelError, "dashboard: "+what, slog.String("path", r.URL.Path), slog.Any("error", err))
	}
}
