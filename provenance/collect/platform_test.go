package collect_test

import (
	"testing"

	"github.com/provkit/provkit/provenance/collect"
)

func TestDetectPlatform(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want collect.Platform
	}{{
		name: "GitHub Actions",
		env: map[string]string{
			"CI": "true", "GITHUB_ACTIONS": "true",
			"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "octo-org/octo-repo",
			"GITHUB_RUN_ID": "1658821493", "GITHUB_RUN_ATTEMPT": "2",
			"GITHUB_WORKFLOW_REF": "octo-org/octo-repo/.github/workflows/build.yml@refs/heads/main",
			"GITHUB_EVENT_NAME":   "push", "GITHUB_REF": "refs/heads/main",
			"GITHUB_SHA":         "ffac537e6cbbf934b08745a378932722df287a53",
			"RUNNER_ENVIRONMENT": "github-hosted", "RUNNER_NAME": "GitHub Actions 2", "RUNNER_OS": "Linux",
		},
		want: collect.Platform{
			Name:          collect.PlatformGitHubActions,
			BuilderID:     "https://github.com/actions/runner/github-hosted",
			InvocationID:  "https://github.com/octo-org/octo-repo/actions/runs/1658821493/attempts/2",
			InvocationURL: "https://github.com/octo-org/octo-repo/actions/runs/1658821493/attempts/2",
			Workflow:      "octo-org/octo-repo/.github/workflows/build.yml@refs/heads/main",
			Trigger:       "push",
			Runner:        "github-hosted",
			Repository:    "https://github.com/octo-org/octo-repo",
			Ref:           "refs/heads/main",
			Commit:        "ffac537e6cbbf934b08745a378932722df287a53",
		},
	}, {
		name: "GitHub Enterprise Server, self-hosted runner, pull request",
		env: map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://ghe.example.test/",
			"GITHUB_REPOSITORY": "team/app", "GITHUB_RUN_ID": "7", "GITHUB_EVENT_NAME": "pull_request",
			"GITHUB_REF": "refs/pull/12/merge", "RUNNER_ENVIRONMENT": "self-hosted",
		},
		want: collect.Platform{
			Name:          collect.PlatformGitHubActions,
			BuilderID:     "https://ghe.example.test/actions/runner/self-hosted",
			InvocationID:  "https://ghe.example.test/team/app/actions/runs/7",
			InvocationURL: "https://ghe.example.test/team/app/actions/runs/7",
			Trigger:       "pull_request",
			Runner:        "self-hosted",
			Repository:    "https://ghe.example.test/team/app",
			Ref:           "refs/pull/12/merge",
		},
	}, {
		name: "GitLab CI, tag pipeline",
		env: map[string]string{
			"CI": "true", "GITLAB_CI": "true",
			"CI_SERVER_URL": "https://gitlab.example.test", "CI_PROJECT_PATH": "group/project",
			"CI_PROJECT_URL": "https://gitlab.example.test/group/project",
			"CI_JOB_URL":     "https://gitlab.example.test/group/project/-/jobs/4242",
			"CI_PIPELINE_ID": "99", "CI_PIPELINE_SOURCE": "push", "CI_CONFIG_PATH": ".gitlab-ci.yml",
			"CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567", "CI_COMMIT_TAG": "v1.0.0",
			"CI_COMMIT_REF_NAME": "v1.0.0", "CI_RUNNER_ID": "12345", "CI_RUNNER_DESCRIPTION": "shared-runner-1",
		},
		want: collect.Platform{
			Name:          collect.PlatformGitLabCI,
			BuilderID:     "https://gitlab.example.test/group/project/-/runners/12345",
			InvocationID:  "https://gitlab.example.test/group/project/-/jobs/4242",
			InvocationURL: "https://gitlab.example.test/group/project/-/jobs/4242",
			Workflow:      "group/project/.gitlab-ci.yml@refs/tags/v1.0.0",
			Trigger:       "push",
			Runner:        "shared-runner-1",
			Repository:    "https://gitlab.example.test/group/project",
			Ref:           "refs/tags/v1.0.0",
			Commit:        "0123456789abcdef0123456789abcdef01234567",
		},
	}, {
		name: "GitLab CI, few variables",
		env: map[string]string{
			"GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.com", "CI_PROJECT_PATH": "g/p",
			"CI_PIPELINE_ID": "5", "CI_COMMIT_BRANCH": "main", "CI_PIPELINE_SOURCE": "schedule",
		},
		want: collect.Platform{
			Name:         collect.PlatformGitLabCI,
			BuilderID:    "https://gitlab.com",
			InvocationID: "5",
			Workflow:     "g/p/.gitlab-ci.yml@refs/heads/main",
			Trigger:      "schedule",
			Repository:   "https://gitlab.com/g/p",
			Ref:          "refs/heads/main",
		},
	}, {
		name: "Jenkins multibranch",
		env: map[string]string{
			"JENKINS_URL": "https://jenkins.example.test/", "BUILD_URL": "https://jenkins.example.test/job/app/job/main/17/",
			"BUILD_TAG": "jenkins-app-main-17", "JOB_NAME": "app/main", "NODE_NAME": "agent-3",
			"GIT_URL": "https://jenkins:t0ken@git.example.test/app.git", "GIT_COMMIT": "89abcdef0123456789abcdef0123456789abcdef",
			"BRANCH_NAME": "main",
		},
		want: collect.Platform{
			Name:          collect.PlatformJenkins,
			BuilderID:     "https://jenkins.example.test/",
			InvocationID:  "https://jenkins.example.test/job/app/job/main/17/",
			InvocationURL: "https://jenkins.example.test/job/app/job/main/17/",
			Workflow:      "app/main",
			Runner:        "agent-3",
			Repository:    "https://git.example.test/app.git",
			Ref:           "refs/heads/main",
			Commit:        "89abcdef0123456789abcdef0123456789abcdef",
		},
	}, {
		name: "Jenkins change request without build URL",
		env:  map[string]string{"JENKINS_URL": "http://ci:8080/", "BUILD_TAG": "jenkins-app-PR-3-1", "CHANGE_ID": "3"},
		want: collect.Platform{
			Name:         collect.PlatformJenkins,
			BuilderID:    "http://ci:8080/",
			InvocationID: "jenkins-app-PR-3-1",
			Trigger:      "change-request",
		},
	}, {
		name: "Buildkite",
		env: map[string]string{
			"CI": "true", "BUILDKITE": "true",
			"BUILDKITE_BUILD_URL":         "https://buildkite.com/acme/app/builds/1514",
			"BUILDKITE_JOB_ID":            "e44f9784-e20e-4b93-a21d-f41fd5869db9",
			"BUILDKITE_ORGANIZATION_SLUG": "acme", "BUILDKITE_PIPELINE_SLUG": "app",
			"BUILDKITE_SOURCE": "webhook", "BUILDKITE_AGENT_NAME": "agent-1",
			"BUILDKITE_REPO": "git@github.com:acme/app.git", "BUILDKITE_BRANCH": "main",
			"BUILDKITE_COMMIT": "83a20ec058e2fb00e7fa4558c4c6e81e2dcf253d",
		},
		want: collect.Platform{
			Name:          collect.PlatformBuildkite,
			BuilderID:     "https://buildkite.com/acme",
			InvocationID:  "https://buildkite.com/acme/app/builds/1514#e44f9784-e20e-4b93-a21d-f41fd5869db9",
			InvocationURL: "https://buildkite.com/acme/app/builds/1514#e44f9784-e20e-4b93-a21d-f41fd5869db9",
			Workflow:      "app",
			Trigger:       "webhook",
			Runner:        "agent-1",
			Repository:    "git@github.com:acme/app.git",
			Ref:           "refs/heads/main",
			Commit:        "83a20ec058e2fb00e7fa4558c4c6e81e2dcf253d",
		},
	}, {
		name: "Buildkite commit placeholder HEAD is dropped",
		env:  map[string]string{"BUILDKITE": "true", "BUILDKITE_COMMIT": "HEAD", "BUILDKITE_TAG": "v2"},
		want: collect.Platform{
			Name:      collect.PlatformBuildkite,
			BuilderID: "https://buildkite.com",
			Ref:       "refs/tags/v2",
		},
	}, {
		name: "CircleCI",
		env: map[string]string{
			"CI": "true", "CIRCLECI": "true",
			"CIRCLE_BUILD_URL":      "https://circleci.com/gh/acme/app/123",
			"CIRCLE_WORKFLOW_ID":    "6ce1c2b6-6d0a-4d9f-8e5b-b0d4c8a4d0a1",
			"CIRCLE_JOB":            "build",
			"CIRCLE_REPOSITORY_URL": "git@github.com:acme/app.git",
			"CIRCLE_BRANCH":         "main", "CIRCLE_SHA1": "2c1e0c8b2c1e0c8b2c1e0c8b2c1e0c8b2c1e0c8b",
			"CIRCLE_PULL_REQUEST": "https://github.com/acme/app/pull/9",
		},
		want: collect.Platform{
			Name:          collect.PlatformCircleCI,
			BuilderID:     "https://circleci.com",
			InvocationID:  "https://circleci.com/gh/acme/app/123",
			InvocationURL: "https://circleci.com/gh/acme/app/123",
			Workflow:      "build",
			Trigger:       "pull_request",
			Repository:    "git@github.com:acme/app.git",
			Ref:           "refs/heads/main",
			Commit:        "2c1e0c8b2c1e0c8b2c1e0c8b2c1e0c8b2c1e0c8b",
		},
	}, {
		name: "CircleCI without build URL names the workflow",
		env:  map[string]string{"CIRCLECI": "true", "CIRCLE_WORKFLOW_ID": "w1", "CIRCLE_TAG": "v3"},
		want: collect.Platform{
			Name:          collect.PlatformCircleCI,
			BuilderID:     "https://circleci.com",
			InvocationID:  "https://app.circleci.com/pipelines/workflows/w1",
			InvocationURL: "https://app.circleci.com/pipelines/workflows/w1",
			Ref:           "refs/tags/v3",
		},
	}, {
		name: "Azure Pipelines",
		env: map[string]string{
			"TF_BUILD": "True", "SYSTEM_COLLECTIONURI": "https://dev.azure.com/fabrikam/",
			"SYSTEM_TEAMPROJECT": "Fabrikam-Fiber", "BUILD_BUILDID": "314",
			"BUILD_DEFINITIONNAME": "app-ci", "BUILD_REASON": "IndividualCI", "AGENT_NAME": "Azure Pipelines 5",
			"BUILD_REPOSITORY_URI": "https://fabrikam@dev.azure.com/fabrikam/Fabrikam-Fiber/_git/app",
			"BUILD_SOURCEBRANCH":   "refs/heads/main", "BUILD_SOURCEVERSION": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
		},
		want: collect.Platform{
			Name:          collect.PlatformAzurePipelines,
			BuilderID:     "https://dev.azure.com/fabrikam",
			InvocationID:  "https://dev.azure.com/fabrikam/Fabrikam-Fiber/_build/results?buildId=314",
			InvocationURL: "https://dev.azure.com/fabrikam/Fabrikam-Fiber/_build/results?buildId=314",
			Workflow:      "app-ci",
			Trigger:       "IndividualCI",
			Runner:        "Azure Pipelines 5",
			Repository:    "https://dev.azure.com/fabrikam/Fabrikam-Fiber/_git/app",
			Ref:           "refs/heads/main",
			Commit:        "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
		},
	}, {
		name: "empty environment is local",
		env:  map[string]string{},
		want: collect.Platform{Name: collect.PlatformLocal, BuilderID: collect.LocalBuilderID},
	}, {
		name: "nil environment is local",
		want: collect.Platform{Name: collect.PlatformLocal, BuilderID: collect.LocalBuilderID},
	}, {
		name: "unknown CI is local",
		env:  map[string]string{"CI": "true", "TRAVIS": "true", "DRONE": "true", "BUILD_URL": "https://x.test/1"},
		want: collect.Platform{Name: collect.PlatformLocal, BuilderID: collect.LocalBuilderID},
	}, {
		name: "GITHUB_ACTIONS other than true is not GitHub",
		env:  map[string]string{"GITHUB_ACTIONS": "false", "GITLAB_CI": "yes"},
		want: collect.Platform{Name: collect.PlatformLocal, BuilderID: collect.LocalBuilderID},
	}, {
		name: "secret-looking platform facts are redacted",
		env: map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "1",
			"GITHUB_REF":          "refs/heads/ghp_abcdefghijklmnopqrstuvwxyz0123456789",
			"GITHUB_WORKFLOW_REF": "o/r/.github/workflows/x.yml@refs/heads/AKIAABCDEFGHIJKLMNOP",
		},
		want: collect.Platform{
			Name:          collect.PlatformGitHubActions,
			BuilderID:     "https://github.com/actions/runner/github-hosted",
			InvocationID:  "https://github.com/o/r/actions/runs/1",
			InvocationURL: "https://github.com/o/r/actions/runs/1",
			Workflow:      collect.Redacted,
			Runner:        "",
			Repository:    "https://github.com/o/r",
			Ref:           collect.Redacted,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := collect.DetectPlatform(tt.env); got != tt.want {
				t.Errorf("DetectPlatform()\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
