package collect

import (
	"os"
	"slices"
	"strings"
)

// Redacted replaces a recorded value in which a credential was found: a Go build setting, a
// platform fact, a parameter. Environment variables are not replaced but left out, and listed by
// name.
const Redacted = "[REDACTED]"

// How the environment is recorded:
//
//  1. By allow-list. Only the variables the CI platform documents as describing the run
//     (PlatformEnvNames of the platform DetectPlatform finds), and the names the caller asks
//     for with WithEnvNames, are considered. Nothing else is recorded, not even its name. A
//     local build records only what the caller asks for.
//  2. A variable considered is left out, and its name listed in Env.Redacted, when its name
//     looks secret (it contains one of SecretNameWords, or a part between underscores is PWD,
//     PW, SIG, SAS or OTP; PWD and OLDPWD themselves are directories), or when its value holds
//     a credential (LooksSecret). So a caller who asks for DB_PASS, or for a GIT_URL carrying a
//     token, gets the name listed and no value.

// secretNameWords are matched as upper-case substrings of variable names.
var secretNameWords = []string{
	"TOKEN", "SECRET", "PASS", "KEY", "CREDENTIAL", "CREDS", "AUTH", "PRIVATE", "SESSION",
	"COOKIE", "SIGNATURE", "SALT", "DSN", "CONNECTION_STRING", "WEBHOOK", "LOGIN",
}

// secretNameParts are matched as whole parts of a variable name between underscores.
var secretNameParts = []string{"PWD", "PW", "SIG", "SAS", "OTP"}

// SecretNameWords returns the words whose presence in a variable's name, ignoring case, marks its
// value secret. The slice is a copy.
func SecretNameWords() []string { return slices.Clone(secretNameWords) }

// platformEnvNames are, for each platform, the variables its documentation lists as predefined
// and that describe the run without granting anything: ids, names, URLs of pages, refs, commits,
// paths of the work space. Tokens the platforms also predefine (GITHUB_TOKEN,
// ACTIONS_ID_TOKEN_REQUEST_TOKEN, CI_JOB_TOKEN, CI_REPOSITORY_URL, which embeds one,
// SYSTEM_ACCESSTOKEN, BUILDKITE_AGENT_ACCESS_TOKEN, CIRCLE_OIDC_TOKEN) are not listed, nor are
// personal data (e-mail addresses, user names of GitLab) or free text (commit messages).
var platformEnvNames = map[string][]string{
	// https://docs.github.com/en/actions/reference/workflows-and-actions/variables
	PlatformGitHubActions: {
		"CI", "GITHUB_ACTION", "GITHUB_ACTION_REPOSITORY", "GITHUB_ACTIONS", "GITHUB_ACTOR",
		"GITHUB_ACTOR_ID", "GITHUB_API_URL", "GITHUB_BASE_REF", "GITHUB_EVENT_NAME", "GITHUB_GRAPHQL_URL",
		"GITHUB_HEAD_REF", "GITHUB_JOB", "GITHUB_REF", "GITHUB_REF_NAME", "GITHUB_REF_PROTECTED",
		"GITHUB_REF_TYPE", "GITHUB_REPOSITORY", "GITHUB_REPOSITORY_ID", "GITHUB_REPOSITORY_OWNER",
		"GITHUB_REPOSITORY_OWNER_ID", "GITHUB_RETENTION_DAYS", "GITHUB_RUN_ATTEMPT", "GITHUB_RUN_ID",
		"GITHUB_RUN_NUMBER", "GITHUB_SERVER_URL", "GITHUB_SHA", "GITHUB_TRIGGERING_ACTOR",
		"GITHUB_WORKFLOW", "GITHUB_WORKFLOW_REF", "GITHUB_WORKFLOW_SHA", "GITHUB_WORKSPACE",
		"RUNNER_ARCH", "RUNNER_DEBUG", "RUNNER_ENVIRONMENT", "RUNNER_NAME", "RUNNER_OS",
	},
	// https://docs.gitlab.com/ci/variables/predefined_variables/
	PlatformGitLabCI: {
		"CI", "GITLAB_CI", "CI_BUILDS_DIR", "CI_COMMIT_BEFORE_SHA", "CI_COMMIT_BRANCH",
		"CI_COMMIT_REF_NAME", "CI_COMMIT_REF_PROTECTED", "CI_COMMIT_REF_SLUG", "CI_COMMIT_SHA",
		"CI_COMMIT_SHORT_SHA", "CI_COMMIT_TAG", "CI_COMMIT_TIMESTAMP", "CI_CONCURRENT_ID",
		"CI_CONFIG_PATH", "CI_DEFAULT_BRANCH", "CI_JOB_ID", "CI_JOB_NAME", "CI_JOB_STAGE",
		"CI_JOB_STARTED_AT", "CI_JOB_URL", "CI_MERGE_REQUEST_IID", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
		"CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "CI_PIPELINE_ID", "CI_PIPELINE_IID", "CI_PIPELINE_SOURCE",
		"CI_PIPELINE_URL", "CI_PROJECT_DIR", "CI_PROJECT_ID", "CI_PROJECT_NAME", "CI_PROJECT_NAMESPACE",
		"CI_PROJECT_PATH", "CI_PROJECT_URL", "CI_PROJECT_VISIBILITY", "CI_REGISTRY", "CI_REGISTRY_IMAGE",
		"CI_RUNNER_DESCRIPTION", "CI_RUNNER_ID", "CI_RUNNER_TAGS", "CI_RUNNER_VERSION", "CI_SERVER_HOST",
		"CI_SERVER_URL", "CI_SERVER_VERSION",
	},
	// https://www.jenkins.io/doc/book/pipeline/jenkinsfile/#using-environment-variables and the
	// Git plugin's GIT_* variables.
	PlatformJenkins: {
		"BUILD_ID", "BUILD_NUMBER", "BUILD_TAG", "BUILD_URL", "EXECUTOR_NUMBER", "JENKINS_URL",
		"JOB_BASE_NAME", "JOB_NAME", "JOB_URL", "NODE_NAME", "NODE_LABELS", "WORKSPACE",
		"GIT_COMMIT", "GIT_PREVIOUS_COMMIT", "GIT_BRANCH", "GIT_URL", "BRANCH_NAME", "TAG_NAME",
		"CHANGE_ID", "CHANGE_TARGET", "CHANGE_BRANCH", "CHANGE_URL",
	},
	// https://buildkite.com/docs/pipelines/configure/environment-variables
	PlatformBuildkite: {
		"CI", "BUILDKITE", "BUILDKITE_AGENT_ID", "BUILDKITE_AGENT_NAME", "BUILDKITE_BRANCH",
		"BUILDKITE_BUILD_CHECKOUT_PATH", "BUILDKITE_BUILD_ID", "BUILDKITE_BUILD_NUMBER",
		"BUILDKITE_BUILD_URL", "BUILDKITE_COMMIT", "BUILDKITE_JOB_ID", "BUILDKITE_LABEL",
		"BUILDKITE_ORGANIZATION_SLUG", "BUILDKITE_PIPELINE_DEFAULT_BRANCH", "BUILDKITE_PIPELINE_SLUG",
		"BUILDKITE_PULL_REQUEST", "BUILDKITE_PULL_REQUEST_BASE_BRANCH", "BUILDKITE_REPO",
		"BUILDKITE_RETRY_COUNT", "BUILDKITE_SOURCE", "BUILDKITE_TAG",
	},
	// https://circleci.com/docs/reference/variables/
	PlatformCircleCI: {
		"CI", "CIRCLECI", "CIRCLE_BRANCH", "CIRCLE_BUILD_NUM", "CIRCLE_BUILD_URL", "CIRCLE_JOB",
		"CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", "CIRCLE_PR_NUMBER", "CIRCLE_PULL_REQUEST",
		"CIRCLE_PROJECT_REPONAME", "CIRCLE_PROJECT_USERNAME", "CIRCLE_REPOSITORY_URL", "CIRCLE_SHA1",
		"CIRCLE_TAG", "CIRCLE_WORKFLOW_ID", "CIRCLE_WORKFLOW_JOB_ID", "CIRCLE_WORKING_DIRECTORY",
	},
	// https://learn.microsoft.com/azure/devops/pipelines/build/variables
	PlatformAzurePipelines: {
		"TF_BUILD", "AGENT_ID", "AGENT_JOBNAME", "AGENT_MACHINENAME", "AGENT_NAME", "AGENT_OS",
		"AGENT_OSARCHITECTURE", "BUILD_BUILDID", "BUILD_BUILDNUMBER", "BUILD_BUILDURI",
		"BUILD_DEFINITIONNAME", "BUILD_DEFINITIONVERSION", "BUILD_REASON", "BUILD_REPOSITORY_NAME",
		"BUILD_REPOSITORY_PROVIDER", "BUILD_REPOSITORY_URI", "BUILD_SOURCEBRANCH",
		"BUILD_SOURCEBRANCHNAME", "BUILD_SOURCEVERSION", "SYSTEM_COLLECTIONURI", "SYSTEM_JOBID",
		"SYSTEM_PULLREQUEST_PULLREQUESTID", "SYSTEM_PULLREQUEST_SOURCEBRANCH",
		"SYSTEM_PULLREQUEST_TARGETBRANCH", "SYSTEM_STAGENAME", "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI",
		"SYSTEM_TEAMPROJECT", "SYSTEM_TEAMPROJECTID",
	},
}

// PlatformEnvNames returns the environment variables recorded by default on platform (one of the
// Platform* constants): those its documentation lists as describing the run, never its tokens.
// The local platform, and any name not known, have none. The slice is a copy.
func PlatformEnvNames(platform string) []string {
	return slices.Clone(platformEnvNames[platform])
}

// redactor applies the name rule with the caller's extra name words.
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
	if upper == "PWD" || upper == "OLDPWD" {
		return false
	}
	for _, w := range r.words {
		if strings.Contains(upper, w) {
			return true
		}
	}
	for part := range strings.FieldsFuncSeq(upper, func(c rune) bool { return c == '_' || c == '-' || c == '.' }) {
		if slices.Contains(secretNameParts, part) {
			return true
		}
	}
	return false
}

// Env is an environment captured for provenance.
type Env struct {
	// Vars maps each recorded variable to its value. Only variables that were considered (see
	// CaptureEnv) and found free of secrets are here.
	Vars map[string]string
	// Redacted lists, sorted, the names of the variables considered but left out because their
	// name or value looks secret. Their values are recorded nowhere.
	Redacted []string
}

// EnvOption configures CaptureEnv and the environment capture of Build.
type EnvOption func(*envOptions) error

type envOptions struct {
	names     []string
	allow     []string
	words     []string
	allowMode bool
}

func validNames(option string, names []string) error {
	for _, n := range names {
		if n == "" || strings.ContainsRune(n, '=') {
			return optionError(option, "variable name %q is not valid", n)
		}
	}
	return nil
}

// WithEnvNames asks for the named variables (matched exactly, case-sensitively) to be recorded as
// well as the platform's (PlatformEnvNames). They are still left out, and listed, when their name
// or value looks secret. Names must be non-empty and must not contain '='.
func WithEnvNames(names ...string) EnvOption {
	return func(o *envOptions) error {
		if err := validNames("WithEnvNames", names); err != nil {
			return err
		}
		o.names = append(o.names, names...)
		return nil
	}
}

// WithAllowList records only the named variables (matched exactly, case-sensitively), instead of
// the platform's; the names of WithEnvNames are added to them. Variables that look secret are
// still left out and listed. Names must be non-empty and must not contain '='.
func WithAllowList(names ...string) EnvOption {
	return func(o *envOptions) error {
		if err := validNames("WithAllowList", names); err != nil {
			return err
		}
		o.allowMode = true
		o.allow = append(o.allow, names...)
		return nil
	}
}

// WithSecretNames adds words to SecretNameWords for this capture: a variable whose name contains
// one of them, ignoring case, is left out and listed. Words must be non-empty.
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
	return o, nil
}

// CaptureEnv records env by the rules above Redacted: the variables of the platform env describes
// (or those of WithAllowList) and of WithEnvNames, less those whose name or value looks secret,
// which are listed by name. env is not modified.
func CaptureEnv(env map[string]string, opts ...EnvOption) (Env, error) {
	o, err := newEnvOptions(opts)
	if err != nil {
		return Env{}, err
	}
	return captureEnv(env, o, detectPlatformName(env)), nil
}

func captureEnv(env map[string]string, o *envOptions, platform string) Env {
	names := o.allow
	if !o.allowMode {
		names = platformEnvNames[platform]
	}
	r := newRedactor(o.words)
	out := Env{Vars: map[string]string{}, Redacted: []string{}}
	consider := func(name string) {
		value, ok := env[name]
		if !ok {
			return
		}
		if _, done := out.Vars[name]; done || slices.Contains(out.Redacted, name) {
			return
		}
		if r.secretName(name) || value == Redacted || LooksSecret(value) {
			out.Redacted = append(out.Redacted, name)
			return
		}
		out.Vars[name] = value
	}
	for _, n := range names {
		consider(n)
	}
	for _, n := range o.names {
		consider(n)
	}
	slices.Sort(out.Redacted)
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
