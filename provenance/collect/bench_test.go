package collect_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/provkit/provkit/provenance/collect"
)

// benchEnv returns an environment of n variables shaped like a CI runner's: mostly paths, flags
// and URLs, with a secret by name or by value every tenth variable.
func benchEnv(n int) map[string]string {
	env := make(map[string]string, n)
	for i := range n {
		switch i % 10 {
		case 0:
			env[fmt.Sprintf("SERVICE_%d_TOKEN", i)] = strings.Repeat("t", 40)
		case 1:
			env[fmt.Sprintf("UPLOAD_%d", i)] = "ghp_" + strings.Repeat("a1B2", 9)
		case 2:
			env[fmt.Sprintf("MIRROR_%d_URL", i)] = "https://mirror.example.test/repo/" + strings.Repeat("x", 30)
		case 3:
			env[fmt.Sprintf("RUNNER_%d_PATH", i)] = "/opt/hostedtoolcache/go/1.26.0/x64/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"
		default:
			env[fmt.Sprintf("BUILD_VAR_%d", i)] = fmt.Sprintf("value-%d-%s", i, strings.Repeat("v", 20))
		}
	}
	return env
}

// BenchmarkCaptureEnv records a 200-variable environment, every variable asked for by name, so
// that each passes the name rule and the credential scanner. Bytes are the names and values read.
func BenchmarkCaptureEnv(b *testing.B) {
	env := benchEnv(200)
	var size int64
	names := make([]string, 0, len(env))
	for k, v := range env {
		size += int64(len(k) + len(v))
		names = append(names, k)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := collect.CaptureEnv(env, collect.WithEnvNames(names...)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDetectPlatform detects GitHub Actions in a 200-variable environment.
func BenchmarkDetectPlatform(b *testing.B) {
	env := benchEnv(200)
	for k, v := range ciEnv() {
		env[k] = v
	}
	b.ReportAllocs()
	for b.Loop() {
		collect.DetectPlatform(env)
	}
}

// typicalEnv is the environment of a GitHub-hosted runner step: the runner's own variables, the
// image's tool paths and settings, and a few secrets the workflow passes in.
func typicalEnv() map[string]string {
	env := ciEnv()
	for k, v := range map[string]string{
		"CI": "true", "HOME": "/home/runner", "USER": "runner", "SHELL": "/bin/bash", "LANG": "C.UTF-8",
		"PATH":          "/opt/hostedtoolcache/go/1.26.0/x64/bin:/home/runner/.local/bin:/opt/pipx_bin:/home/runner/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"GITHUB_ACTION": "__run_2", "GITHUB_ACTOR": "octocat", "GITHUB_ACTOR_ID": "583231",
		"GITHUB_API_URL": "https://api.github.com", "GITHUB_GRAPHQL_URL": "https://api.github.com/graphql",
		"GITHUB_BASE_REF": "", "GITHUB_HEAD_REF": "", "GITHUB_JOB": "build", "GITHUB_REF_NAME": "main",
		"GITHUB_REF_TYPE": "branch", "GITHUB_REF_PROTECTED": "true", "GITHUB_REPOSITORY_ID": "123456789",
		"GITHUB_REPOSITORY_OWNER": "octo-org", "GITHUB_RUN_NUMBER": "42", "GITHUB_WORKFLOW": "build",
		"GITHUB_WORKFLOW_SHA": "0123456789abcdef0123456789abcdef01234567", "GITHUB_WORKSPACE": "/home/runner/work/app/app",
		"GITHUB_EVENT_PATH": "/home/runner/work/_temp/_github_workflow/event.json",
		"GITHUB_ENV":        "/home/runner/work/_temp/_runner_file_commands/set_env_1", "GITHUB_OUTPUT": "/home/runner/work/_temp/_runner_file_commands/set_output_1",
		"GITHUB_STEP_SUMMARY": "/home/runner/work/_temp/_runner_file_commands/step_summary_1", "GITHUB_RETENTION_DAYS": "90",
		"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "RUNNER_TEMP": "/home/runner/work/_temp", "RUNNER_TOOL_CACHE": "/opt/hostedtoolcache",
		"ImageOS": "ubuntu24", "ImageVersion": "20261201.1.0", "JAVA_HOME": "/usr/lib/jvm/temurin-17-jdk-amd64",
		"ANDROID_HOME": "/usr/local/lib/android/sdk", "GOROOT_1_26_X64": "/opt/hostedtoolcache/go/1.26.0/x64",
		"DOTNET_NOLOGO": "1", "POWERSHELL_DISTRIBUTION_CHANNEL": "GitHub-Actions-ubuntu24", "PIPX_HOME": "/opt/pipx",
		"GOFLAGS": "-trimpath", "CGO_ENABLED": "0", "SOURCE_DATE_EPOCH": "1700000000",
		"ACTIONS_RUNTIME_URL": "https://pipelines.actions.githubusercontent.com/abc/", "ACTIONS_CACHE_URL": "https://artifactcache.actions.githubusercontent.com/abc/",
		"ACTIONS_RUNTIME_TOKEN":          "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzY3AiOiJBY3Rpb25zLlJ1bnRpbWUifQ.c2lnbmF0dXJl",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzY3AiOiJJZFRva2VuIn0.c2lnbmF0dXJl",
		"ACTIONS_ID_TOKEN_REQUEST_URL":   "https://pipelines.actions.githubusercontent.com/abc/idtoken?api-version=2.0",
		"GITHUB_TOKEN":                   "ghs_" + strings.Repeat("a1B2", 9), "NPM_TOKEN": "npm_" + strings.Repeat("c3D4", 9),
		"DATABASE_URL": "postgres://app:pw@localhost:5432/app", "DB_PASS": "hunter2",
	} {
		env[k] = v
	}
	for i := range 60 {
		env[fmt.Sprintf("TOOL_%d_HOME", i)] = fmt.Sprintf("/opt/hostedtoolcache/tool%d/1.%d.0/x64", i, i)
	}
	return env
}

// BenchmarkCaptureTypicalEnv records the environment of a GitHub-hosted runner step, as Build
// does by default.
func BenchmarkCaptureTypicalEnv(b *testing.B) {
	env := typicalEnv()
	var size int64
	for k, v := range env {
		size += int64(len(k) + len(v))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := collect.CaptureEnv(env); err != nil {
			b.Fatal(err)
		}
	}
}
