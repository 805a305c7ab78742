package collect_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/collect"
)

// gitEnv isolates the test's git commands from the user's configuration and fixes the dates, so
// every test repository has the same commit ids on every machine.
var gitEnv = []string{
	"GIT_CONFIG_GLOBAL=/dev/null",
	"GIT_CONFIG_NOSYSTEM=1",
	"GIT_AUTHOR_NAME=Test Author",
	"GIT_AUTHOR_EMAIL=author@example.test",
	"GIT_AUTHOR_DATE=2024-01-02T03:04:05Z",
	"GIT_COMMITTER_NAME=Test Committer",
	"GIT_COMMITTER_EMAIL=committer@example.test",
	"GIT_COMMITTER_DATE=2024-01-02T03:04:05Z",
	"LC_ALL=C",
}

// git runs the git program in dir and returns its trimmed output, failing the test on error.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), gitEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// writeFile writes content to name below dir, failing the test on error.
func writeFile(t testing.TB, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newRepo makes a git repository on branch main with one commit, and returns its directory.
func newRepo(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("the git program is required: %v", err)
	}
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	writeFile(t, dir, "main.go", "package main\n\nfunc main() {}\n")
	writeFile(t, dir, ".gitignore", "*.log\n")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-q", "-m", "first")
	return dir
}

func TestGit(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		opts  []collect.GitOption
		check func(t *testing.T, dir string, s *collect.Source)
	}{{
		name: "clean branch without remote",
		check: func(t *testing.T, dir string, s *collect.Source) {
			want := collect.Source{Commit: git(t, dir, "rev-parse", "HEAD"), Branch: "main", Tags: []string{}}
			assertSource(t, s, want)
			if got := s.Ref(); got != "refs/heads/main" {
				t.Errorf("Ref() = %q, want refs/heads/main", got)
			}
		},
	}, {
		name: "tags on HEAD, highest version first",
		setup: func(t *testing.T, dir string) {
			git(t, dir, "tag", "v1.2.0")
			git(t, dir, "tag", "-a", "-m", "release", "v1.10.0")
			git(t, dir, "tag", "v1.9.0")
		},
		check: func(t *testing.T, dir string, s *collect.Source) {
			if want := []string{"v1.10.0", "v1.9.0", "v1.2.0"}; !slices.Equal(s.Tags, want) {
				t.Errorf("Tags = %q, want %q", s.Tags, want)
			}
			if got := s.Ref(); got != "refs/tags/v1.10.0" {
				t.Errorf("Ref() = %q, want refs/tags/v1.10.0", got)
			}
		},
	}, {
		name: "tag on an older commit is not reported",
		setup: func(t *testing.T, dir string) {
			git(t, dir, "tag", "v0.1.0")
			writeFile(t, dir, "b.txt", "b")
			git(t, dir, "add", "b.txt")
			git(t, dir, "commit", "-q", "-m", "second")
		},
		check: func(t *testing.T, dir string, s *collect.Source) {
			if len(s.Tags) != 0 {
				t.Errorf("Tags = %q, want none", s.Tags)
			}
		},
	}, {
		name:  "detached HEAD has no branch",
		setup: func(t *testing.T, dir string) { git(t, dir, "checkout", "-q", "--detach") },
		check: func(t *testing.T, dir string, s *collect.Source) {
			if s.Branch != "" || s.Ref() != "" {
				t.Errorf("Branch = %q, Ref() = %q, want both empty", s.Branch, s.Ref())
			}
		},
	}, {
		name:  "other branch",
		setup: func(t *testing.T, dir string) { git(t, dir, "checkout", "-q", "-b", "feature/x") },
		check: func(t *testing.T, dir string, s *collect.Source) {
			if s.Branch != "feature/x" {
				t.Errorf("Branch = %q, want feature/x", s.Branch)
			}
		},
	}, {
		name:  "modified tracked file is dirty",
		setup: func(t *testing.T, dir string) { writeFile(t, dir, "main.go", "package main\n") },
		check: wantDirty(true),
	}, {
		name: "staged change is dirty",
		setup: func(t *testing.T, dir string) {
			writeFile(t, dir, "new.go", "package main\n")
			git(t, dir, "add", "new.go")
		},
		check: wantDirty(true),
	}, {
		name:  "untracked file is dirty",
		setup: func(t *testing.T, dir string) { writeFile(t, dir, "notes.txt", "x") },
		check: wantDirty(true),
	}, {
		name:  "ignored file is not dirty",
		setup: func(t *testing.T, dir string) { writeFile(t, dir, "build.log", "x") },
		check: wantDirty(false),
	}, {
		name: "credentials are stripped from the remote URL",
		setup: func(t *testing.T, dir string) {
			git(t, dir, "remote", "add", "origin", "https://builder:s3cr3t-Passw0rd@git.example.test/team/app.git")
		},
		check: func(t *testing.T, dir string, s *collect.Source) {
			if s.URL != "https://git.example.test/team/app.git" {
				t.Errorf("URL = %q", s.URL)
			}
		},
	}, {
		name: "origin is preferred over other remotes",
		setup: func(t *testing.T, dir string) {
			git(t, dir, "remote", "add", "aaa", "https://git.example.test/fork/app.git")
			git(t, dir, "remote", "add", "origin", "git@git.example.test:team/app.git")
		},
		check: func(t *testing.T, dir string, s *collect.Source) {
			if s.URL != "git@git.example.test:team/app.git" {
				t.Errorf("URL = %q", s.URL)
			}
		},
	}, {
		name: "first remote by name without origin",
		setup: func(t *testing.T, dir string) {
			git(t, dir, "remote", "add", "upstream", "https://git.example.test/up/app.git")
			git(t, dir, "remote", "add", "fork", "https://git.example.test/fork/app.git")
		},
		check: func(t *testing.T, dir string, s *collect.Source) {
			if s.URL != "https://git.example.test/fork/app.git" {
				t.Errorf("URL = %q", s.URL)
			}
		},
	}, {
		name: "named remote",
		setup: func(t *testing.T, dir string) {
			git(t, dir, "remote", "add", "origin", "https://git.example.test/team/app.git")
			git(t, dir, "remote", "add", "upstream", "ssh://git@git.example.test:2222/up/app.git")
		},
		opts: []collect.GitOption{collect.WithRemote("upstream")},
		check: func(t *testing.T, dir string, s *collect.Source) {
			if s.URL != "ssh://git@git.example.test:2222/up/app.git" {
				t.Errorf("URL = %q", s.URL)
			}
		},
	}, {
		name: "subdirectory of the work tree",
		setup: func(t *testing.T, dir string) {
			writeFile(t, dir, "sub/dir/x.txt", "x")
			git(t, dir, "add", ".")
			git(t, dir, "commit", "-q", "-m", "sub")
		},
		check: func(t *testing.T, dir string, s *collect.Source) {
			sub, err := collect.Git(context.Background(), filepath.Join(dir, "sub", "dir"))
			if err != nil {
				t.Fatal(err)
			}
			if sub.Commit != s.Commit {
				t.Errorf("commit from subdirectory %s, from top %s", sub.Commit, s.Commit)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := newRepo(t)
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			s, err := collect.Git(context.Background(), dir, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, dir, s)
		})
	}
}

func wantDirty(want bool) func(t *testing.T, dir string, s *collect.Source) {
	return func(t *testing.T, dir string, s *collect.Source) {
		t.Helper()
		if s.Dirty != want {
			t.Errorf("Dirty = %v, want %v", s.Dirty, want)
		}
	}
}

func assertSource(t *testing.T, got *collect.Source, want collect.Source) {
	t.Helper()
	if got.URL != want.URL || got.Commit != want.Commit || got.Branch != want.Branch ||
		got.Dirty != want.Dirty || !slices.Equal(got.Tags, want.Tags) {
		t.Errorf("Source = %+v, want %+v", *got, want)
	}
}

func TestGitLeavesRepositoryUnchanged(t *testing.T) {
	dir := newRepo(t)
	writeFile(t, dir, "main.go", "package main // changed\n")
	index := filepath.Join(dir, ".git", "index")
	before, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := collect.Git(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Error("reading the repository rewrote its index")
	}
}

func TestGitErrors(t *testing.T) {
	// Keep git from finding a repository above the temporary directories.
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(t.TempDir()))
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		dir  func(t *testing.T) string
		ctx  context.Context
		opts []collect.GitOption
		want error
	}{
		{name: "plain directory", dir: func(t *testing.T) string { return t.TempDir() }, want: collect.ErrNotGitRepository},
		{name: "missing directory", dir: func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, want: collect.ErrNotGitRepository},
		{name: "file, not directory", dir: func(t *testing.T) string {
			d := t.TempDir()
			writeFile(t, d, "f", "x")
			return filepath.Join(d, "f")
		}, want: collect.ErrNotGitRepository},
		{name: "repository without commits", dir: func(t *testing.T) string {
			d := t.TempDir()
			git(t, d, "init", "-q")
			return d
		}, want: collect.ErrNoCommit},
		{name: "git program missing", dir: newRepoDir, opts: []collect.GitOption{collect.WithGitProgram(filepath.Join(t.TempDir(), "no-git"))}, want: collect.ErrGitNotFound},
		{name: "unknown remote", dir: newRepoDir, opts: []collect.GitOption{collect.WithRemote("nope")}, want: collect.ErrGit},
		{name: "canceled context", dir: newRepoDir, ctx: canceled, want: context.Canceled},
		{name: "empty program", dir: newRepoDir, opts: []collect.GitOption{collect.WithGitProgram("")}, want: collect.ErrInvalidOption},
		{name: "bad remote name", dir: newRepoDir, opts: []collect.GitOption{collect.WithRemote("a b")}, want: collect.ErrInvalidOption},
		{name: "nil option", dir: newRepoDir, opts: []collect.GitOption{nil}, want: collect.ErrInvalidOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			_, err := collect.Git(ctx, tt.dir(t), tt.opts...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var gerr *collect.GitError
			if !errors.Is(tt.want, collect.ErrInvalidOption) && !errors.As(err, &gerr) {
				t.Errorf("err = %T, want *collect.GitError", err)
			}
		})
	}
}

func newRepoDir(t *testing.T) string { return newRepo(t) }

func TestSourceDependency(t *testing.T) {
	s := &collect.Source{URL: "https://git.example.test/team/app", Commit: strings.Repeat("ab", 20), Dirty: true}
	rd := s.Dependency("refs/heads/main")
	if rd.GetUri() != "git+https://git.example.test/team/app@refs/heads/main" {
		t.Errorf("uri = %q", rd.GetUri())
	}
	if rd.GetDigest()["gitCommit"] != s.Commit {
		t.Errorf("digest = %v", rd.GetDigest())
	}
	if provenance.Role(rd) != provenance.RoleSource {
		t.Errorf("role = %q", provenance.Role(rd))
	}
	if rd.GetAnnotations().GetFields()[collect.AnnotationDirty].GetStringValue() != "true" {
		t.Errorf("annotations = %v, want dirty", rd.GetAnnotations())
	}
	if err := rd.Validate(); err != nil {
		t.Error(err)
	}

	noRemote := (&collect.Source{Commit: s.Commit}).Dependency("")
	if noRemote.GetUri() != "" || noRemote.GetName() != "source" {
		t.Errorf("without remote: uri %q name %q", noRemote.GetUri(), noRemote.GetName())
	}
	if _, dirty := noRemote.GetAnnotations().GetFields()[collect.AnnotationDirty]; dirty {
		t.Error("clean source marked dirty")
	}
}

func TestStripCredentials(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"https user and password", "https://user:pass@github.com/org/repo.git", "https://github.com/org/repo.git"},
		{"https token as user", "https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/org/repo", "https://github.com/org/repo"},
		{"https x-access-token", "https://x-access-token:ghs_abcdefghijklmnopqrstuvwxyz0123456789@github.com/org/repo.git", "https://github.com/org/repo.git"},
		{"https user only", "https://builder@git.example.test/a/b", "https://git.example.test/a/b"},
		{"https query token", "https://git.example.test/a/b.git?private_token=glpat-xxxxxxxxxxxxxxxxxxxx#frag", "https://git.example.test/a/b.git"},
		{"http with port", "http://u:p@localhost:8080/r.git", "http://localhost:8080/r.git"},
		{"plain https", "https://github.com/org/repo", "https://github.com/org/repo"},
		{"ssh user kept", "ssh://git@github.com/org/repo.git", "ssh://git@github.com/org/repo.git"},
		{"ssh password dropped", "ssh://git:hunter2@github.com:22/org/repo.git", "ssh://git@github.com:22/org/repo.git"},
		{"ssh token user dropped", "ssh://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/org/repo", "ssh://github.com/org/repo"},
		{"git+ssh", "git+ssh://git:pw@host/r", "git+ssh://git@host/r"},
		{"scp-like kept", "git@github.com:org/repo.git", "git@github.com:org/repo.git"},
		{"scp-like with password", "user:pass@host.example:org/repo.git", "host.example:org/repo.git"},
		{"local path", "/srv/git/repo.git", "/srv/git/repo.git"},
		{"relative path with at", "../repos/a@b", "../repos/a@b"},
		{"file URL", "file:///srv/git/repo.git", "file:///srv/git/repo.git"},
		{"surrounding space", "  https://u:p@h/r \n", "https://h/r"},
		{"unparseable URL", "https://u:p@h/%zz", "https://h/%zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := collect.StripCredentials(tt.in); got != tt.want {
				t.Errorf("StripCredentials(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestGitSHA256Repository reads a repository of object format sha256. Its 64-digit commit is
// valid in-toto, but the in-toto Go validator this module pins accepts only SHA-1 commits, so a
// build from it fails as Source.Dependency documents.
func TestGitSHA256Repository(t *testing.T) {
	dir := t.TempDir()
	git(t, dir, "init", "-q", "--object-format=sha256", "-b", "main")
	git(t, dir, "commit", "-q", "--allow-empty", "-m", "first")
	s, err := collect.Git(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Commit) != 64 || s.Commit != git(t, dir, "rev-parse", "HEAD") {
		t.Errorf("Commit = %q, want the 64-digit HEAD", s.Commit)
	}
	if _, err := collect.Build(context.Background(), dir); !errors.Is(err, provenance.ErrInvalidPredicate) {
		t.Errorf("Build err = %v, want provenance.ErrInvalidPredicate", err)
	}
}
