package collect_test

import (
	"context"
	"errors"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/provkit/provkit/provenance/collect"
)

// TestLooksSecretFindsEveryShape checks that each shaped kind of secret is found by its value
// alone, bare and inside a longer string.
func TestLooksSecretFindsEveryShape(t *testing.T) {
	for _, c := range secretCases() {
		if !c.shaped {
			continue
		}
		t.Run(c.kind, func(t *testing.T) {
			for _, v := range []string{c.value, "prefix " + c.value + " suffix", "a\n" + c.value + "\nb"} {
				if !collect.LooksSecret(v) {
					t.Errorf("LooksSecret(%q) = false", v)
				}
			}
		})
	}
}

// TestLooksSecretKeepsOrdinaryValues guards against rules so broad that the facts a reader needs
// are withheld.
func TestLooksSecretKeepsOrdinaryValues(t *testing.T) {
	for _, v := range []string{
		"/opt/hostedtoolcache/go/1.26.0/x64/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin",
		"https://github.com/team/app.git",
		"ssh://git@git.example.test/team/app.git",
		"git@github.com:team/app.git",
		"-trimpath -mod=readonly",
		"-s -w -X main.version=1.2.3 -X main.commit=0123456789abcdef0123456789abcdef01234567",
		"team/app/.github/workflows/release.yml@refs/tags/v1.0.0",
		"registry.example.test/app@sha256:" + strings.Repeat("ab", 32),
		"use basic authentication against the mirror",
		"password=${{ secrets.DB_PASSWORD }}",
		"--password-stdin",
		"token: $CI_JOB_TOKEN",
		"passthrough=true",
		"eyJ is how base64 JSON starts; AKIA alone is short",
		"https://gitlab.example.test/team/app/-/jobs/7",
		"https://dev.azure.com/org/project/_build/results?buildId=12",
		"author=Ada Lovelace",
		"1700000000",
	} {
		if collect.LooksSecret(v) {
			t.Errorf("LooksSecret(%q) = true", v)
		}
	}
}

// TestDefaultCaptureIsPlatformAllowList checks that, without options, exactly the platform's
// documented variables are considered, and that one of them holding a credential is left out
// and listed.
func TestDefaultCaptureIsPlatformAllowList(t *testing.T) {
	env := map[string]string{
		"JENKINS_URL": "https://ci.example.com/",
		"BUILD_URL":   "https://ci.example.com/job/app/7/",
		"GIT_URL":     "https://Tk9zZWNyZXRVc2VyVG9rZW4x@git.example.com/org/repo.git",
		"GIT_COMMIT":  "0123456789abcdef0123456789abcdef01234567",
		"HOME":        "/var/lib/jenkins",
		"DB_PASS":     "hunter2",
		"MYSQL_PWD":   "hunter2",
		"SSHPASS":     "hunter2",
	}
	got, err := collect.CaptureEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"JENKINS_URL": env["JENKINS_URL"], "BUILD_URL": env["BUILD_URL"], "GIT_COMMIT": env["GIT_COMMIT"]}
	if len(got.Vars) != len(want) {
		t.Errorf("Vars = %v, want %v", got.Vars, want)
	}
	for k, v := range want {
		if got.Vars[k] != v {
			t.Errorf("Vars[%s] = %q, want %q", k, got.Vars[k], v)
		}
	}
	if !slices.Equal(got.Redacted, []string{"GIT_URL"}) {
		t.Errorf("Redacted = %q, want [GIT_URL]", got.Redacted)
	}
}

// TestPlatformEnvNames checks that every platform has an allow-list, that no name on one looks
// secret by the name rule, and that the list returned is a copy.
func TestPlatformEnvNames(t *testing.T) {
	for _, p := range []string{collect.PlatformGitHubActions, collect.PlatformGitLabCI, collect.PlatformJenkins,
		collect.PlatformBuildkite, collect.PlatformCircleCI, collect.PlatformAzurePipelines} {
		names := collect.PlatformEnvNames(p)
		if len(names) == 0 {
			t.Errorf("%s: no variables", p)
			continue
		}
		env := map[string]string{}
		for _, n := range names {
			env[n] = "plain"
		}
		got, err := collect.CaptureEnv(env, collect.WithAllowList(names...))
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Redacted) != 0 {
			t.Errorf("%s: names that look secret on the allow-list: %q", p, got.Redacted)
		}
		names[0] = "CHANGED"
		if collect.PlatformEnvNames(p)[0] == "CHANGED" {
			t.Errorf("%s: PlatformEnvNames returned the package's own slice", p)
		}
	}
	if n := collect.PlatformEnvNames(collect.PlatformLocal); len(n) != 0 {
		t.Errorf("local platform records %q by default", n)
	}
}

// TestBuildListsRedactedFields checks that a credential in a parameter or a build setting is
// replaced by Redacted and the field named in redactedFields.
func TestBuildListsRedactedFields(t *testing.T) {
	b, err := collect.Build(context.Background(), t.TempDir(),
		collect.WithoutGit(),
		collect.WithClock(func() time.Time { return time.Unix(1700000000, 0).UTC() }),
		collect.WithParameters(map[string]any{
			"dsn":    "app:Mysql-s3cret@tcp(db:3306)/app",
			"nested": map[string]any{"hook": []any{"https://hooks.slack.com/services/T0/B0/abcdefabcdef"}},
			"plain":  "linux/amd64",
		}),
		collect.WithToolchain(collect.ToolchainFromBuildInfo(buildInfoWith("-ldflags", "-X main.Password=Ldflags-s3cret"))),
	)
	if err != nil {
		t.Fatal(err)
	}
	params := b.ExternalParameters["parameters"].(map[string]any)
	if params["dsn"] != collect.Redacted || params["plain"] != "linux/amd64" {
		t.Errorf("parameters = %v", params)
	}
	want := []string{
		"externalParameters.parameters.dsn",
		"externalParameters.parameters.nested.hook[0]",
		"internalParameters.toolchain.settings.-ldflags",
	}
	if got, _ := b.InternalParameters["redactedFields"].([]string); !slices.Equal(got, want) {
		t.Errorf("redactedFields = %q, want %q", got, want)
	}
}

func TestWithBuilderIDRejectsCredential(t *testing.T) {
	_, err := collect.Build(context.Background(), t.TempDir(), collect.WithoutGit(),
		collect.WithParameters(map[string]any{"a": "b"}),
		collect.WithBuilderID("https://bot:pw@ci.example.com/builder"))
	if !errors.Is(err, collect.ErrInvalidOption) {
		t.Fatalf("err = %v, want ErrInvalidOption", err)
	}
}

func buildInfoWith(key, value string) *debug.BuildInfo {
	return &debug.BuildInfo{
		GoVersion: "go1.26.0", Path: "example.test/app",
		Main:     debug.Module{Path: "example.test/app", Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "-trimpath", Value: "true"}, {Key: key, Value: value}},
	}
}
