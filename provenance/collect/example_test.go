package collect_test

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/collect"
)

func ExampleCaptureEnv() {
	env := map[string]string{
		"GITHUB_ACTIONS": "true", // GitHub Actions: its documented variables are recorded
		"GITHUB_SHA":     "0123456789abcdef0123456789abcdef01234567",
		"GITHUB_TOKEN":   "anything", // secret by name
		"GOFLAGS":        "-trimpath",
		"DEPLOY_URL":     "https://deploy:hunter2@deploy.example.test/app", // secret by value
		"AWS_REGION":     "eu-west-1",
		"HOME":           "/home/runner", // neither the platform's nor asked for: left out
	}
	captured, err := collect.CaptureEnv(env, collect.WithEnvNames("GOFLAGS", "DEPLOY_URL", "AWS_REGION", "GITHUB_TOKEN"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range slices.Sorted(maps.Keys(captured.Vars)) {
		fmt.Printf("%s=%s\n", name, captured.Vars[name])
	}
	fmt.Println("redacted:", captured.Redacted)
	// Output:
	// AWS_REGION=eu-west-1
	// GITHUB_ACTIONS=true
	// GITHUB_SHA=0123456789abcdef0123456789abcdef01234567
	// GOFLAGS=-trimpath
	// redacted: [DEPLOY_URL GITHUB_TOKEN]
}

func ExampleCaptureEnv_allowList() {
	env := map[string]string{"GOOS": "linux", "HOME": "/home/builder", "NPM_TOKEN": "x"}
	captured, err := collect.CaptureEnv(env, collect.WithAllowList("GOOS", "NPM_TOKEN"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(captured.Vars), captured.Vars["GOOS"], captured.Redacted)
	// Output:
	// 1 linux [NPM_TOKEN]
}

func ExampleDetectPlatform() {
	p := collect.DetectPlatform(map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_REPOSITORY":   "octo-org/octo-repo",
		"GITHUB_RUN_ID":       "1658821493",
		"GITHUB_RUN_ATTEMPT":  "1",
		"GITHUB_WORKFLOW_REF": "octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.0.0",
		"GITHUB_EVENT_NAME":   "push",
		"GITHUB_REF":          "refs/tags/v1.0.0",
		"RUNNER_ENVIRONMENT":  "github-hosted",
	})
	fmt.Println(p.Name)
	fmt.Println(p.BuilderID)
	fmt.Println(p.InvocationID)
	fmt.Println(p.Workflow)
	fmt.Println(p.Trigger, p.Ref)

	local := collect.DetectPlatform(map[string]string{"HOME": "/home/dev"})
	fmt.Println(local.Name, local.BuilderID)
	// Output:
	// github-actions
	// https://github.com/actions/runner/github-hosted
	// https://github.com/octo-org/octo-repo/actions/runs/1658821493/attempts/1
	// octo-org/octo-repo/.github/workflows/release.yml@refs/tags/v1.0.0
	// push refs/tags/v1.0.0
	// local https://provkit.dev/builders/local/v1
}

func ExampleStripCredentials() {
	fmt.Println(collect.StripCredentials("https://x-access-token:secret@github.com/org/repo.git"))
	fmt.Println(collect.StripCredentials("ssh://git@github.com/org/repo.git"))
	fmt.Println(collect.StripCredentials("git@github.com:org/repo.git"))
	// Output:
	// https://github.com/org/repo.git
	// ssh://git@github.com/org/repo.git
	// git@github.com:org/repo.git
}

func ExampleImageMaterial() {
	pinned, err := collect.ImageMaterial("golang:1.26@sha256:4d1e5a0ea6e1b0a8a4e2f5e0c1d9b1c2a3e4f5061728394a5b6c7d8e9f0a1b2c", provenance.RoleBaseImage)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pinned.GetName(), pinned.GetDigest()["sha256"][:12], provenance.Role(pinned))

	byTag, err := collect.ImageMaterial("alpine:3.20", provenance.RoleBaseImage)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(byTag.GetName(), len(byTag.GetDigest()), byTag.GetAnnotations().GetFields()[provenance.AnnotationUnpinned].GetStringValue())
	// Output:
	// golang:1.26 4d1e5a0ea6e1 base-image
	// alpine:3.20 0 true
}

func ExampleBuild() {
	// A CI job's environment, as collect.ProcessEnv() would return it there.
	env := map[string]string{
		"GITLAB_CI":          "true",
		"CI_SERVER_URL":      "https://gitlab.example.test",
		"CI_PROJECT_URL":     "https://gitlab.example.test/team/app",
		"CI_PROJECT_PATH":    "team/app",
		"CI_JOB_URL":         "https://gitlab.example.test/team/app/-/jobs/7",
		"CI_PIPELINE_SOURCE": "push",
		"CI_COMMIT_TAG":      "v1.0.0",
		"CI_COMMIT_SHA":      "0123456789abcdef0123456789abcdef01234567",
		"CI_JOB_TOKEN":       "job-token",
		"SOURCE_DATE_EPOCH":  "1700000000",
		"GOOS":               "linux",
	}
	// Here the job's files are not a git checkout; in a checkout, leave out WithoutGit.
	b, err := collect.Build(context.Background(), ".",
		collect.WithEnv(env),
		collect.WithoutGit(),
		collect.WithBaseImages("golang:1.26@sha256:4d1e5a0ea6e1b0a8a4e2f5e0c1d9b1c2a3e4f5061728394a5b6c7d8e9f0a1b2c"),
		collect.WithEnvCapture(collect.WithAllowList("GOOS", "CI_JOB_TOKEN")),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.BuildType)
	fmt.Println(b.BuilderID)
	fmt.Println(b.InvocationID)
	fmt.Println(b.StartedOn.UTC())
	fmt.Println(b.ExternalParameters["source"])
	fmt.Println(b.InternalParameters["environment"], b.InternalParameters["redactedEnvironment"])
	for _, d := range b.ResolvedDependencies {
		fmt.Println(provenance.Role(d), d.GetUri()+d.GetName(), d.GetDigest())
	}
	// Output:
	// https://provkit.dev/build/v1
	// https://gitlab.example.test
	// https://gitlab.example.test/team/app/-/jobs/7
	// 2023-11-14 22:13:20 +0000 UTC
	// git+https://gitlab.example.test/team/app@refs/tags/v1.0.0
	// map[GOOS:linux] [CI_JOB_TOKEN]
	// source git+https://gitlab.example.test/team/app@refs/tags/v1.0.0 map[gitCommit:0123456789abcdef0123456789abcdef01234567]
	// base-image golang:1.26 map[sha256:4d1e5a0ea6e1b0a8a4e2f5e0c1d9b1c2a3e4f5061728394a5b6c7d8e9f0a1b2c]
}
