package collect

import (
	"strings"
)

// Names of the build platforms DetectPlatform recognises.
const (
	// PlatformGitHubActions is GitHub Actions, on github.com or GitHub Enterprise Server.
	PlatformGitHubActions = "github-actions"
	// PlatformGitLabCI is GitLab CI/CD, on gitlab.com or a self-managed instance.
	PlatformGitLabCI = "gitlab-ci"
	// PlatformJenkins is a Jenkins controller.
	PlatformJenkins = "jenkins"
	// PlatformBuildkite is Buildkite.
	PlatformBuildkite = "buildkite"
	// PlatformCircleCI is CircleCI.
	PlatformCircleCI = "circleci"
	// PlatformAzurePipelines is Azure Pipelines (Azure DevOps Services or Server).
	PlatformAzurePipelines = "azure-pipelines"
	// PlatformLocal is any environment that matches no platform above.
	PlatformLocal = "local"
)

// LocalBuilderID is the builder id of a build that ran outside any recognised CI platform, such
// as on a developer's machine. It claims nothing about the machine: policy that requires a
// trusted builder should reject it.
const LocalBuilderID = "https://provkit.dev/builders/local/v1"

// Platform is what a build platform says about the run, read from its documented environment
// variables. Fields the platform does not provide are "".
type Platform struct {
	// Name is one of the Platform* constants.
	Name string
	// BuilderID is the URI of the platform (or its runner) that ran the build.
	BuilderID string
	// InvocationID identifies this run; it is a URL where the platform has one.
	InvocationID string
	// InvocationURL is a web page for this run.
	InvocationURL string
	// Workflow names the pipeline definition that ran, with the ref it was read at where the
	// platform tells it (GitHub: "org/repo/.github/workflows/build.yml@refs/heads/main").
	Workflow string
	// Trigger is the event that started the run, in the platform's own words ("push",
	// "pull_request", "schedule", "merge_request_event", "IndividualCI", ...).
	Trigger string
	// Runner names the machine or kind of machine the run used ("github-hosted", an agent name).
	Runner string
	// Repository is the URL of the repository the platform checked out, credentials stripped.
	Repository string
	// Ref is the full git ref the run was for ("refs/heads/main", "refs/tags/v1.2.0").
	Ref string
	// Commit is the commit the platform says it checked out.
	Commit string
}

// DetectPlatform recognises the CI platform a build runs on from its environment, by the
// variables each platform documents:
//
//   - GitHub Actions: GITHUB_ACTIONS=true; GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID,
//     GITHUB_RUN_ATTEMPT, GITHUB_WORKFLOW_REF, GITHUB_EVENT_NAME, GITHUB_REF, GITHUB_SHA,
//     RUNNER_ENVIRONMENT, RUNNER_NAME.
//   - GitLab CI: GITLAB_CI=true; CI_SERVER_URL, CI_PROJECT_URL, CI_PROJECT_PATH, CI_JOB_URL,
//     CI_PIPELINE_ID, CI_PIPELINE_URL, CI_PIPELINE_SOURCE, CI_CONFIG_PATH, CI_COMMIT_SHA,
//     CI_COMMIT_TAG, CI_COMMIT_BRANCH, CI_RUNNER_ID, CI_RUNNER_DESCRIPTION.
//   - Buildkite: BUILDKITE=true; BUILDKITE_BUILD_URL, BUILDKITE_JOB_ID, BUILDKITE_ORGANIZATION_SLUG,
//     BUILDKITE_PIPELINE_SLUG, BUILDKITE_SOURCE, BUILDKITE_AGENT_NAME, BUILDKITE_REPO,
//     BUILDKITE_BRANCH, BUILDKITE_TAG, BUILDKITE_COMMIT.
//   - CircleCI: CIRCLECI=true; CIRCLE_BUILD_URL (else the workflow page of CIRCLE_WORKFLOW_ID
//     names the run), CIRCLE_JOB (the workflow field: CircleCI names no definition file),
//     CIRCLE_REPOSITORY_URL, CIRCLE_BRANCH, CIRCLE_TAG, CIRCLE_SHA1, CIRCLE_PULL_REQUEST.
//   - Azure Pipelines: TF_BUILD=True; SYSTEM_COLLECTIONURI, SYSTEM_TEAMPROJECT, BUILD_BUILDID,
//     BUILD_DEFINITIONNAME, BUILD_REASON, AGENT_NAME, BUILD_REPOSITORY_URI, BUILD_SOURCEBRANCH,
//     BUILD_SOURCEVERSION.
//   - Jenkins: JENKINS_URL; BUILD_URL, BUILD_TAG, JOB_NAME, NODE_NAME, GIT_URL, GIT_COMMIT,
//     BRANCH_NAME, TAG_NAME, CHANGE_ID.
//
// An environment that matches none is the local platform (builder LocalBuilderID): an unknown
// platform is never an error. Repository URLs lose their credentials, and any fact in which
// LooksSecret finds a credential is replaced by Redacted. env is not modified.
func DetectPlatform(env map[string]string) Platform {
	var p Platform
	switch detectPlatformName(env) {
	case PlatformGitHubActions:
		p = gitHubActions(env)
	case PlatformGitLabCI:
		p = gitLabCI(env)
	case PlatformBuildkite:
		p = buildkite(env)
	case PlatformCircleCI:
		p = circleCI(env)
	case PlatformAzurePipelines:
		p = azurePipelines(env)
	case PlatformJenkins:
		p = jenkins(env)
	default:
		p = Platform{Name: PlatformLocal, BuilderID: LocalBuilderID}
	}
	p.Repository = StripCredentials(p.Repository)
	for _, f := range []*string{&p.BuilderID, &p.InvocationID, &p.InvocationURL, &p.Workflow,
		&p.Trigger, &p.Runner, &p.Repository, &p.Ref, &p.Commit} {
		if LooksSecret(*f) {
			*f = Redacted
		}
	}
	return p
}

// detectPlatformName returns the name of the platform env describes, by the marker variable
// each platform sets.
func detectPlatformName(env map[string]string) string {
	switch {
	case env["GITHUB_ACTIONS"] == "true":
		return PlatformGitHubActions
	case env["GITLAB_CI"] == "true":
		return PlatformGitLabCI
	case env["BUILDKITE"] == "true":
		return PlatformBuildkite
	case env["CIRCLECI"] == "true":
		return PlatformCircleCI
	case strings.EqualFold(env["TF_BUILD"], "true"):
		return PlatformAzurePipelines
	case env["JENKINS_URL"] != "":
		return PlatformJenkins
	}
	return PlatformLocal
}

// join concatenates parts when all are non-empty, else returns "".
func join(parts ...string) string {
	for _, s := range parts {
		if s == "" {
			return ""
		}
	}
	return strings.Join(parts, "")
}

// firstOf returns the first non-empty string.
func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func refFrom(tag, branch string) string {
	switch {
	case tag != "":
		return "refs/tags/" + tag
	case branch != "":
		return "refs/heads/" + branch
	}
	return ""
}

func gitHubActions(env map[string]string) Platform {
	server := strings.TrimSuffix(firstOf(env["GITHUB_SERVER_URL"], "https://github.com"), "/")
	runnerEnv := firstOf(env["RUNNER_ENVIRONMENT"], "github-hosted")
	run := join(server, "/", env["GITHUB_REPOSITORY"], "/actions/runs/", env["GITHUB_RUN_ID"])
	invocation := run
	if run != "" && env["GITHUB_RUN_ATTEMPT"] != "" {
		invocation = run + "/attempts/" + env["GITHUB_RUN_ATTEMPT"]
	}
	return Platform{
		Name:          PlatformGitHubActions,
		BuilderID:     server + "/actions/runner/" + runnerEnv,
		InvocationID:  invocation,
		InvocationURL: invocation,
		Workflow:      env["GITHUB_WORKFLOW_REF"],
		Trigger:       env["GITHUB_EVENT_NAME"],
		Runner:        firstOf(env["RUNNER_ENVIRONMENT"], env["RUNNER_NAME"]),
		Repository:    join(server, "/", env["GITHUB_REPOSITORY"]),
		Ref:           env["GITHUB_REF"],
		Commit:        env["GITHUB_SHA"],
	}
}

func gitLabCI(env map[string]string) Platform {
	server := strings.TrimSuffix(env["CI_SERVER_URL"], "/")
	project := firstOf(env["CI_PROJECT_URL"], join(server, "/", env["CI_PROJECT_PATH"]))
	builder := firstOf(join(project, "/-/runners/", env["CI_RUNNER_ID"]), server, "https://gitlab.com")
	ref := refFrom(env["CI_COMMIT_TAG"], env["CI_COMMIT_BRANCH"])
	workflow := ""
	if env["CI_PROJECT_PATH"] != "" {
		workflow = env["CI_PROJECT_PATH"] + "/" + firstOf(env["CI_CONFIG_PATH"], ".gitlab-ci.yml")
		if ref != "" {
			workflow += "@" + ref
		}
	}
	return Platform{
		Name:          PlatformGitLabCI,
		BuilderID:     builder,
		InvocationID:  firstOf(env["CI_JOB_URL"], env["CI_PIPELINE_URL"], env["CI_PIPELINE_ID"]),
		InvocationURL: firstOf(env["CI_JOB_URL"], env["CI_PIPELINE_URL"]),
		Workflow:      workflow,
		Trigger:       env["CI_PIPELINE_SOURCE"],
		Runner:        firstOf(env["CI_RUNNER_DESCRIPTION"], env["CI_RUNNER_ID"]),
		Repository:    project,
		Ref:           ref,
		Commit:        env["CI_COMMIT_SHA"],
	}
}

func buildkite(env map[string]string) Platform {
	build := env["BUILDKITE_BUILD_URL"]
	invocation := build
	if build != "" && env["BUILDKITE_JOB_ID"] != "" {
		invocation = build + "#" + env["BUILDKITE_JOB_ID"]
	}
	commit := env["BUILDKITE_COMMIT"]
	if commit == "HEAD" {
		// Buildkite's placeholder before the agent resolves the commit: not a revision.
		commit = ""
	}
	return Platform{
		Name:          PlatformBuildkite,
		BuilderID:     firstOf(join("https://buildkite.com/", env["BUILDKITE_ORGANIZATION_SLUG"]), "https://buildkite.com"),
		InvocationID:  firstOf(invocation, env["BUILDKITE_JOB_ID"]),
		InvocationURL: invocation,
		Workflow:      env["BUILDKITE_PIPELINE_SLUG"],
		Trigger:       env["BUILDKITE_SOURCE"],
		Runner:        env["BUILDKITE_AGENT_NAME"],
		Repository:    env["BUILDKITE_REPO"],
		Ref:           refFrom(env["BUILDKITE_TAG"], env["BUILDKITE_BRANCH"]),
		Commit:        commit,
	}
}

func circleCI(env map[string]string) Platform {
	workflowURL := join("https://app.circleci.com/pipelines/workflows/", env["CIRCLE_WORKFLOW_ID"])
	trigger := ""
	if env["CIRCLE_PULL_REQUEST"] != "" {
		trigger = "pull_request"
	}
	return Platform{
		Name:          PlatformCircleCI,
		BuilderID:     "https://circleci.com",
		InvocationID:  firstOf(env["CIRCLE_BUILD_URL"], workflowURL),
		InvocationURL: firstOf(env["CIRCLE_BUILD_URL"], workflowURL),
		Workflow:      env["CIRCLE_JOB"],
		Trigger:       trigger,
		Repository:    env["CIRCLE_REPOSITORY_URL"],
		Ref:           refFrom(env["CIRCLE_TAG"], env["CIRCLE_BRANCH"]),
		Commit:        env["CIRCLE_SHA1"],
	}
}

func azurePipelines(env map[string]string) Platform {
	collection := strings.TrimSuffix(env["SYSTEM_COLLECTIONURI"], "/")
	invocation := join(collection, "/", env["SYSTEM_TEAMPROJECT"], "/_build/results?buildId=", env["BUILD_BUILDID"])
	return Platform{
		Name:          PlatformAzurePipelines,
		BuilderID:     firstOf(collection, "https://dev.azure.com"),
		InvocationID:  firstOf(invocation, env["BUILD_BUILDID"]),
		InvocationURL: invocation,
		Workflow:      env["BUILD_DEFINITIONNAME"],
		Trigger:       env["BUILD_REASON"],
		Runner:        env["AGENT_NAME"],
		Repository:    env["BUILD_REPOSITORY_URI"],
		Ref:           env["BUILD_SOURCEBRANCH"],
		Commit:        env["BUILD_SOURCEVERSION"],
	}
}

func jenkins(env map[string]string) Platform {
	trigger := ""
	if env["CHANGE_ID"] != "" {
		trigger = "change-request"
	}
	return Platform{
		Name:          PlatformJenkins,
		BuilderID:     env["JENKINS_URL"],
		InvocationID:  firstOf(env["BUILD_URL"], env["BUILD_TAG"]),
		InvocationURL: env["BUILD_URL"],
		Workflow:      env["JOB_NAME"],
		Trigger:       trigger,
		Runner:        env["NODE_NAME"],
		Repository:    env["GIT_URL"],
		Ref:           refFrom(env["TAG_NAME"], env["BRANCH_NAME"]),
		Commit:        env["GIT_COMMIT"],
	}
}
