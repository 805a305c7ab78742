package policy

import (
	"regexp"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/provkit/provkit/verify"
)

// The virtual Fulcio of sigstore-go's test kit issues certificates without the GitHub
// extensions, so extension matching is tested here on verify.Signer values directly; the
// rule's other paths run on real verified results in rules_test.go.
func TestSignerMatcherExtensions(t *testing.T) {
	m := &signerMatcher{
		issuer: "https://token.actions.githubusercontent.com",
		sanRe:  regexp.MustCompile(`^https://github\.com/acme/app/\.github/workflows/release\.yml@refs/tags/v`),
		extensions: []extensionMatch{
			{name: "sourceRepositoryURI", want: "https://github.com/acme/app", get: extensionFields["sourceRepositoryURI"]},
			{name: "buildTrigger", want: "push", get: extensionFields["buildTrigger"]},
		},
	}
	cert := func(ext certificate.Extensions, san string) verify.Signer {
		return verify.Signer{Certificate: &verify.CertificateIdentity{Issuer: "https://token.actions.githubusercontent.com", SubjectAlternativeName: san, Extensions: ext}}
	}
	good := certificate.Extensions{SourceRepositoryURI: "https://github.com/acme/app", BuildTrigger: "push"}
	san := "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0"
	cases := []struct {
		name   string
		signer verify.Signer
		want   bool
	}{
		{name: "all match", signer: cert(good, san), want: true},
		{name: "fork repository", signer: cert(certificate.Extensions{SourceRepositoryURI: "https://github.com/fork/app", BuildTrigger: "push"}, san)},
		{name: "pull request trigger", signer: cert(certificate.Extensions{SourceRepositoryURI: "https://github.com/acme/app", BuildTrigger: "pull_request"}, san)},
		{name: "branch workflow", signer: cert(good, "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main")},
		{name: "key signer", signer: verify.Signer{KeyID: "k"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := m.matches(c.signer); got != c.want {
				t.Fatalf("matches = %v, want %v", got, c.want)
			}
		})
	}
	if len(extensionFields) != 19 {
		t.Fatalf("%d extension fields; certificate.Extensions has 19 besides Issuer", len(extensionFields))
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		pat, s string
		fold   bool
		want   bool
	}{
		{"main", "main", false, true},
		{"main", "mainx", false, false},
		{"release/*", "release/1.x", false, true},
		{"*_TOKEN", "npm_token", true, true},
		{"*_TOKEN", "npm_token", false, false},
		{"*SECRET*", "MY_SECRET_KEY", false, true},
		{"a*b*c", "abc", false, true},
		{"a*b*c", "ac", false, false},
		{"ab*ba", "aba", false, false},
		{"*", "", false, true},
	}
	for _, c := range cases {
		t.Run(c.pat+"/"+c.s, func(t *testing.T) {
			g, err := compileGlob(c.pat, c.fold)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.match(c.s); got != c.want {
				t.Fatalf("match = %v, want %v", got, c.want)
			}
		})
	}
}

func TestSemverRange(t *testing.T) {
	r, err := parseSemverRange(">=v1.2.0, <2")
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[string]bool{"v1.2.0": true, "1.9.9": true, "v2.0.0": false, "v1.1.9": false, "main": false, "v1.3.0-rc.1": true} {
		if got := r.contains(v); got != want {
			t.Errorf("%s: %v, want %v", v, got, want)
		}
	}
	if _, err := parseSemverRange(">=x"); err == nil {
		t.Fatal("bad range accepted")
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"ghp_0123456789abcdef": "ghp_…[redacted, 20 chars]",
		"abc":                  "…[redacted, 3 chars]",
		"пароль-секрет":        "пар…[redacted, 13 chars]",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
