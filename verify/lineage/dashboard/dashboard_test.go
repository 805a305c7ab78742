package dashboard_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/provkit/provkit/verify/lineage/dashboard"
)

// server serves the pipeline's dashboard, with opts, for the length of the test.
func server(t *testing.T, p *pipeline, opts ...dashboard.Option) *httptest.Server {
	t.Helper()
	h, err := dashboard.New(p.ix, append([]dashboard.Option{dashboard.WithClock(func() time.Time { return start.Add(24 * time.Hour) })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// TestPages loads every page of a real pipeline's index and checks what a person reads there:
// what produced the figure, who signed each step, whether it was rebuilt, whether it is still
// trusted, and that no statement's text is served as markup.
func TestPages(t *testing.T) {
	p := newPipeline(t)
	srv := server(t, p)
	cases := []struct {
		name, path string
		status     int
		want       []string
	}{
		{"overview", "/", 200, []string{"Recent builds", "plot", "train", "<strong>1</strong> artifacts with high or critical findings", "Vulnerable artifacts", "CVE-2026-0001"}},
		{"artifacts", "/artifacts", 200, []string{"model.bin", "deprecated", "match (2026-03-01)", "key:bob"}},
		{"builds", "/builds", 200, []string{"ingest", "clean", "train", "workflow step"}},
		{"all statements", "/builds?kind=all", 200, []string{"rebuild check", "lifecycle status", "vulnerability scan"}},
		{"figure", "/artifact/" + p.figure.String(), 200, []string{
			"What produced it", "Container image", "registry.example/tools/plot@", "plot model.bin",
			"from 2026-03-01 09:06:00 UTC to 2026-03-01 09:07:00 UTC", "survey-analysis",
			"Rebuilds", "match", "Not trusted", "runtime deviation", "the running image differs from the one built"}},
		{"clean step's output", "/artifact/" + p.clean.String(), 200, []string{"/parameters/min", "-40", "clean --min=-40 raw.csv", "key:alice", "Used by", "train"}},
		{"model", "/artifact/" + p.model.String(), 200, []string{"deprecated", "retrained with the 2026 survey", "lab-lead@example.org", "Needs attention"}},
		{"step", "/step/" + p.ids["train"].String(), 200, []string{"train", "/parameters/seed", "42", "key:bob", "registry.example/tools/train:2.3@"}},
		{"drift", "/drift", 200, []string{"registry.example/lab/app", "prod", "staging", "differs"}},
		{"search by parameter", "/search?" + url.Values{"param": {"/parameters/min=-40"}}.Encode(), 200, []string{"1 found", "clean.csv"}},
		{"search by signer", "/search?signer=key:bob", 200, []string{"model.bin", "2 found"}},
		{"search by dataset", "/search?material=" + p.survey.String(), 200, []string{"raw.csv", "1 found"}},
		{"search form", "/search", 200, []string{"Source commit", "Parameter"}},
		{"unknown artifact", "/artifact/" + strings.Repeat("sha256:", 1) + strings.Repeat("0", 64), 404, []string{"holds no artifact"}},
		{"unknown step", "/step/sha256:" + strings.Repeat("1", 64), 404, []string{"holds no step"}},
		{"malformed digest", "/artifact/sha256:xyz", 400, []string{"not a digest"}},
		{"bad page", "/artifacts?page=0", 400, []string{"page number"}},
		{"huge page", "/artifacts?page=99999999999999999999", 400, []string{"page number"}},
		{"bad direction", "/lineage/" + p.model.String() + "?dir=sideways", 400, []string{"up"}},
		{"bad parameter search", "/search?param=seed", 400, []string{"JSON-POINTER=VALUE"}},
		{"bad repository search", "/search?repo=" + url.QueryEscape("::"), 400, []string{"cannot be run"}},
		{"long value", "/search?signer=" + strings.Repeat("a", dashboard.MaxValueBytes+1), 400, []string{"longer than"}},
		{"no such page", "/nothing", 400, []string{"no such page"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := get(t, srv, c.path)
			if resp.StatusCode != c.status {
				t.Fatalf("GET %s: status %d, want %d\n%s", c.path, resp.StatusCode, c.status, body)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s: page lacks %q", c.path, w)
				}
			}
			checkEscaped(t, body)
		})
	}
}

// checkEscaped fails when a payload reached the page as markup.
func checkEscaped(t *testing.T, body string) {
	t.Helper()
	for _, raw := range []string{"<script", "<img src=x"} {
		if strings.Contains(body, raw) {
			t.Errorf("page holds %q unescaped", raw)
		}
	}
}

// TestEscaping finds each payload on the pages that show it, as text.
func TestEscaping(t *testing.T) {
	p := newPipeline(t)
	srv := server(t, p)
	for _, c := range []struct{ path, want string }{
		{"/artifact/" + p.figure.String(), "figure&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;.png"},
		{"/artifact/" + p.figure.String(), "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;mallory"},
		{"/artifact/" + p.clean.String(), "&gt;&lt;img src=x onerror="},
		{"/lineage/" + p.figure.String(), "plot&lt;script&gt;"},
	} {
		_, body := get(t, srv, c.path)
		if !strings.Contains(body, c.want) {
			t.Errorf("GET %s: payload not shown as text %q", c.path, c.want)
		}
		checkEscaped(t, body)
	}
}

// TestHeaders checks the security headers on pages, errors and the stylesheet, and that the
// pages load nothing from elsewhere.
func TestHeaders(t *testing.T) {
	p := newPipeline(t)
	srv := server(t, p)
	for _, path := range []string{"/", "/artifact/" + p.model.String(), "/nothing", "/static/style.css", "/lineage/" + p.model.String()} {
		resp, body := get(t, srv, path)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "style-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q allows scripts or unsafe sources", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, h)
		}
		if regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).MatchString(body) {
			t.Errorf("%s: the page loads or links something from elsewhere", path)
		}
		if strings.Contains(body, "<script") {
			t.Errorf("%s: the page holds a script", path)
		}
	}
	resp, _ := get(t, srv, "/static/style.css")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("style.css served as %q", ct)
	}
}

// TestMethods refuses every method but GET and HEAD.
func TestMethods(t *testing.T) {
	p := newPipeline(t)
	srv := server(t, p)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		req, _ := http.NewRequestWithContext(t.Context(), m, srv.URL+"/artifacts", strings.NewReader("x"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: status %d, Allow %q; want 405, GET, HEAD", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: 405 without security headers", m)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, srv.URL+"/artifacts", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD: status %d", resp.StatusCode)
	}
}

// TestBearerToken requires the token as a header or a login cookie, turns ?token= into the
// cookie, and refuses wrong tokens.
func TestBearerToken(t *testing.T) {
	p := newPipeline(t)
	const token = "0123456789abcdef-secret"
	srv := server(t, p, dashboard.WithBearerToken(token))
	if resp, _ := get(t, srv, "/"); resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: status %d", resp.StatusCode)
	}
	for _, bad := range []string{"Bearer wrong", "Bearer " + token + "x", "Basic " + token, "Bearer "} {
		if resp, _ := get(t, srv, "/", "Authorization", bad); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d, want 401", bad, resp.StatusCode)
		}
	}
	if resp, _ := get(t, srv, "/", "Authorization", "Bearer "+token); resp.StatusCode != http.StatusOK {
		t.Errorf("right token: status %d", resp.StatusCode)
	}
	if resp, _ := get(t, srv, "/?token=wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("?token=wrong: status %d", resp.StatusCode)
	}
	resp, _ := get(t, srv, "/artifacts?page=1&token="+token)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/artifacts?page=1" {
		t.Fatalf("login: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || strings.Contains(cookies[0].Value, token) {
		t.Fatalf("login cookie %+v", cookies)
	}
	if resp, _ := get(t, srv, "/", "Cookie", cookies[0].Name+"="+cookies[0].Value); resp.StatusCode != http.StatusOK {
		t.Errorf("with the login cookie: status %d", resp.StatusCode)
	}
	if resp, _ := get(t, srv, "/", "Cookie", cookies[0].Name+"=forged"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged cookie: status %d", resp.StatusCode)
	}
}

// TestOptions refuses options that cannot work.
func TestOptions(t *testing.T) {
	p := newPipeline(t)
	for name, o := range map[string]dashboard.Option{
		"short token": dashboard.WithBearerToken("short"),
		"empty dot":   dashboard.WithDot(""),
		"nil clock":   dashboard.WithClock(nil),
		"no signers":  dashboard.WithStatusSigners(),
		"zero nodes":  dashboard.WithMaxGraphNodes(0),
		"no timeout":  dashboard.WithTimeout(0),
	} {
		var oe *dashboard.OptionError
		if _, err := dashboard.New(p.ix, o); !errors.As(err, &oe) || !errors.Is(err, dashboard.ErrInvalidOption) {
			t.Errorf("%s: got %v, want an *OptionError", name, err)
		}
	}
	if _, err := dashboard.New(nil); !errors.Is(err, dashboard.ErrInvalidOption) {
		t.Errorf("nil index: got %v", err)
	}
}

// TestLineagePage draws the figure's lineage with Graphviz: an image, and one map area per
// node, each linking to a page of the dashboard.
func TestLineagePage(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz dot is not installed")
	}
	p := newPipeline(t)
	srv := server(t, p)
	_, body := get(t, srv, "/lineage/"+p.figure.String()+"?dir=up")
	if !strings.Contains(body, `src="data:image/svg&#43;xml;base64,`) && !strings.Contains(body, `src="data:image/svg+xml;base64,`) {
		t.Fatalf("no graph image:\n%s", body)
	}
	areas := regexp.MustCompile(`<area shape="(rect|poly|circle)" coords="[0-9,]+" href="(/artifact/|/step/)sha256:[0-9a-f]{64}"`).FindAllString(body, -1)
	// Four steps and their five artifacts (survey, raw, clean, model, figure) and four images.
	if len(areas) != 13 {
		t.Errorf("%d map areas, want 13 (4 steps, 5 data artifacts, 4 images):\n%s", len(areas), strings.Join(areas, "\n"))
	}
	for _, name := range []string{"ingest", "clean", "train", "plot&lt;script&gt;"} {
		if !strings.Contains(body, ">"+name) {
			t.Errorf("step %s not listed", name)
		}
	}
	_, noDot := get(t, server(t, p, dashboard.WithDot("/nonexistent/dot")), "/lineage/"+p.figure.String())
	if !strings.Contains(noDot, "could not draw") || !strings.Contains(noDot, "ingest") {
		t.Errorf("without dot: want the lists and a notice")
	}
	_, big := get(t, server(t, p, dashboard.WithMaxGraphNodes(3)), "/lineage/"+p.figure.String())
	if !strings.Contains(big, "more than the 3 this dashboard draws") {
		t.Errorf("over the node limit: want a notice")
	}
}

// FuzzHandler serves arbitrary paths and queries: it never panics, answers with a status of
// its own choosing, always with the security headers, and never with markup from the request.
func FuzzHandler(f *testing.F) {
	p := newPipeline(f)
	h, err := dashboard.New(p.ix, dashboard.WithDot("/nonexistent/dot"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][2]string{
		{"/", ""}, {"/artifacts", "page=2"}, {"/artifact/" + p.figure.String(), ""}, {"/lineage/" + p.model.String(), "dir=up"},
		{"/search", "param=/parameters/min%3D-40&signer=%3Cscript%3E"}, {"/step/sha256:zz", ""}, {"/search", "repo=%00"},
		{"/builds", "kind=all&page=0"}, {"/artifact/<script>", "x=<script>"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, path, query string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL = &url.URL{Path: path, RawQuery: query}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusRequestURITooLong, http.StatusMovedPermanently, http.StatusTemporaryRedirect:
		default:
			t.Fatalf("GET %s?%s: status %d", path, query, rec.Code)
		}
		if rec.Header().Get("Content-Security-Policy") == "" {
			t.Fatalf("GET %s?%s: no Content-Security-Policy", path, query)
		}
		if strings.Contains(rec.Body.String(), "<script") {
			t.Fatalf("GET %s?%s: a script in the page", path, query)
		}
	})
}
