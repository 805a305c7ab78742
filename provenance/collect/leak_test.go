package collect_test

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/provkit/provkit/provenance/collect"
)

// secretCase is one kind of credential as it turns up in a build: under its usual variable name,
// with a value of its usual shape. secret is the part that must never be recorded.
type secretCase struct {
	kind  string
	name  string
	value string
	// secret is the sensitive part of value (value itself when empty).
	secret string
	// shaped says the value alone gives it away, wherever it is recorded; otherwise only the
	// variable's name does.
	shaped bool
}

func (c secretCase) needle() string {
	if c.secret != "" {
		return c.secret
	}
	return c.value
}

// Fake credentials, shaped like the real ones.
const (
	fakeB64     = "Q2xQdXRTZWNyZXRWYWx1ZUhlcmVGb3JUZXN0czEyMzQ1Njc4OTA"
	fakeHex40   = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"
	fakeAlnum36 = "R7eXq2LmZ9pT4vW1sK8dN3bF6hJ0cYaU5gQi"
)

func secretCases() []secretCase {
	jwt := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjaS1ydW5uZXIiLCJpYXQiOjE3MDAwMDAwMDB9.Qx7v3mJ0sWb9ZrT1yK4nP8dL2cF6hG5aE0uV3iO7wXk"
	return []secretCase{
		{kind: "GitHub classic token", name: "GH_PAT", value: "ghp_" + fakeAlnum36, shaped: true},
		{kind: "GitHub OAuth token", name: "GH_OAUTH", value: "gho_" + strings.ToLower(fakeAlnum36), shaped: true},
		{kind: "GitHub app server token", name: "GH_APP", value: "ghs_" + strings.ToUpper(fakeAlnum36), shaped: true},
		{kind: "GitHub fine-grained token", name: "GH_FINE", value: "github_pat_11ABCDEFG0" + fakeAlnum36 + "_" + fakeAlnum36, shaped: true},
		{kind: "GitLab personal token", name: "GL_PAT", value: "glpat-" + fakeAlnum36[:20], shaped: true},
		{kind: "GitLab runner token", name: "RUNNER_REG", value: "glrt-" + fakeAlnum36[4:26], shaped: true},
		{kind: "Slack bot token", name: "SLACK_BOT", value: "xoxb-123456789012-1234567890123-" + fakeAlnum36[:24], shaped: true},
		{kind: "Slack user token", name: "SLACK_USER", value: "xoxp-123456789012-1234567890123-" + fakeAlnum36[:24], shaped: true},
		{kind: "Slack webhook", name: "NOTIFY_URL", value: "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/" + fakeAlnum36[:24], secret: fakeAlnum36[:24], shaped: true},
		{kind: "Discord webhook", name: "CHAT_HOOK_URL", value: "https://discord.com/api/webhooks/123456789012345678/" + fakeB64 + "-dsc", secret: fakeB64 + "-dsc", shaped: true},
		{kind: "Discordapp webhook", name: "CHAT2_URL", value: "https://discordapp.com/api/webhooks/223456789012345678/dsc2" + fakeAlnum36, secret: "dsc2" + fakeAlnum36, shaped: true},
		{kind: "Teams webhook", name: "TEAMS_URL", value: "https://contoso.webhook.office.com/webhookb2/0000-1111@2222/IncomingWebhook/ms" + fakeHex40 + "/3333", secret: "ms" + fakeHex40, shaped: true},
		{kind: "AWS access key id", name: "AWS_ACCESS_KEY_ID", value: "AKIAZ7Q3EXAMPLE4KEY5", shaped: true},
		{kind: "AWS secret access key", name: "AWS_SECRET_ACCESS_KEY", value: "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + fakeAlnum36[:10]},
		{kind: "AWS secret in key=value", name: "AWS_CONFIG_LINE", value: "aws_secret_access_key = aWsS3cr3t/K7MDENG/bPxRfiCYzzEXAMPLEKEY", secret: "aWsS3cr3t/K7MDENG/bPxRfiCYzzEXAMPLEKEY", shaped: true},
		{kind: "Google API key", name: "MAPS_API_KEY", value: "AIzaSyD-" + fakeAlnum36[:31], shaped: true},
		{kind: "Google OAuth access token", name: "GCLOUD_ACCESS", value: "ya29.a0AfH6SM" + fakeAlnum36 + fakeAlnum36, shaped: true},
		{kind: "Stripe live key", name: "STRIPE_KEY", value: "sk_live_51H" + fakeAlnum36[:24], shaped: true},
		{kind: "npm token", name: "NPM_CONFIG_TOKEN", value: "npm_" + fakeAlnum36, shaped: true},
		{kind: "PyPI token", name: "TWINE_PASSWORD", value: "pypi-AgEIcHlwaS5vcmc" + fakeB64 + fakeAlnum36, shaped: true},
		{kind: "SendGrid key", name: "SENDGRID_API_KEY", value: "SG." + fakeAlnum36[:22] + "." + fakeB64[:43], shaped: true},
		{kind: "Docker Hub token", name: "DOCKERHUB_PAT", value: "dckr_pat_" + fakeAlnum36[:27], shaped: true},
		{kind: "JSON Web Token", name: "ID_TOKEN_JWT", value: jwt, shaped: true},
		{kind: "PEM RSA private key", name: "SIGNING_PEM", value: "-----BEGIN RSA PRIVATE KEY-----\nMIIEow" + fakeB64 + "\n-----END RSA PRIVATE KEY-----", secret: "MIIEow" + fakeB64, shaped: true},
		{kind: "OpenSSH private key", name: "DEPLOY_SSH", value: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA" + fakeAlnum36 + "\n-----END OPENSSH PRIVATE KEY-----", secret: "b3BlbnNzaC1rZXktdjEAAAAA" + fakeAlnum36, shaped: true},
		{kind: "URL with password", name: "DATABASE_URL", value: "postgres://app:Pg-url-s3cret@db.internal:5432/app", secret: "Pg-url-s3cret", shaped: true},
		{kind: "URL with token as user", name: "GIT_URL", value: "https://Tk9zZWNyZXRVc2VyVG9rZW4x@git.example.com/org/repo.git", secret: "Tk9zZWNyZXRVc2VyVG9rZW4x", shaped: true},
		{kind: "URL with x-access-token", name: "CLONE_URL", value: "https://x-access-token:xat-" + fakeAlnum36 + "@github.com/org/repo", secret: "xat-" + fakeAlnum36, shaped: true},
		{kind: "MySQL DSN", name: "MYSQL_DSN_ALT", value: "app:Mysql-s3cret@tcp(db:3306)/app?parseTime=true", secret: "Mysql-s3cret", shaped: true},
		{kind: "PostgreSQL keyword DSN", name: "PGCONN", value: "host=db user=app password=Pg-kw-s3cret dbname=app sslmode=disable", secret: "Pg-kw-s3cret", shaped: true},
		{kind: "SQL Server connection string", name: "MSSQL_CONN", value: "Server=db;Database=app;User Id=sa;Password=Mssql-s3cret;", secret: "Mssql-s3cret", shaped: true},
		{kind: "JDBC URL password", name: "JDBC", value: "jdbc:mysql://db:3306/app?user=app&password=Jdbc-s3cret", secret: "Jdbc-s3cret", shaped: true},
		{kind: "MongoDB URI", name: "MONGO_URI", value: "mongodb+srv://app:Mongo-s3cret@cluster0.example.net/app", secret: "Mongo-s3cret", shaped: true},
		{kind: "Redis URL password only", name: "REDIS", value: "redis://:Redis-s3cret@cache:6379/0", secret: "Redis-s3cret", shaped: true},
		{kind: "Authorization Bearer header", name: "CURL_ARGS", value: "-H 'Authorization: Bearer Bearer-s3cret-" + fakeAlnum36[:12] + "' https://api.example.com", secret: "Bearer-s3cret-" + fakeAlnum36[:12], shaped: true},
		{kind: "Authorization Basic header", name: "EXTRA_HEADER", value: "Authorization: Basic YmFzaWMtdXNlcjpCYXNpYy1zM2NyZXQ=", secret: "YmFzaWMtdXNlcjpCYXNpYy1zM2NyZXQ=", shaped: true},
		{kind: "API key header", name: "HTTP_HEADERS", value: "X-Api-Key: Xapi-s3cret-" + fakeAlnum36[:10], secret: "Xapi-s3cret-" + fakeAlnum36[:10], shaped: true},
		{kind: "JSON config password", name: "APP_CONFIG_JSON", value: `{"db":{"host":"db","password":"Json-s3cret"}}`, secret: "Json-s3cret", shaped: true},
		{kind: "JSON config api key", name: "SERVICE_JSON", value: `{"endpoint":"https://x.example","api_key": "Jsonkey-s3cret-1"}`, secret: "Jsonkey-s3cret-1", shaped: true},
		{kind: "ldflags -X Password", name: "GOFLAGS", value: "-ldflags=-X main.Password=Ldflags-s3cret", secret: "Ldflags-s3cret", shaped: true},
		{kind: "ldflags -X apiToken", name: "LDFLAGS", value: "-s -w -X 'example.com/app/config.apiToken=Ldtok-s3cret-99'", secret: "Ldtok-s3cret-99", shaped: true},
		{kind: "command line --password", name: "DEPLOY_CMD", value: "deploy --user ci --password Cmdline-s3cret --host prod", secret: "Cmdline-s3cret", shaped: true},
		{kind: "netrc line", name: "NETRC_LINE", value: "machine git.example.com login ci password Netrc-s3cret", secret: "Netrc-s3cret", shaped: true},
		{kind: "Docker config auth", name: "DOCKER_CONFIG_JSON", value: `{"auths":{"registry.example.com":{"auth":"ZG9ja2VyOkRvY2tlci1zM2NyZXQtMTIzNA=="}}}`, secret: "ZG9ja2VyOkRvY2tlci1zM2NyZXQtMTIzNA==", shaped: true},
		{kind: "Azure storage connection string", name: "AZURE_STORAGE_CONNECTION", value: "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + fakeB64 + "Az==;EndpointSuffix=core.windows.net", secret: fakeB64 + "Az==", shaped: true},
		{kind: "Azure SAS signature", name: "BLOB_URL", value: "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2030-01-01&sp=r&sig=Sas" + fakeAlnum36 + "%3D", secret: "Sas" + fakeAlnum36, shaped: true},
		{kind: "Vault token", name: "VAULT_ADDR_TOKEN", value: "hvs.CAESI" + fakeAlnum36 + fakeAlnum36[:10], shaped: true},
		{kind: "OpenAI key", name: "LLM_KEY", value: "sk-proj-" + fakeAlnum36 + fakeAlnum36, shaped: true},
		{kind: "Anthropic key", name: "CLAUDE_KEY", value: "sk-ant-api03-" + fakeAlnum36 + fakeAlnum36, shaped: true},
		{kind: "DigitalOcean token", name: "DO_PAT", value: "dop_v1_" + fakeHex40 + strings.Repeat("ab12", 6), shaped: true},
		{kind: "Shopify token", name: "SHOP_ACCESS", value: "shpat_" + strings.Repeat("0a1b2c3d", 4), shaped: true},
		{kind: "SonarQube token", name: "SONAR_LOGIN", value: "sqp_" + fakeHex40, shaped: true},
		{kind: "Age secret key", name: "AGE_IDENTITY", value: "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQG", shaped: true},
		{kind: "Telegram bot token", name: "TG_BOT", value: "123456789:AAF" + fakeAlnum36[:32], shaped: true},
		{kind: "client_secret key=value", name: "OAUTH_ARGS", value: "client_id=ci&client_secret=Cs-" + fakeAlnum36[:20], secret: "Cs-" + fakeAlnum36[:20], shaped: true},
		{kind: "DB_PASS by name", name: "DB_PASS", value: "hunter2-dbpass"},
		{kind: "MYSQL_PWD by name", name: "MYSQL_PWD", value: "hunter2-mysqlpwd"},
		{kind: "RABBITMQ_DEFAULT_PASS by name", name: "RABBITMQ_DEFAULT_PASS", value: "hunter2-rabbit"},
		{kind: "SSHPASS by name", name: "SSHPASS", value: "hunter2-sshpass"},
		{kind: "SONAR_LOGIN legacy hex by name", name: "SONAR_LOGIN_LEGACY", value: "0c5d" + fakeHex40[4:]},
		{kind: "GPG passphrase by name", name: "GPG_PASSPHRASE", value: "correct horse battery staple"},
		{kind: "Heroku API key by name", name: "HEROKU_API_KEY", value: "01234567-89ab-cdef-0123-456789abcdef"},
	}
}

// leakingStatement collects a Jenkins build in which every secret case is present: under its own
// variable name, asked for by name; when shaped, also under an innocent name the caller asked for
// and in the repository URL; and, when everywhere is set, also as build parameters and Go build
// settings. It returns the
// statement bytes as they would be signed.
func leakingStatement(t *testing.T, cases []secretCase, everywhere bool) []byte {
	t.Helper()
	env := map[string]string{
		"JENKINS_URL": "https://ci.example.com/",
		"BUILD_URL":   "https://ci.example.com/job/app/7/",
		"JOB_NAME":    "app",
		"GIT_COMMIT":  fakeHex40,
		"BUILD_NOTE":  "nightly build of the app",
	}
	names := []string{"BUILD_NOTE"}
	params := map[string]any{}
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Path: "example.com/app", Main: debug.Module{Path: "example.com/app", Version: "(devel)"}}
	for i, c := range cases {
		env[c.name] = c.value
		names = append(names, c.name)
		if !c.shaped {
			continue
		}
		note := fmt.Sprintf("NOTE_%d", i)
		env[note] = "see " + c.value + " here"
		names = append(names, note)
		if !everywhere {
			continue
		}
		params[fmt.Sprintf("p%d", i)] = c.value
		params[fmt.Sprintf("list%d", i)] = []any{"a", map[string]any{"v": c.value}}
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: fmt.Sprintf("-s%d", i), Value: c.value})
	}
	for _, c := range cases {
		if c.kind == "URL with token as user" {
			env["GIT_URL"] = c.value
		}
	}
	b, err := collect.Build(context.Background(), t.TempDir(),
		collect.WithEnv(env),
		collect.WithoutGit(),
		collect.WithClock(func() time.Time { return time.Unix(1700000000, 0).UTC() }),
		collect.WithEnvCapture(collect.WithAllowList(names...)),
		collect.WithParameters(params),
		collect.WithToolchain(collect.ToolchainFromBuildInfo(bi)),
	)
	if err != nil {
		t.Fatal(err)
	}
	b.FinishedOn = b.StartedOn
	st, err := b.Statement([]*intoto.ResourceDescriptor{{Name: "app", Digest: map[string]string{"sha256": strings.Repeat("ab", 32)}}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := protojson.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// leaks returns the kinds whose secret, or its JSON-escaped form, occurs in data.
func leaks(data []byte, cases []secretCase) []string {
	s := string(data)
	var out []string
	for _, c := range cases {
		n := c.needle()
		esc := strings.NewReplacer("\n", `\n`, `"`, `\"`, "&", `\u0026`, "'", `'`, "<", `\u003c`, ">", `\u003e`).Replace(n)
		if strings.Contains(s, n) || strings.Contains(s, esc) || strings.Contains(s, c.value) {
			out = append(out, c.kind)
		}
	}
	return out
}

// TestNoSecretInStatement is the end-to-end guarantee: whatever the build environment, parameters
// and toolchain hold, none of the secrets reaches the statement bytes that get signed, while an
// unrelated variable the caller asked for is still recorded.
func TestNoSecretInStatement(t *testing.T) {
	cases := secretCases()
	if len(cases) < 40 {
		t.Fatalf("only %d kinds of secret", len(cases))
	}
	for _, tc := range []struct {
		name       string
		everywhere bool
	}{{"environment", false}, {"everywhere", true}} {
		t.Run(tc.name, func(t *testing.T) {
			data := leakingStatement(t, cases, tc.everywhere)
			leaked := leaks(data, cases)
			t.Logf("%d kinds of secret tried, %d leaked", len(cases), len(leaked))
			for _, k := range leaked {
				t.Errorf("leaked: %s", k)
			}
			if !strings.Contains(string(data), `"BUILD_NOTE":"nightly build of the app"`) {
				t.Errorf("the variable asked for is not recorded:\n%s", data)
			}
		})
	}
}
