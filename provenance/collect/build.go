package collect

import (
	"context"
	"fmt"
	"maps"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/provkit/provkit/provenance"
)

// BuildTypeV1 is the SLSA buildType of builds described by Build. It fixes the meaning of the
// parameters:
//
// externalParameters, the inputs whoever started the build chose:
//
//   - source: the repository and ref built, as provenance.GitURI gives it ("git+URL@REF");
//   - revision: the commit built;
//   - ref: the git ref built ("refs/heads/main", "refs/tags/v1.2.0");
//   - dirty: true when the work tree had changes the commit does not hold;
//   - workflow: the pipeline definition that ran (see Platform.Workflow);
//   - trigger: the event that started the run;
//   - parameters: an object of whatever the caller added with WithParameters.
//
// internalParameters, what the build platform chose or observed:
//
//   - platform: name, runner and invocationUrl of the CI platform (see Platform);
//   - git: branch, tags on HEAD and remoteUrl, as git reported them;
//   - environment: the captured environment (see CaptureEnv): the platform's documented
//     variables and those asked for, less any that look secret;
//   - redactedEnvironment: the names of the variables left out because they look secret;
//   - redactedFields: the fields, such as "externalParameters.parameters.dsn", whose value the
//     credential scanner replaced by Redacted;
//   - toolchain: goVersion, path, mainModule and settings of a Go program (see Toolchain).
//
// A field is left out when there is nothing to record.
const BuildTypeV1 = "https://provkit.dev/build/v1"

// Option configures Build. Options are checked when Build starts; an invalid or contradictory
// option makes Build fail with an error wrapping ErrInvalidOption.
type Option func(*options) error

type materialSpec struct {
	file bool
	name string
	role string
}

type options struct {
	env         map[string]string
	clock       provenance.Clock
	envOpts     []EnvOption
	noEnv       bool
	gitOpts     []GitOption
	noGit       bool
	params      map[string]any
	materials   []materialSpec
	toolchain   *Toolchain
	builderID   string
	setEnvOpts  bool
	setGitOpts  bool
	setNoGit    bool
	setNoEnv    bool
	setToolchan bool
}

// WithEnv gives Build the build's environment: it decides the CI platform (DetectPlatform),
// SOURCE_DATE_EPOCH (unless WithClock is given) and the recorded environment. Without
// it the environment is empty: a local build, timed by the system clock, recording no variables.
// Pass ProcessEnv() for the running process. The map is copied.
func WithEnv(env map[string]string) Option {
	return func(o *options) error {
		if env == nil {
			return optionError("WithEnv", "nil environment")
		}
		o.env = maps.Clone(env)
		return nil
	}
}

// WithClock sets the clock that times the build, instead of SOURCE_DATE_EPOCH or the system clock.
func WithClock(c provenance.Clock) Option {
	return func(o *options) error {
		if c == nil {
			return optionError("WithClock", "nil clock")
		}
		o.clock = c
		return nil
	}
}

// WithEnvCapture configures how the environment is recorded, such as WithEnvNames to record more
// variables than the platform's. Variables that look secret are left out whatever the options.
func WithEnvCapture(opts ...EnvOption) Option {
	return func(o *options) error {
		o.envOpts = append(o.envOpts, opts...)
		o.setEnvOpts = true
		return nil
	}
}

// WithoutEnvCapture records no environment variables at all. The environment given with WithEnv
// is still used to detect the platform and SOURCE_DATE_EPOCH.
func WithoutEnvCapture() Option {
	return func(o *options) error {
		o.noEnv = true
		o.setNoEnv = true
		return nil
	}
}

// WithGitOptions configures how the source repository is read (see Git).
func WithGitOptions(opts ...GitOption) Option {
	return func(o *options) error {
		o.gitOpts = append(o.gitOpts, opts...)
		o.setGitOpts = true
		return nil
	}
}

// WithoutGit builds from a directory that is not a git work tree: no source dependency is
// recorded from git, and the platform's repository, ref and commit, if any, are used instead.
func WithoutGit() Option {
	return func(o *options) error {
		o.noGit = true
		o.setNoGit = true
		return nil
	}
}

// WithParameters adds the caller's own external parameters, recorded under
// externalParameters.parameters. Values must be what structpb accepts after provenance.Build's
// normalisation (strings, numbers, booleans, nil, []string, []any, map[string]string,
// map[string]any, time.Time). Each string in them passes the credential scanner like every other
// recorded string: one holding a credential is recorded as Redacted, and its field listed in
// redactedFields. The map is copied; later calls add to it.
func WithParameters(params map[string]any) Option {
	return func(o *options) error {
		if o.params == nil {
			o.params = make(map[string]any, len(params))
		}
		maps.Copy(o.params, params)
		return nil
	}
}

// WithFiles records files the build read as materials (see FileMaterial). Relative paths are
// resolved against the build directory and recorded as given.
func WithFiles(paths ...string) Option {
	return func(o *options) error {
		for _, p := range paths {
			if p == "" {
				return optionError("WithFiles", "empty path")
			}
			o.materials = append(o.materials, materialSpec{file: true, name: p, role: provenance.RoleMaterial})
		}
		return nil
	}
}

// WithImages records container images the build read as materials with role
// provenance.RoleMaterial (see ImageReference.Dependency): pinned by the digest of a
// "repo@sha256:..." reference, marked unpinned when given by tag alone. A malformed reference
// makes Build fail with a *MaterialError wrapping ErrInvalidReference.
func WithImages(refs ...string) Option {
	return func(o *options) error {
		for _, r := range refs {
			o.materials = append(o.materials, materialSpec{name: r, role: provenance.RoleMaterial})
		}
		return nil
	}
}

// WithBaseImages records the images the built image is based on, like WithImages but with role
// provenance.RoleBaseImage.
func WithBaseImages(refs ...string) Option {
	return func(o *options) error {
		for _, r := range refs {
			o.materials = append(o.materials, materialSpec{name: r, role: provenance.RoleBaseImage})
		}
		return nil
	}
}

// WithToolchain records a Go program's toolchain: its settings in internalParameters.toolchain
// and its module dependencies as resolved dependencies (see Toolchain.Dependencies). Get one from
// ProcessToolchain or ToolchainFromFile.
func WithToolchain(t *Toolchain) Option {
	return func(o *options) error {
		if t == nil {
			return optionError("WithToolchain", "nil toolchain")
		}
		if o.setToolchan {
			return optionError("WithToolchain", "given twice")
		}
		o.toolchain = t
		o.setToolchan = true
		return nil
	}
}

// WithBuilderID sets the builder id instead of the one the platform implies, for builders that
// know their own identity better than their environment tells. An id holding a credential is
// rejected.
func WithBuilderID(id string) Option {
	return func(o *options) error {
		if id == "" {
			return optionError("WithBuilderID", "empty id")
		}
		if LooksSecret(id) {
			return optionError("WithBuilderID", "the id holds a credential")
		}
		o.builderID = id
		return nil
	}
}

func newOptions(opts []Option) (*options, error) {
	o := &options{env: map[string]string{}}
	for _, opt := range opts {
		if opt == nil {
			return nil, optionError("Option", "nil option")
		}
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	switch {
	case o.setNoGit && o.setGitOpts:
		return nil, optionError("WithoutGit", "contradicts WithGitOptions")
	case o.setNoEnv && o.setEnvOpts:
		return nil, optionError("WithoutEnvCapture", "contradicts WithEnvCapture")
	}
	return o, nil
}

// Build gathers the facts of the build that runs in dir and returns them as a provenance.Build of
// type BuildTypeV1, ready for provenance.Build.Statement:
//
//   - the CI platform, from the environment given with WithEnv (DetectPlatform): builder id,
//     invocation id, workflow, trigger, runner;
//   - the git source in dir (Git): a resolved dependency with role RoleSource pinned by its
//     gitCommit digest, the first one listed. Facts from git win over the platform's, except the
//     ref: CI checks out a detached HEAD, so the platform's ref is used when it gives one;
//   - materials named with WithFiles, WithImages and WithBaseImages, in the order given;
//   - the Go toolchain given with WithToolchain, its modules last;
//   - the environment, by allow-list (see CaptureEnv), unless WithoutEnvCapture;
//   - last, every string of the parameters and dependencies is scanned for credentials (see
//     LooksSecret), and one found is replaced by Redacted.
//
// StartedOn is the clock's time when Build is called: the clock of WithClock, else a clock
// stopped at SOURCE_DATE_EPOCH when the environment sets it, else the system clock. FinishedOn
// is left for the caller to set when the build ends. With the same inputs and a fixed clock the
// result, and the statement made from it, are the same bytes every time.
//
// Errors: a *GitError wrapping ErrNotGitRepository, ErrNoCommit or ErrGitNotFound; an error
// wrapping ErrSourceDateEpoch; a *MaterialError wrapping ErrMaterial; ErrInvalidOption. A build
// WithoutGit, off any CI platform and without WithParameters has no external parameter to
// record, which SLSA does not allow: it fails with a *provenance.MissingFieldError.
func Build(ctx context.Context, dir string, opts ...Option) (*provenance.Build, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	clock := o.clock
	if clock == nil {
		if clock, err = provenance.ClockFromEnv(o.env); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSourceDateEpoch, err)
		}
	}
	started := clock()
	platform := DetectPlatform(o.env)

	external := map[string]any{}
	internal := map[string]any{}
	var deps []*intoto.ResourceDescriptor

	ref, url, commit := platform.Ref, platform.Repository, platform.Commit
	if !o.noGit {
		gopts, err := newGitOptions(o.gitOpts)
		if err != nil {
			return nil, err
		}
		src, err := readGit(ctx, dir, gopts)
		if err != nil {
			return nil, err
		}
		if ref == "" {
			ref = src.Ref()
		}
		if src.URL != "" {
			url = src.URL
		}
		commit = src.Commit
		recorded := *src
		recorded.URL = url
		deps = append(deps, recorded.Dependency(ref))
		external["dirty"] = src.Dirty
		git := map[string]any{"tags": src.Tags}
		putString(git, "branch", src.Branch)
		putString(git, "remoteUrl", src.URL)
		internal["git"] = git
	} else if isSHA1Hex(commit) {
		recorded := Source{URL: url, Commit: commit}
		deps = append(deps, recorded.Dependency(ref))
	}
	if url != "" {
		external["source"] = provenance.GitURI(url, ref)
	}
	putString(external, "revision", commit)
	putString(external, "ref", ref)
	putString(external, "workflow", platform.Workflow)
	putString(external, "trigger", platform.Trigger)
	if o.params != nil {
		external["parameters"] = o.params
	}

	plat := map[string]any{"name": platform.Name}
	putString(plat, "runner", platform.Runner)
	putString(plat, "invocationUrl", platform.InvocationURL)
	internal["platform"] = plat

	for _, m := range o.materials {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var rd *intoto.ResourceDescriptor
		if m.file {
			rd, err = fileMaterial(dir, m.name)
		} else {
			rd, err = ImageMaterial(m.name, m.role)
		}
		if err != nil {
			return nil, err
		}
		deps = append(deps, rd)
	}

	if !o.noEnv {
		eo, err := newEnvOptions(o.envOpts)
		if err != nil {
			return nil, err
		}
		captured := captureEnv(o.env, eo, platform.Name)
		internal["environment"] = captured.Vars
		internal["redactedEnvironment"] = captured.Redacted
	}

	if o.toolchain != nil {
		internal["toolchain"] = o.toolchain.Parameters()
		deps = append(deps, o.toolchain.Dependencies()...)
	}

	// Defence in depth: whatever went into the predicate, from any source, passes the credential
	// scanner once more, and what it withholds is listed by field.
	var sc scrubber
	external = sc.value("externalParameters", external).(map[string]any)
	internal = sc.value("internalParameters", internal).(map[string]any)
	for i, rd := range deps {
		sc.dependency(i, rd)
	}
	if withheld := sc.sorted(); len(withheld) > 0 {
		internal["redactedFields"] = withheld
	}

	b := &provenance.Build{
		BuildType:            BuildTypeV1,
		ExternalParameters:   external,
		InternalParameters:   internal,
		ResolvedDependencies: deps,
		BuilderID:            platform.BuilderID,
		InvocationID:         platform.InvocationID,
		StartedOn:            started,
	}
	if o.builderID != "" {
		b.BuilderID = o.builderID
	}
	if _, err := b.Predicate(); err != nil {
		return nil, err
	}
	return b, nil
}

func putString(m map[string]any, key, value string) {
	if value != "" {
		m[key] = value
	}
}

// isSHA1Hex reports whether s is a SHA-1 object name, the only length the in-toto gitCommit
// digest accepts.
func isSHA1Hex(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
