package collect_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/collect"
)

// FuzzStripCredentials feeds repository URLs as a repository's configuration may hold them.
// The result must never keep a password, and stripping twice must change nothing.
func FuzzStripCredentials(f *testing.F) {
	for _, s := range []string{
		"https://user:pass@github.com/org/repo.git",
		"ssh://git:pw@host:22/r",
		"git@github.com:org/repo.git",
		"user:pass@host:path",
		"https://u:p@h/%zz",
		"file:///srv/repo",
		"https://h/r?token=x#frag",
		"http://[::1]:80/r",
		"",
		"::::@@@//",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := collect.StripCredentials(raw)
		if again := collect.StripCredentials(got); again != got {
			t.Errorf("not idempotent: %q -> %q -> %q", raw, got, again)
		}
		if i := strings.Index(got, "://"); i > 0 {
			if u, err := url.Parse(got); err == nil && u.Opaque == "" && u.User != nil {
				if _, hasPw := u.User.Password(); hasPw {
					t.Errorf("%q -> %q keeps a password", raw, got)
				}
			}
		}
	})
}

// FuzzParseImageReference feeds image references as callers and build files give them. A
// reference that parses must print back to itself and, when it has a digest, give a valid
// resolved dependency.
func FuzzParseImageReference(f *testing.F) {
	for _, s := range []string{
		"alpine", "alpine:3.20", "localhost:5000/a/b:v1", "[::1]:5000/app",
		"ghcr.io/org/app:v1@sha256:" + strings.Repeat("a1", 32),
		"a@sha512:" + strings.Repeat("b2", 64), "A:b", "a@sha256:zz", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		ref, err := collect.ParseImageReference(raw)
		if err != nil {
			return
		}
		if ref.String() != raw {
			t.Errorf("%q parsed as %+v prints %q", raw, ref, ref.String())
		}
		rd := ref.Dependency(provenance.RoleMaterial)
		if err := rd.Validate(); err != nil {
			t.Errorf("%q: dependency invalid: %v", raw, err)
		}
		if ref.Pinned() == (rd.GetAnnotations().GetFields()[provenance.AnnotationUnpinned] != nil) {
			t.Errorf("%q: pinned %v disagrees with the annotation", raw, ref.Pinned())
		}
	})
}

// FuzzCaptureEnv feeds arbitrary variable names and values, asked for by name. A value is either
// recorded as given, and then does not look secret, or left out and its name listed.
func FuzzCaptureEnv(f *testing.F) {
	f.Add("GITHUB_TOKEN", "x")
	f.Add("NOTE", "ghp_"+strings.Repeat("a", 36))
	f.Add("DSN", "postgres://u:p@h/db")
	f.Add("PEM", "-----BEGIN EC PRIVATE KEY-----")
	f.Add("PATH", "/usr/bin")
	f.Add("X", "eyJa.eyJb.c")
	f.Add("CONFIG", `{"password": "x1y2z3"}`)
	f.Fuzz(func(t *testing.T, name, value string) {
		if !utf8.ValidString(name) || name == "" || strings.ContainsRune(name, '=') {
			return
		}
		got, err := collect.CaptureEnv(map[string]string{name: value}, collect.WithEnvNames(name))
		if err != nil {
			t.Fatal(err)
		}
		v, recorded := got.Vars[name]
		listed := slices.Equal(got.Redacted, []string{name})
		switch {
		case recorded == listed:
			t.Errorf("%q: recorded %v, listed %v", name, recorded, listed)
		case recorded && v != value:
			t.Errorf("%q=%q recorded as %q", name, value, v)
		case recorded && collect.LooksSecret(value):
			t.Errorf("%q=%q kept though it looks secret", name, value)
		}
	})
}

// FuzzLooksSecret feeds arbitrary text to the credential scanner. It must not fail, must give the
// same answer for a value set apart by spaces, must find a token of a known format whatever text
// surrounds it, and must not find one in Redacted, which replaces what it finds.
func FuzzLooksSecret(f *testing.F) {
	for _, c := range secretCases() {
		f.Add(c.value)
	}
	for _, s := range []string{"", "https://u:p@h/r", "https://u@h", "ssh://git@h/r", "password=", "a:b@tcp(",
		"Authorization: ", "Bearer ", "-X main.Password=x", `{"token":""}`, "sk-", "é://u:p@h", "\x00eyJ.eyJ."} {
		f.Add(s)
	}
	tokens := []string{"ghp_" + fakeAlnum36, "glpat-" + fakeAlnum36[:20], "AKIAZ7Q3EXAMPLE4KEY5", "npm_" + fakeAlnum36,
		"-----BEGIN EC PRIVATE KEY-----", "https://hooks.slack.com/services/T0/B0/abc"}
	if collect.LooksSecret(collect.Redacted) {
		f.Fatal("Redacted looks secret")
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := collect.LooksSecret(s)
		if got != collect.LooksSecret(s) {
			t.Fatalf("LooksSecret(%q) is not deterministic", s)
		}
		if got && !collect.LooksSecret(" "+s+" ") {
			t.Errorf("LooksSecret(%q) but not with spaces around it", s)
		}
		for _, tok := range tokens {
			if v := s + "\n" + tok + "\n" + s; !collect.LooksSecret(v) {
				t.Errorf("token %q not found in %q", tok, v)
			}
		}
	})
}
