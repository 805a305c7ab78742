package collect_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/collect"
)

// ciEnv is a GitHub Actions environment with a fixed SOURCE_DATE_EPOCH.
func ciEnv() map[string]string {
	return map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "team/app",
		"GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_EVENT_NAME": "push",
		"GITHUB_WORKFLOW_REF": "team/app/.github/workflows/release.yml@refs/tags/v1.0.0",
		"GITHUB_REF":          "refs/tags/v1.0.0", "RUNNER_ENVIRONMENT": "github-hosted",
		"SOURCE_DATE_EPOCH": "1700000000", "GOFLAGS": "-trimpath", "NPM_TOKEN": "abc",
	}
}

// fixedToolchain is a toolchain with one module, independent of how the tests were built.
func fixedToolchain() *collect.Toolchain {
	return collect.ToolchainFromBuildInfo(&debug.BuildInfo{
		GoVersion: "go1.26.0",
		Path:      "example.test/app/cmd/app",
		Main:      debug.Module{Path: "example.test/app", Version: "(devel)"},
		Deps:      []*debug.Module{{Path: "example.test/dep", Version: "v1.2.3", Sum: "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}},
		Settings:  []debug.BuildSetting{{Key: "-trimpath", Value: "true"}, {Key: "CGO_ENABLED", Value: "0"}},
	})
}

// releaseRepo makes a repository with a tagged commit, a remote holding credentials and an
// input file, all fixed, so two calls give repositories with the same commit.
func releaseRepo(t *testing.T) string {
	t.Helper()
	dir := newRepo(t)
	writeFile(t, dir, "data/input.txt", "input data\n")
	writeFile(t, dir, ".gitignore", "*.log\ndata/\n")
	git(t, dir, "add", ".gitignore")
	git(t, dir, "commit", "-q", "-m", "ignore data")
	git(t, dir, "tag", "v1.0.0")
	git(t, dir, "remote", "add", "origin", "https://bot:pw123@github.com/team/app.git")
	return dir
}

func releaseOptions() []collect.Option {
	return []collect.Option{
		collect.WithEnv(ciEnv()),
		collect.WithEnvCapture(collect.WithEnvNames("GOFLAGS", "NPM_TOKEN")),
		collect.WithFiles("data/input.txt"),
		collect.WithImages("ghcr.io/team/tool:v2"),
		collect.WithBaseImages("golang:1.26@sha256:" + hex256),
		collect.WithToolchain(fixedToolchain()),
		collect.WithParameters(map[string]any{"target": "linux/amd64", "flags": []string{"-v"}}),
	}
}

func TestBuild(t *testing.T) {
	dir := releaseRepo(t)
	commit := git(t, dir, "rev-parse", "HEAD")
	b, err := collect.Build(context.Background(), dir, releaseOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	if b.BuildType != collect.BuildTypeV1 || b.BuilderID != "https://github.com/actions/runner/github-hosted" {
		t.Errorf("buildType %q, builder %q", b.BuildType, b.BuilderID)
	}
	if b.InvocationID != "https://github.com/team/app/actions/runs/42/attempts/1" {
		t.Errorf("invocation = %q", b.InvocationID)
	}
	if !b.StartedOn.Equal(time.Unix(1700000000, 0)) || !b.FinishedOn.IsZero() {
		t.Errorf("startedOn %v finishedOn %v, want SOURCE_DATE_EPOCH and zero", b.StartedOn, b.FinishedOn)
	}
	wantExternal := map[string]any{
		"source":   "git+https://github.com/team/app.git@refs/tags/v1.0.0",
		"revision": commit,
		"ref":      "refs/tags/v1.0.0",
		"dirty":    false,
		"workflow": "team/app/.github/workflows/release.yml@refs/tags/v1.0.0",
		"trigger":  "push",
	}
	for k, v := range wantExternal {
		if b.ExternalParameters[k] != v {
			t.Errorf("externalParameters.%s = %v, want %v", k, b.ExternalParameters[k], v)
		}
	}
	if p := b.ExternalParameters["parameters"].(map[string]any); p["target"] != "linux/amd64" {
		t.Errorf("externalParameters.parameters = %v", p)
	}

	env := b.InternalParameters["environment"].(map[string]string)
	if _, leaked := env["NPM_TOKEN"]; env["GOFLAGS"] != "-trimpath" || leaked || env["GITHUB_RUN_ID"] != "42" {
		t.Errorf("environment = %v", env)
	}
	if red := b.InternalParameters["redactedEnvironment"].([]string); !slices.Equal(red, []string{"NPM_TOKEN"}) {
		t.Errorf("redactedEnvironment = %v", red)
	}
	gitParams := b.InternalParameters["git"].(map[string]any)
	if gitParams["branch"] != "main" || gitParams["remoteUrl"] != "https://github.com/team/app.git" || !slices.Equal(gitParams["tags"].([]string), []string{"v1.0.0"}) {
		t.Errorf("git = %v", gitParams)
	}
	if plat := b.InternalParameters["platform"].(map[string]any); plat["name"] != collect.PlatformGitHubActions || plat["runner"] != "github-hosted" {
		t.Errorf("platform = %v", plat)
	}
	if tc := b.InternalParameters["toolchain"].(map[string]any); tc["goVersion"] != "go1.26.0" {
		t.Errorf("toolchain = %v", tc)
	}

	deps := b.ResolvedDependencies
	wantRoles := []string{provenance.RoleSource, provenance.RoleMaterial, provenance.RoleMaterial, provenance.RoleBaseImage, provenance.RoleModule}
	if len(deps) != len(wantRoles) {
		t.Fatalf("%d dependencies, want %d: %v", len(deps), len(wantRoles), deps)
	}
	for i, role := range wantRoles {
		if got := provenance.Role(deps[i]); got != role {
			t.Errorf("dependency %d role = %q, want %q", i, got, role)
		}
	}
	if deps[0].GetDigest()["gitCommit"] != commit || deps[0].GetUri() != wantExternal["source"] {
		t.Errorf("source dependency = %v", deps[0])
	}
	if deps[1].GetName() != "data/input.txt" || deps[1].GetDigest()["sha256"] == "" {
		t.Errorf("file material = %v", deps[1])
	}
	if deps[2].GetAnnotations().GetFields()[provenance.AnnotationUnpinned].GetStringValue() != "true" {
		t.Errorf("tag-only image = %v, want unpinned", deps[2])
	}

	// The shared model reads the collected facts back as OCI image annotations.
	pred, err := b.Predicate()
	if err != nil {
		t.Fatal(err)
	}
	ann := provenance.ImageAnnotations(pred)
	wantAnn := map[string]string{
		ocispec.AnnotationSource:          "https://github.com/team/app.git",
		ocispec.AnnotationRevision:        commit,
		ocispec.AnnotationVersion:         "v1.0.0",
		ocispec.AnnotationCreated:         "2023-11-14T22:13:20Z",
		ocispec.AnnotationBaseImageName:   "golang:1.26",
		ocispec.AnnotationBaseImageDigest: "sha256:" + hex256,
	}
	for k, v := range wantAnn {
		if ann[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, ann[k], v)
		}
	}
}

// TestBuildDeterministic collects twice from two separate, identical repositories and checks
// that the statements are the same bytes: nothing depends on where or when the build ran.
func TestBuildDeterministic(t *testing.T) {
	var outs [][]byte
	for range 2 {
		dir := releaseRepo(t)
		b, err := collect.Build(context.Background(), dir, releaseOptions()...)
		if err != nil {
			t.Fatal(err)
		}
		b.FinishedOn = b.StartedOn.Add(time.Minute)
		st, err := b.Statement([]*intoto.ResourceDescriptor{{Name: "app", Digest: map[string]string{"sha256": hex256}}})
		if err != nil {
			t.Fatal(err)
		}
		out, err := provenance.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Errorf("statements differ:\n%s\n%s", outs[0], outs[1])
	}
}

func TestBuildLocal(t *testing.T) {
	dir := newRepo(t)
	writeFile(t, dir, "untracked.txt", "x")
	before := time.Now()
	b, err := collect.Build(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.BuilderID != collect.LocalBuilderID || b.InvocationID != "" {
		t.Errorf("builder %q invocation %q", b.BuilderID, b.InvocationID)
	}
	if b.StartedOn.Before(before.Add(-time.Second)) || b.StartedOn.After(time.Now().Add(time.Second)) {
		t.Errorf("startedOn %v is not the system time", b.StartedOn)
	}
	if b.ExternalParameters["ref"] != "refs/heads/main" || b.ExternalParameters["dirty"] != true {
		t.Errorf("externalParameters = %v", b.ExternalParameters)
	}
	if _, ok := b.ExternalParameters["source"]; ok {
		t.Error("a repository without remote has a source URI")
	}
	if env := b.InternalParameters["environment"].(map[string]string); len(env) != 0 {
		t.Errorf("environment = %v, want none without WithEnv", env)
	}
	if deps := b.ResolvedDependencies; len(deps) != 1 || deps[0].GetAnnotations().GetFields()[collect.AnnotationDirty].GetStringValue() != "true" {
		t.Errorf("dependencies = %v, want one dirty source", deps)
	}
}

func TestBuildOptions(t *testing.T) {
	dir := newRepo(t)
	clock := provenance.FixedClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	b, err := collect.Build(context.Background(), dir,
		collect.WithEnv(map[string]string{"SOURCE_DATE_EPOCH": "1", "KEEP": "1", "DROP": "2"}),
		collect.WithClock(clock),
		collect.WithEnvCapture(collect.WithAllowList("KEEP")),
		collect.WithBuilderID("https://builders.example.test/b1"),
		collect.WithGitOptions(collect.WithGitProgram("git")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !b.StartedOn.Equal(clock()) {
		t.Errorf("startedOn = %v, want WithClock's time over SOURCE_DATE_EPOCH", b.StartedOn)
	}
	if b.BuilderID != "https://builders.example.test/b1" {
		t.Errorf("builder = %q", b.BuilderID)
	}
	if env := b.InternalParameters["environment"].(map[string]string); len(env) != 1 || env["KEEP"] != "1" {
		t.Errorf("environment = %v, want only KEEP", env)
	}

	b, err = collect.Build(context.Background(), dir, collect.WithEnv(map[string]string{"A": "1"}), collect.WithoutEnvCapture())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.InternalParameters["environment"]; ok {
		t.Error("environment recorded despite WithoutEnvCapture")
	}
}

func TestBuildWithoutGit(t *testing.T) {
	env := map[string]string{
		"GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.example.test", "CI_PROJECT_PATH": "g/p",
		"CI_JOB_URL": "https://gitlab.example.test/g/p/-/jobs/1", "CI_COMMIT_BRANCH": "main",
		"CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
	}
	b, err := collect.Build(context.Background(), t.TempDir(), collect.WithEnv(env), collect.WithoutGit())
	if err != nil {
		t.Fatal(err)
	}
	if b.ExternalParameters["source"] != "git+https://gitlab.example.test/g/p@refs/heads/main" {
		t.Errorf("source = %v", b.ExternalParameters["source"])
	}
	if _, ok := b.ExternalParameters["dirty"]; ok {
		t.Error("dirty recorded without git")
	}
	if len(b.ResolvedDependencies) != 1 || b.ResolvedDependencies[0].GetDigest()["gitCommit"] != env["CI_COMMIT_SHA"] {
		t.Errorf("dependencies = %v, want the platform's commit", b.ResolvedDependencies)
	}
}

func TestBuildErrors(t *testing.T) {
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(t.TempDir()))
	repo := newRepo(t)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		dir  string
		ctx  context.Context
		opts []collect.Option
		want []error
	}{
		{name: "not a git repository", dir: t.TempDir(), want: []error{collect.ErrNotGitRepository}},
		{name: "git program missing", dir: repo, opts: []collect.Option{collect.WithGitOptions(collect.WithGitProgram("/nonexistent/git"))}, want: []error{collect.ErrGitNotFound}},
		{name: "bad SOURCE_DATE_EPOCH", dir: repo, opts: []collect.Option{collect.WithEnv(map[string]string{"SOURCE_DATE_EPOCH": "yesterday"})}, want: []error{collect.ErrSourceDateEpoch}},
		{name: "negative SOURCE_DATE_EPOCH", dir: repo, opts: []collect.Option{collect.WithEnv(map[string]string{"SOURCE_DATE_EPOCH": "-1"})}, want: []error{collect.ErrSourceDateEpoch}},
		{name: "missing material", dir: repo, opts: []collect.Option{collect.WithFiles("nope.txt")}, want: []error{collect.ErrMaterial, fs.ErrNotExist}},
		{name: "bad image reference", dir: repo, opts: []collect.Option{collect.WithBaseImages("UPPER:case")}, want: []error{collect.ErrMaterial, collect.ErrInvalidReference}},
		{name: "nothing to record", dir: t.TempDir(), opts: []collect.Option{collect.WithoutGit()}, want: []error{provenance.ErrMissingField}},
		{name: "canceled", dir: repo, ctx: canceled, want: []error{context.Canceled}},
		{name: "nil env", dir: repo, opts: []collect.Option{collect.WithEnv(nil)}, want: []error{collect.ErrInvalidOption}},
		{name: "nil clock", dir: repo, opts: []collect.Option{collect.WithClock(nil)}, want: []error{collect.ErrInvalidOption}},
		{name: "nil option", dir: repo, opts: []collect.Option{nil}, want: []error{collect.ErrInvalidOption}},
		{name: "empty builder id", dir: repo, opts: []collect.Option{collect.WithBuilderID("")}, want: []error{collect.ErrInvalidOption}},
		{name: "empty file path", dir: repo, opts: []collect.Option{collect.WithFiles("")}, want: []error{collect.ErrInvalidOption}},
		{name: "nil toolchain", dir: repo, opts: []collect.Option{collect.WithToolchain(nil)}, want: []error{collect.ErrInvalidOption}},
		{name: "toolchain twice", dir: repo, opts: []collect.Option{collect.WithToolchain(fixedToolchain()), collect.WithToolchain(fixedToolchain())}, want: []error{collect.ErrInvalidOption}},
		{name: "without git and git options", dir: repo, opts: []collect.Option{collect.WithoutGit(), collect.WithGitOptions()}, want: []error{collect.ErrInvalidOption}},
		{name: "without env and env options", dir: repo, opts: []collect.Option{collect.WithoutEnvCapture(), collect.WithEnvCapture()}, want: []error{collect.ErrInvalidOption}},
		{name: "bad env option", dir: repo, opts: []collect.Option{collect.WithEnvCapture(collect.WithAllowList("A=B"))}, want: []error{collect.ErrInvalidOption}},
		{name: "bad git option", dir: repo, opts: []collect.Option{collect.WithGitOptions(collect.WithRemote(""))}, want: []error{collect.ErrInvalidOption}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			b, err := collect.Build(ctx, tt.dir, tt.opts...)
			if b != nil {
				t.Error("a Build came back with the error")
			}
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want it to wrap %v", err, want)
				}
			}
		})
	}
}
