package collect

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Redacted replaces the value of every environment variable, build setting or platform fact
// that looks secret.
const Redacted = "[REDACTED]"

// The redaction rules. A variable is redacted when either rule matches:
//
//  1. Its name contains, ignoring case, one of the words SecretNameWords lists (or one the
//     caller added with WithSecretNames). Matching is by substring, so GITHUB_TOKEN,
//     NPM_AUTH_TOKEN, DBPASSWORD and AWS_SECRET_ACCESS_KEY are all caught; it errs towards
//     hiding, so KEYBOARD or GIT_AUTHOR_NAME are redacted too.
//  2. Its value contains text of a known secret format: one of SecretValueRules. The whole
//     value is replaced, not only the matching part.
//
// Redaction replaces the value by Redacted and lists the name, so a reader of the provenance
// knows the variable was set without learning its value.

// secretNameWords are matched as upper-case substrings of variable names.
var secretNameWords = []string{
	"TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "KEY", "CREDENTIAL", "CREDS",
	"AUTH", "PRIVATE", "SESSION", "COOKIE", "SIGNATURE", "SALT", "DSN", "CONNECTION_STRING",
	"WEBHOOK",
}

// SecretNameWords returns the words whose presence in a variable's name, ignoring case, marks its
// value secret. The slice is a copy.
func SecretNameWords() []string { return slices.Clone(secretNameWords) }

// ValueRule is one documented format of secret value.
type ValueRule struct {
	// Name says what the rule finds, such as "GitHub token".
	Name string
	// Pattern is the regular expression (RE2 syntax) that finds it anywhere in a value.
	Pattern string
}

type valueRule struct {
	name string
	// hints are literal strings one of which must occur in a value for the pattern to match; they
	// let most values be cleared without running the regular expression.
	hints   []string
	pattern string
	re      *regexp.Regexp
	// match, when set, finds what pattern finds without a regular expression.
	match func(string) bool
}

// valueRules compiles the rules on first use, so programs that never redact pay nothing at start-up.
var valueRules = sync.OnceValue(func() []valueRule {
	return compileRules([]valueRule{
		{name: "AWS access key id", hints: []string{"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"},
			pattern: `(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}`},
		{name: "GitHub token", hints: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"},
			pattern: `gh[pousr]_[A-Za-z0-9]{30,}`},
		{name: "GitHub fine-grained token", hints: []string{"github_pat_"},
			pattern: `github_pat_[A-Za-z0-9_]{22,}`},
		{name: "GitLab token", hints: []string{"glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "gloas-", "glft-"},
			pattern: `gl(?:pat|dt|rt|ptt|cbt|oas|ft)-[A-Za-z0-9_.\-]{20,}`},
		{name: "Slack token", hints: []string{"xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-"},
			pattern: `xox[abprs]-[A-Za-z0-9\-]{10,}`},
		{name: "Slack webhook", hints: []string{"hooks.slack.com"},
			pattern: `hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]+`},
		{name: "JSON Web Token", hints: []string{"eyJ"},
			pattern: `eyJ[A-Za-z0-9_\-]+\.eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*`},
		{name: "PEM private key", hints: []string{"PRIVATE KEY"},
			pattern: `-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`},
		{name: "URL with password", hints: []string{"://"},
			pattern: `[A-Za-z][A-Za-z0-9+.\-]*://[^/?#@\s:]*:[^/?#@\s]+@`, match: urlWithPassword},
		{name: "npm token", hints: []string{"npm_"},
			pattern: `npm_[A-Za-z0-9]{36}`},
		{name: "Google API key", hints: []string{"AIza"},
			pattern: `AIza[0-9A-Za-z_\-]{35}`},
		{name: "PyPI token", hints: []string{"pypi-"},
			pattern: `pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}`},
		{name: "Docker Hub token", hints: []string{"dckr_pat_"},
			pattern: `dckr_pat_[A-Za-z0-9_\-]{20,}`},
		{name: "Stripe live key", hints: []string{"sk_live_", "rk_live_"},
			pattern: `[sr]k_live_[0-9A-Za-z]{20,}`},
	})
})

func compileRules(rules []valueRule) []valueRule {
	for i := range rules {
		rules[i].re = regexp.MustCompile(rules[i].pattern)
	}
	return rules
}

// urlWithPassword is the "URL with password" pattern without the regular expression, which is
// slow on the many URLs an environment holds: a scheme that starts with a letter, "://", then a
// user name, ':', a non-empty password and '@', with none of "/?#@" or space before the '@'.
func urlWithPassword(s string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], "://")
		if i < 0 {
			return false
		}
		i += off
		off = i + 3
		letter := false
		for j := i - 1; j >= 0 && isSchemeByte(s[j]); j-- {
			if 'a' <= s[j]|0x20 && s[j]|0x20 <= 'z' {
				letter = true
			}
		}
		if !letter {
			continue
		}
		colon := -1
	authority:
		for k := off; k < len(s); k++ {
			switch c := s[k]; {
			case c == ':' && colon < 0:
				colon = k
			case c == '@':
				if colon >= 0 && k > colon+1 {
					return true
				}
				break authority
			case c == '/' || c == '?' || c == '#' || isSpace(c):
				break authority
			}
		}
	}
}

func isSchemeByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '.' || c == '-'
}

// isSpace is RE2's \s: space, tab, newline, form feed and carriage return.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// SecretValueRules returns the formats of secret values that redaction finds, in the order they
// are tried. The slice is a copy.
func SecretValueRules() []ValueRule {
	rules := valueRules()
	out := make([]ValueRule, len(rules))
	for i, r := range rules {
		out[i] = ValueRule{Name: r.name, Pattern: r.pattern}
	}
	return out
}

// LooksSecret reports whether value contains text of one of the SecretValueRules formats.
func LooksSecret(value string) bool {
	_, ok := secretValueRule(value)
	return ok
}

func secretValueRule(value string) (string, bool) {
	rules := valueRules()
	for i := range rules {
		r := &rules[i]
		hinted := false
		for _, h := range r.hints {
			if strings.Contains(value, h) {
				hinted = true
				break
			}
		}
		if !hinted {
			continue
		}
		if r.match != nil && r.match(value) || r.match == nil && r.re.MatchString(value) {
			return r.name, true
		}
	}
	return "", false
}

// redactor applies the two rules with the caller's extra name words.
type redactor struct {
	// words are upper case.
	words []string
}

func newRedactor(extra []string) *redactor {
	r := &redactor{words: slices.Clone(secretNameWords)}
	for _, w := range extra {
		r.words = append(r.words, strings.ToUpper(w))
	}
	return r
}

func (r *redactor) secretName(name string) bool {
	upper := strings.ToUpper(name)
	for _, w := range r.words {
		if strings.Contains(upper, w) {
			return true
		}
	}
	return false
}

// redact returns value, or Redacted and true when name or value looks secret.
func (r *redactor) redact(name, value string) (string, bool) {
	if r.secretName(name) || LooksSecret(value) {
		return Redacted, true
	}
	return value, false
}

// Env is an environment captured for provenance: what remains of each variable after redaction.
type Env struct {
	// Vars maps each recorded variable to its value, or to Redacted.
	Vars map[string]string
	// Redacted lists, sorted, the names whose values were replaced.
	Redacted []string
}

// EnvOption configures CaptureEnv and the environment capture of Build.
type EnvOption func(*envOptions) error

type envOptions struct {
	allow     []string
	allowSet  map[string]bool
	words     []string
	allowMode bool
}

// WithAllowList records only the named variables (matched exactly, case-sensitively); all others
// are left out without trace. Redaction still applies to the variables recorded. Names must be
// non-empty and must not contain '='.
func WithAllowList(names ...string) EnvOption {
	return func(o *envOptions) error {
		for _, n := range names {
			if n == "" || strings.ContainsRune(n, '=') {
				return optionError("WithAllowList", "variable name %q is not valid", n)
			}
		}
		o.allowMode = true
		o.allow = append(o.allow, names...)
		return nil
	}
}

// WithSecretNames adds words to SecretNameWords for this capture: a variable whose name contains
// one of them, ignoring case, is redacted. Words must be non-empty.
func WithSecretNames(words ...string) EnvOption {
	return func(o *envOptions) error {
		for _, w := range words {
			if strings.TrimSpace(w) == "" {
				return optionError("WithSecretNames", "empty word")
			}
		}
		o.words = append(o.words, words...)
		return nil
	}
}

func newEnvOptions(opts []EnvOption) (*envOptions, error) {
	o := &envOptions{}
	for _, opt := range opts {
		if opt == nil {
			return nil, optionError("EnvOption", "nil option")
		}
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	if o.allowMode {
		o.allowSet = make(map[string]bool, len(o.allow))
		for _, n := range o.allow {
			o.allowSet[n] = true
		}
	}
	return o, nil
}

// CaptureEnv returns env with every secret-looking value redacted (see the rules above Redacted)
// and, with WithAllowList, only the variables named. env is not modified.
func CaptureEnv(env map[string]string, opts ...EnvOption) (Env, error) {
	o, err := newEnvOptions(opts)
	if err != nil {
		return Env{}, err
	}
	return captureEnv(env, o), nil
}

func captureEnv(env map[string]string, o *envOptions) Env {
	r := newRedactor(o.words)
	out := Env{Vars: make(map[string]string, len(env))}
	for name, value := range env {
		if o.allowMode && !o.allowSet[name] {
			continue
		}
		v, redacted := r.redact(name, value)
		out.Vars[name] = v
		if redacted {
			out.Redacted = append(out.Redacted, name)
		}
	}
	slices.Sort(out.Redacted)
	if out.Redacted == nil {
		out.Redacted = []string{}
	}
	return out
}

// ProcessEnv returns the environment of the running process as a map. It is the one place this
// package reads the process environment, and only when the caller calls it: pass the result to
// WithEnv or CaptureEnv. Entries without a name (such as Windows' per-drive "=C:" variables) are
// left out.
func ProcessEnv() map[string]string {
	environ := os.Environ()
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		env[name] = value
	}
	return env
}
