package collect_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/collect"
)

// pemBody is the distinctive middle of the PEM private keys below.
const pemBody = "MIIEpAIBAAKCAQEA7vbqajDw4o6gJy8UtmIbkcpnkO3Kwc4qsEnSZp"

// knownSecrets are values of each secret format the value rules cover, under names that say
// nothing, so only the value rules can catch them.
var knownSecrets = map[string]string{
	"AWS access key id":           "AKIAIOSFODNN7EXAMPLE",
	"AWS temporary key id":        "ASIAY34FZKBOKMUTVV7A",
	"GitHub classic token":        "ghp_" + strings.Repeat("a1B2", 9),
	"GitHub OAuth token":          "gho_" + strings.Repeat("c3D4", 9),
	"GitHub user token":           "ghu_" + strings.Repeat("e5F6", 9),
	"GitHub app token":            "ghs_" + strings.Repeat("g7H8", 9),
	"GitHub refresh token":        "ghr_" + strings.Repeat("i9J0", 9),
	"GitHub fine-grained token":   "github_pat_11ABCDEFG0" + strings.Repeat("kLmN_oPq", 8),
	"GitLab token":                "glpat-Ab3dEfGh1jKlMn0pQr5t",
	"Slack bot token":             "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
	"Slack user token":            "xoxp-123456789012-1234567890123-ZyXwVuTsRqPoNmLkJiHgFeDc",
	"Slack webhook":               "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
	"JSON Web Token":              "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
	"RSA private key":             "-----BEGIN RSA PRIVATE KEY-----\n" + pemBody + "R\n-----END RSA PRIVATE KEY-----\n",
	"PKCS#8 private key":          "-----BEGIN PRIVATE KEY-----\n" + pemBody + "P\n-----END PRIVATE KEY-----",
	"EC private key":              "-----BEGIN EC PRIVATE KEY-----\n" + pemBody + "E\n-----END EC PRIVATE KEY-----",
	"OpenSSH private key":         "-----BEGIN OPENSSH PRIVATE KEY-----\n" + pemBody + "O\n-----END OPENSSH PRIVATE KEY-----",
	"PGP private key":             "-----BEGIN PGP PRIVATE KEY BLOCK-----\n" + pemBody + "G\n-----END PGP PRIVATE KEY BLOCK-----",
	"database URL with password":  "postgres://app:Sup3rS3cretDbPw@db.internal:5432/app",
	"git URL with password":       "https://builder:Sup3rS3cretGitPw@git.example.test/r.git",
	"npm token":                   "npm_" + strings.Repeat("Zz9Y", 9),
	"Google API key":              "AIza" + strings.Repeat("Sy_7", 9)[:35],
	"Docker Hub token":            "dckr_pat_" + strings.Repeat("Qw3r", 6),
	"Stripe live key":             "sk_live_" + strings.Repeat("4eC3", 6),
	"PyPI token":                  "pypi-AgEIcHlwaS5vcmc" + strings.Repeat("CJDU4", 12),
	"token inside a longer value": "--registry-token=ghp_" + strings.Repeat("x7Y8", 9) + " --verbose",
}

// distinctive returns the part of a secret that must never appear in output.
func distinctive(secret string) string {
	if strings.Contains(secret, "PRIVATE KEY") {
		// The PEM body and the line after it, unique to each key.
		i := strings.Index(secret, pemBody)
		return secret[i : i+len(pemBody)+1]
	}
	return secret
}

func secretEnv() map[string]string {
	env := map[string]string{}
	i := 0
	for _, v := range knownSecrets {
		i++
		env["VALUE_"+strings.Repeat("X", i)] = v
	}
	return env
}

func TestCaptureEnvValueRules(t *testing.T) {
	for kind, secret := range knownSecrets {
		t.Run(kind, func(t *testing.T) {
			got, err := collect.CaptureEnv(map[string]string{"SOME_SETTING": secret, "PLAIN": "hello"},
				collect.WithEnvNames("SOME_SETTING", "PLAIN"))
			if err != nil {
				t.Fatal(err)
			}
			if v, ok := got.Vars["SOME_SETTING"]; ok {
				t.Errorf("value %q recorded as %q, want it left out", secret, v)
			}
			if got.Vars["PLAIN"] != "hello" {
				t.Errorf("PLAIN = %q, want hello", got.Vars["PLAIN"])
			}
			if !slices.Equal(got.Redacted, []string{"SOME_SETTING"}) {
				t.Errorf("Redacted = %q", got.Redacted)
			}
			if !collect.LooksSecret(secret) {
				t.Errorf("LooksSecret(%q) = false", secret)
			}
		})
	}
}

func TestCaptureEnvNameRules(t *testing.T) {
	tests := []struct {
		name     string
		redacted bool
	}{
		{"GITHUB_TOKEN", true},
		{"CI_JOB_TOKEN", true},
		{"MY_API_KEY", true},
		{"apikey", true},
		{"DB_PASSWORD", true},
		{"DBPASSWD", true},
		{"GPG_PASSPHRASE", true},
		{"AWS_SECRET_ACCESS_KEY", true},
		{"GOOGLE_APPLICATION_CREDENTIALS", true},
		{"REGISTRY_CREDS", true},
		{"npm_config__auth", true},
		{"SSH_AUTH_SOCK", true},
		{"PRIVATE_REGISTRY", true},
		{"SESSION_ID", true},
		{"COOKIE_JAR", true},
		{"REQUEST_SIGNATURE", true},
		{"SENTRY_DSN", true},
		{"SLACK_WEBHOOK_URL", true},
		{"DB_PASS", true},
		{"MYSQL_PWD", true},
		{"RABBITMQ_DEFAULT_PASS", true},
		{"SSHPASS", true},
		{"SONAR_LOGIN", true},
		{"AZURE_SAS", true},
		{"REDIS_PW", true},
		{"OLDPWD", false},
		{"PASSAGE_COUNT", true},
		{"PATH", false},
		{"HOME", false},
		{"GOFLAGS", false},
		{"CI", false},
		{"GITHUB_SHA", false},
		{"PWD", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect.CaptureEnv(map[string]string{tt.name: "innocent value"}, collect.WithEnvNames(tt.name))
			if err != nil {
				t.Fatal(err)
			}
			if _, recorded := got.Vars[tt.name]; recorded == tt.redacted {
				t.Errorf("%s recorded = %v, want %v", tt.name, recorded, !tt.redacted)
			}
			if listed := slices.Contains(got.Redacted, tt.name); listed != tt.redacted {
				t.Errorf("%s listed = %v, want %v", tt.name, listed, tt.redacted)
			}
		})
	}
}

func TestCaptureEnvKeepsOrdinaryValues(t *testing.T) {
	ordinary := map[string]string{
		"PATH":        "/usr/local/go/bin:/usr/bin:/bin",
		"GIT_URL":     "https://git.example.test/team/app.git",
		"SSH_URL":     "ssh://git@git.example.test/team/app.git",
		"GOFLAGS":     "-trimpath -mod=readonly",
		"IMAGE":       "registry.example.test/app@sha256:" + strings.Repeat("ab", 32),
		"DESCRIPTION": "eyJ is how base64 JSON starts; AKIA alone is short",
		"EMPTY":       "",
	}
	names := slices.Collect(maps.Keys(ordinary))
	got, err := collect.CaptureEnv(ordinary, collect.WithEnvNames(names...))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range ordinary {
		if got.Vars[k] != v {
			t.Errorf("%s = %q, want %q kept", k, got.Vars[k], v)
		}
	}
	if len(got.Redacted) != 0 {
		t.Errorf("Redacted = %q, want none", got.Redacted)
	}
}

func TestCaptureEnvOptions(t *testing.T) {
	env := map[string]string{"A": "1", "B": "2", "GITHUB_TOKEN": "t", "BUILD_NUMBER": "7", "GOOS": "linux"}
	tests := []struct {
		name     string
		opts     []collect.EnvOption
		vars     map[string]string
		redacted []string
		err      error
	}{
		{name: "default records nothing off CI", vars: map[string]string{}, redacted: []string{}},
		{name: "names asked for", opts: []collect.EnvOption{collect.WithEnvNames("GOOS", "GITHUB_TOKEN", "MISSING")},
			vars: map[string]string{"GOOS": "linux"}, redacted: []string{"GITHUB_TOKEN"}},
		{name: "allow-list", opts: []collect.EnvOption{collect.WithAllowList("GOOS", "GITHUB_TOKEN", "MISSING")},
			vars: map[string]string{"GOOS": "linux"}, redacted: []string{"GITHUB_TOKEN"}},
		{name: "allow-list and names", opts: []collect.EnvOption{collect.WithAllowList("A"), collect.WithEnvNames("B", "A")},
			vars: map[string]string{"A": "1", "B": "2"}, redacted: []string{}},
		{name: "bad name", opts: []collect.EnvOption{collect.WithEnvNames("A=B")}, err: collect.ErrInvalidOption},
		{name: "allow-list given twice adds", opts: []collect.EnvOption{collect.WithAllowList("A"), collect.WithAllowList("B")},
			vars: map[string]string{"A": "1", "B": "2"}, redacted: []string{}},
		{name: "empty allow-list records nothing", opts: []collect.EnvOption{collect.WithAllowList()}, vars: map[string]string{}, redacted: []string{}},
		{name: "extra secret names", opts: []collect.EnvOption{collect.WithSecretNames("build_num"), collect.WithEnvNames("A", "B", "GITHUB_TOKEN", "BUILD_NUMBER", "GOOS")},
			vars: map[string]string{"A": "1", "B": "2", "GOOS": "linux"}, redacted: []string{"BUILD_NUMBER", "GITHUB_TOKEN"}},
		{name: "bad allow-list name", opts: []collect.EnvOption{collect.WithAllowList("A=B")}, err: collect.ErrInvalidOption},
		{name: "empty allow-list name", opts: []collect.EnvOption{collect.WithAllowList("")}, err: collect.ErrInvalidOption},
		{name: "empty secret word", opts: []collect.EnvOption{collect.WithSecretNames(" ")}, err: collect.ErrInvalidOption},
		{name: "nil option", opts: []collect.EnvOption{nil}, err: collect.ErrInvalidOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect.CaptureEnv(env, tt.opts...)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if tt.err != nil {
				return
			}
			if len(got.Vars) != len(tt.vars) {
				t.Errorf("Vars = %v, want %v", got.Vars, tt.vars)
			}
			for k, v := range tt.vars {
				if got.Vars[k] != v {
					t.Errorf("Vars[%s] = %q, want %q", k, got.Vars[k], v)
				}
			}
			if !slices.Equal(got.Redacted, tt.redacted) {
				t.Errorf("Redacted = %q, want %q", got.Redacted, tt.redacted)
			}
		})
	}
	if env["GITHUB_TOKEN"] != "t" {
		t.Error("CaptureEnv modified its input")
	}
}

func TestRuleSetsAreCopies(t *testing.T) {
	words := collect.SecretNameWords()
	words[0] = "NOTHING"
	if collect.SecretNameWords()[0] == "NOTHING" {
		t.Error("SecretNameWords returned the package's own slice")
	}
	rules := collect.SecretValueRules()
	if len(rules) == 0 {
		t.Fatal("no value rules")
	}
	rules[0].Pattern = "^$"
	if collect.SecretValueRules()[0].Pattern == "^$" {
		t.Error("SecretValueRules returned the package's own slice")
	}
	for _, r := range collect.SecretValueRules() {
		if r.Name == "" || r.Pattern == "" {
			t.Errorf("rule %+v lacks a name or pattern", r)
		}
	}
}

// TestSecretsNeverReachStatement builds real provenance from an environment holding a secret of
// every kind, a repository whose remote URL holds a password, and a CI platform, and checks that
// no secret appears in the canonical statement bytes.
func TestSecretsNeverReachStatement(t *testing.T) {
	dir := newRepo(t)
	const remotePw = "R3m0teP4ssw0rdXYZ"
	git(t, dir, "remote", "add", "origin", "https://ci-bot:"+remotePw+"@git.example.test/team/app.git")

	env := secretEnv()
	env["GITHUB_ACTIONS"] = "true"
	env["GITHUB_REPOSITORY"] = "team/app"
	env["GITHUB_RUN_ID"] = "1"
	env["GITHUB_TOKEN"] = "plain-token-without-a-format"
	env["SOURCE_DATE_EPOCH"] = "1700000000"

	b, err := collect.Build(context.Background(), dir, collect.WithEnv(env),
		collect.WithEnvCapture(collect.WithEnvNames(slices.Collect(maps.Keys(env))...)))
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.Statement([]*intoto.ResourceDescriptor{{Name: "app", Digest: map[string]string{"sha256": strings.Repeat("0", 64)}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := provenance.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for kind, secret := range knownSecrets {
		if bytes.Contains(out, []byte(distinctive(secret))) {
			t.Errorf("%s reached the statement", kind)
		}
	}
	for _, s := range []string{remotePw, "plain-token-without-a-format"} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("%q reached the statement", s)
		}
	}
	if bytes.Contains(out, []byte(`"GITHUB_TOKEN":`)) || !bytes.Contains(out, []byte(`"GITHUB_TOKEN"`)) {
		t.Errorf("GITHUB_TOKEN is not listed by name alone in %s", out)
	}
	if !bytes.Contains(out, []byte("git+https://git.example.test/team/app.git@refs/heads/main")) {
		t.Errorf("source URI missing from %s", out)
	}
}
