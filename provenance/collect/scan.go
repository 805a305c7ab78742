package collect

import (
	"math"
	"regexp"
	"strings"
	"sync"
)

// The credential scanner. Every string collect records passes it: environment values, platform
// facts, repository URLs, Go build settings, the caller's parameters, material names and URIs. A
// string in which it finds a credential is not recorded (see Redacted).
//
// The rules are of three sorts:
//
//   - Known token formats, found by their documented prefix and length (GitHub, GitLab, Slack,
//     AWS, Google, Stripe, npm, PyPI, SendGrid, Docker Hub, Vault, OpenAI, Anthropic,
//     DigitalOcean, Shopify, SonarQube, age, Telegram and more), JSON Web Tokens and PEM private
//     keys.
//   - Credentials by the place they sit in: a URL's user information (a password, or a user name
//     in a scheme other than SSH, where tokens are passed as the user), Go MySQL DSNs
//     (user:password@tcp(...)), Authorization headers and Bearer or Basic credentials, chat
//     webhook URLs (Slack, Discord, Microsoft Teams), whose path is the credential.
//   - Secret-looking keys with a value: key=value, key: value, "key": "value" and
//     "--key value", as in command lines, connection strings, JSON, YAML, netrc files, query
//     strings and "-ldflags -X pkg.Password=...". A key naming a password, secret, token,
//     credential or API, access or private key marks any value of four or more characters
//     other than a placeholder (true, false, null, $VAR, <...>, ***) secret; a key that only
//     hints at one (auth, login, sig, session, cookie, salt) needs a value of at least twelve
//     characters that looks random (at least 3 bits of entropy per character).
//
// The rules are documented by SecretValueRules; they are fixed.

// scanRule is one credential shape.
type scanRule struct {
	name string
	// hints are literal strings one of which must occur in the value (in its lower-case form when
	// fold is set) for the pattern to be tried; they let most values be cleared without running
	// a regular expression.
	hints []string
	// requires, when set, must occur in the value as well as one of hints.
	requires string
	fold     bool
	pattern  string
	re       *regexp.Regexp
	// check, when set, decides on each match (the submatches of pattern) whether it is a secret.
	check func(m []string) bool
}

// keyValuePattern finds a secret-looking key, its separator and its value. Group 1 is the key,
// group 2 the value.
const keyValuePattern = `(?i)([a-z0-9_.\-]*(?:pass|pwd|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key|account[_\-]?key|credential|auth|login|sig|session|cookie|salt)[a-z0-9_.\-]*)["']?\s*[:=]\s*["']?([^\s"',;&{}()\[\]]+)`

// keySpaceValuePattern finds a secret-looking command-line flag or netrc keyword followed by a
// space and its value.
const keySpaceValuePattern = `(?i)(?:^|[\s'"])-{0,2}(pass(?:word|wd|phrase)?|token|secret|api[_\-]?key|access[_\-]?token|auth[_\-]?token)\s+([^\s"'\-][^\s"']{3,})`

var scanRules = sync.OnceValue(func() []scanRule {
	rules := []scanRule{
		{name: "AWS access key id", hints: []string{"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "ABIA", "ACCA"},
			pattern: `(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}`},
		{name: "GitHub token", hints: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"},
			pattern: `gh[pousr]_[A-Za-z0-9]{30,}`},
		{name: "GitHub fine-grained token", hints: []string{"github_pat_"},
			pattern: `github_pat_[A-Za-z0-9_]{22,}`},
		{name: "GitLab token", hints: []string{"glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "gloas-", "glft-", "glimt-", "glagent-", "glsoat-"},
			pattern: `gl(?:pat|dt|rt|ptt|cbt|oas|ft|imt|agent|soat)-[A-Za-z0-9_.\-]{20,}`},
		{name: "Slack token", hints: []string{"xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-", "xoxo-", "xapp-"},
			pattern: `(?:xox[abposr]|xapp)-[A-Za-z0-9\-]{10,}`},
		{name: "Slack webhook", hints: []string{"hooks.slack.com"},
			pattern: `hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]+`},
		{name: "Discord webhook", hints: []string{"discord.com/api/webhooks/", "discordapp.com/api/webhooks/"},
			pattern: `discord(?:app)?\.com/api/webhooks/[0-9]+/[A-Za-z0-9_\-]+`},
		{name: "Microsoft Teams webhook", hints: []string{"webhook.office.com/", "logic.azure.com/"},
			pattern: `(?:webhook\.office\.com/webhookb2/|logic\.azure\.com[:0-9]*/workflows/)[^\s"']+`},
		{name: "Google Chat webhook", hints: []string{"chat.googleapis.com/"},
			pattern: `chat\.googleapis\.com/v1/spaces/[^\s"']+`},
		{name: "JSON Web Token", hints: []string{"eyJ"},
			pattern: `eyJ[A-Za-z0-9_\-]+\.eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*`},
		{name: "PEM private key", hints: []string{"PRIVATE KEY"},
			pattern: `-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`},
		{name: "URL with credentials", hints: []string{"://"}, requires: "@",
			pattern: `([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#@\s]+)@`, check: urlCredentials},
		{name: "MySQL DSN with password", hints: []string{"@tcp(", "@tcp6(", "@udp(", "@unix("},
			pattern: `[^\s:@/]*:[^\s@/]+@(?:tcp6?|udp|unix)\(`},
		{name: "Authorization header", hints: []string{"authorization"}, fold: true,
			pattern: `(?i)authorization["']?\s*[:=]\s*["']?[^\s"']+`},
		{name: "Bearer or Basic credentials", hints: []string{"bearer", "basic"}, fold: true,
			pattern: `(?i)(?:^|[^a-z0-9])(?:bearer|basic)\s+([A-Za-z0-9._~+/=\-]{8,})`, check: credentialLike},
		{name: "npm token", hints: []string{"npm_"},
			pattern: `npm_[A-Za-z0-9]{36}`},
		{name: "Google API key", hints: []string{"AIza"},
			pattern: `AIza[0-9A-Za-z_\-]{35}`},
		{name: "Google OAuth access token", hints: []string{"ya29."},
			pattern: `ya29\.[0-9A-Za-z_\-]{20,}`},
		{name: "PyPI token", hints: []string{"pypi-"},
			pattern: `pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}`},
		{name: "Docker Hub token", hints: []string{"dckr_pat_"},
			pattern: `dckr_pat_[A-Za-z0-9_\-]{20,}`},
		{name: "Stripe key", hints: []string{"sk_live_", "rk_live_", "sk_test_", "rk_test_"},
			pattern: `[sr]k_(?:live|test)_[0-9A-Za-z]{20,}`},
		{name: "SendGrid key", hints: []string{"SG."},
			pattern: `SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}`},
		{name: "Vault token", hints: []string{"hvs.", "hvb.", "hvr."},
			pattern: `hv[sbr]\.[A-Za-z0-9_\-]{24,}`},
		{name: "OpenAI or Anthropic key", hints: []string{"sk-"},
			pattern: `(?:^|[^A-Za-z0-9_\-])sk-[A-Za-z0-9_\-]{20,}`},
		{name: "DigitalOcean token", hints: []string{"_v1_"},
			pattern: `do[por]_v1_[a-f0-9]{64}`},
		{name: "Shopify token", hints: []string{"shpat_", "shpss_", "shpca_", "shppa_"},
			pattern: `shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}`},
		{name: "SonarQube token", hints: []string{"sqp_", "squ_", "sqa_"},
			pattern: `sq[pua]_[0-9a-f]{40}`},
		{name: "age secret key", hints: []string{"AGE-SECRET-KEY-1"},
			pattern: `AGE-SECRET-KEY-1[0-9A-Z]{50,}`},
		{name: "Telegram bot token", hints: []string{":AA"},
			pattern: `[0-9]{8,10}:AA[0-9A-Za-z_\-]{30,}`},
		{name: "Atlassian API token", hints: []string{"ATATT3"},
			pattern: `ATATT3[A-Za-z0-9_\-=]{40,}`},
		{name: "Postman API key", hints: []string{"PMAK-"},
			pattern: `PMAK-[a-f0-9]{24}-[a-f0-9]{34}`},
		{name: "Grafana token", hints: []string{"glsa_", "glc_"},
			pattern: `(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,})`},
		{name: "New Relic key", hints: []string{"NRAK-"},
			pattern: `NRAK-[A-Z0-9]{27}`},
		{name: "Databricks token", hints: []string{"dapi"},
			pattern: `dapi[a-f0-9]{32}`},
		{name: "Terraform Cloud token", hints: []string{".atlasv1."},
			pattern: `[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,}`},
		{name: "Doppler token", hints: []string{"dp.pt.", "dp.st.", "dp.sa.", "dp.ct."},
			pattern: `dp\.(?:pt|st|sa|ct)\.[A-Za-z0-9]{40,}`},
		{name: "Linear API key", hints: []string{"lin_api_"},
			pattern: `lin_api_[A-Za-z0-9]{40}`},
		{name: "Mailgun key", hints: []string{"key-"},
			pattern: `(?:^|[^A-Za-z0-9])key-[0-9a-f]{32}`},
		{name: "Azure AD client secret", hints: []string{"Q~"},
			pattern: `[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}`},
		{name: "secret-looking key with a value", fold: true,
			hints:   []string{"pass", "pwd", "secret", "token", "key", "credential", "auth", "login", "sig", "session", "cookie", "salt"},
			pattern: keyValuePattern, check: secretKeyValue},
		{name: "secret-looking flag with a value", fold: true,
			hints:   []string{"pass", "token", "secret", "key"},
			pattern: keySpaceValuePattern, check: secretFlagValue},
	}
	for i := range rules {
		rules[i].re = regexp.MustCompile(rules[i].pattern)
	}
	return rules
})

// ValueRule is one documented shape of credential that LooksSecret finds.
type ValueRule struct {
	// Name says what the rule finds, such as "GitHub token".
	Name string
	// Pattern is the regular expression (RE2 syntax) that finds a candidate anywhere in a value.
	// Some rules then judge the match further, as the package documentation describes.
	Pattern string
}

// SecretValueRules returns the credential shapes LooksSecret finds, in the order they are tried.
// The slice is a copy.
func SecretValueRules() []ValueRule {
	rules := scanRules()
	out := make([]ValueRule, len(rules))
	for i, r := range rules {
		out[i] = ValueRule{Name: r.name, Pattern: r.pattern}
	}
	return out
}

// LooksSecret reports whether value contains a credential of one of the SecretValueRules shapes.
func LooksSecret(value string) bool {
	_, ok := secretValueRule(value)
	return ok
}

// secretValueRule returns the name of the first rule that finds a credential in value.
func secretValueRule(value string) (string, bool) {
	if len(value) < 8 {
		// No rule finds a credential in fewer bytes ("a:b@" needs a scheme, "pwd=" a value).
		return "", false
	}
	rules := scanRules()
	lower := ""
	for i := range rules {
		r := &rules[i]
		hay := value
		if r.fold {
			if lower == "" {
				lower = strings.ToLower(value)
			}
			hay = lower
		}
		hinted := false
		for _, h := range r.hints {
			if strings.Contains(hay, h) {
				hinted = true
				break
			}
		}
		if !hinted || r.requires != "" && !strings.Contains(value, r.requires) {
			continue
		}
		if r.check == nil {
			if r.re.MatchString(value) {
				return r.name, true
			}
			continue
		}
		for _, m := range r.re.FindAllStringSubmatch(value, -1) {
			if r.check(m) {
				return r.name, true
			}
		}
	}
	return "", false
}

// urlCredentials judges a URL's user information (m[1] the scheme, m[2] what precedes '@'): a
// password is a credential; so is a user name alone, except an account name in an SSH URL
// (ssh://git@host), which names an account, not a secret.
func urlCredentials(m []string) bool {
	user, password, hasPassword := strings.Cut(m[2], ":")
	if hasPassword {
		return password != ""
	}
	switch strings.ToLower(m[1]) {
	case "ssh", "git+ssh", "ssh+git", "sftp", "scp":
		return !accountName(user)
	}
	return user != ""
}

// accountName reports whether s reads as a login name, not as a token: short, lower-case letters,
// digits, '.', '_' and '-'.
func accountName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// credentialLike judges what follows "Bearer" or "Basic": a token has a digit or one of the
// characters of base64 and URL-safe tokens, which a word of prose ("basic authentication") does
// not.
func credentialLike(m []string) bool {
	return strings.ContainsAny(m[1], "0123456789._~+/=-")
}

// strongKeyWords make any non-placeholder value of a key secret; other key words need a random
// value.
var strongKeyWords = []string{"pass", "pwd", "secret", "token", "apikey", "api_key", "api-key",
	"accesskey", "access_key", "access-key", "privatekey", "private_key", "private-key",
	"accountkey", "account_key", "account-key", "credential"}

func secretKeyValue(m []string) bool {
	key, value := strings.ToLower(m[1]), m[2]
	if placeholder(value) {
		return false
	}
	for _, w := range strongKeyWords {
		if strings.Contains(key, w) {
			return len(value) >= 4
		}
	}
	return len(value) >= 12 && entropy(value) >= 3
}

func secretFlagValue(m []string) bool {
	return !placeholder(m[2])
}

// placeholder reports whether a value stands for a secret rather than being one: a boolean or
// null, a variable reference, or a mask.
func placeholder(v string) bool {
	switch strings.ToLower(v) {
	case "true", "false", "null", "nil", "none", "yes", "no", "on", "off", "required", "optional", "redacted", "[redacted]":
		return true
	}
	if len(v) < 4 {
		return true
	}
	switch v[0] {
	case '$', '<', '*', '%':
		return true
	}
	return strings.Trim(v, "*xX.") == ""
}

// entropy returns the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
