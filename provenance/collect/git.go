package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/provkit/provkit/provenance"
	"google.golang.org/protobuf/types/known/structpb"
)

// AnnotationDirty is "true" on the source dependency when the work tree had changes, tracked or
// untracked, that the commit does not hold.
const AnnotationDirty = "dev.provkit.dirty"

// Source is the state of the git work tree a build ran from.
type Source struct {
	// URL is the fetch URL of the remote (see WithRemote), with credentials removed by
	// StripCredentials; "" when the repository has no remote.
	URL string
	// Commit is the full object name of HEAD.
	Commit string
	// Branch is the short name of the branch HEAD is on, or "" when HEAD is detached, as it
	// usually is in CI.
	Branch string
	// Tags are the tags that point at HEAD, highest version first; empty when there are none.
	Tags []string
	// Dirty is true when the work tree or index differs from HEAD, or holds untracked files that
	// are not ignored.
	Dirty bool
}

// Ref returns the ref the source is best named by: refs/tags/T for the highest tag on HEAD, else
// refs/heads/B for the current branch, else "".
func (s *Source) Ref() string {
	switch {
	case len(s.Tags) > 0:
		return "refs/tags/" + s.Tags[0]
	case s.Branch != "":
		return "refs/heads/" + s.Branch
	}
	return ""
}

// Dependency returns s as a resolved dependency: URI provenance.GitURI(URL, ref) (no URI when
// there is no remote URL), digest {"gitCommit": Commit}, annotated with role RoleSource, and with
// AnnotationDirty when the tree was dirty. ref is the ref to record; pass s.Ref() when the caller
// knows no better one (a CI platform does: see Platform.Ref).
//
// In a repository of object format sha256, Commit has 64 hex digits. The in-toto digest set
// allows that for gitCommit, but the validator of github.com/in-toto/attestation v1.2.0 accepts
// only 40, so a predicate holding such a dependency fails provenance.Build.Predicate with
// provenance.ErrInvalidPredicate.
func (s *Source) Dependency(ref string) *intoto.ResourceDescriptor {
	rd := &intoto.ResourceDescriptor{
		Digest:      map[string]string{"gitCommit": s.Commit},
		Annotations: annotations(provenance.AnnotationRole, provenance.RoleSource),
	}
	if s.URL != "" {
		rd.Uri = provenance.GitURI(s.URL, ref)
	} else {
		rd.Name = "source"
	}
	if s.Dirty {
		rd.Annotations.Fields[AnnotationDirty] = structpb.NewStringValue("true")
	}
	return rd
}

// annotations returns a Struct of string values from key, value pairs.
func annotations(kv ...string) *structpb.Struct {
	s := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(kv)/2)}
	for i := 0; i+1 < len(kv); i += 2 {
		s.Fields[kv[i]] = structpb.NewStringValue(kv[i+1])
	}
	return s
}

// GitOption configures Git.
type GitOption func(*gitOptions) error

type gitOptions struct {
	program string
	remote  string
	logger  *slog.Logger
}

// WithGitProgram runs the git program at path instead of the "git" found on the PATH.
func WithGitProgram(path string) GitOption {
	return func(o *gitOptions) error {
		if path == "" {
			return optionError("WithGitProgram", "empty path")
		}
		o.program = path
		return nil
	}
}

// WithRemote names the remote whose URL is recorded. Without it, "origin" is used when it
// exists, else the first remote in name order. Naming a remote that does not exist is an error.
func WithRemote(name string) GitOption {
	return func(o *gitOptions) error {
		if name == "" || strings.ContainsAny(name, " \t\n") {
			return optionError("WithRemote", "remote name %q is not valid", name)
		}
		o.remote = name
		return nil
	}
}

// WithGitLogger logs each git command at debug level to l.
func WithGitLogger(l *slog.Logger) GitOption {
	return func(o *gitOptions) error {
		if l == nil {
			return optionError("WithGitLogger", "nil logger")
		}
		o.logger = l
		return nil
	}
}

func newGitOptions(opts []GitOption) (*gitOptions, error) {
	o := &gitOptions{program: "git"}
	for _, opt := range opts {
		if opt == nil {
			return nil, optionError("GitOption", "nil option")
		}
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Git reads the state of the git work tree that holds dir by running the git program, and
// never changes the repository: optional locks are off, so even the index is not refreshed.
//
// git runs with this process's environment plus LC_ALL=C, GIT_TERMINAL_PROMPT=0 and
// GIT_OPTIONAL_LOCKS=0, and with core.fsmonitor off, so reading the state runs no hook program.
//
// A dir outside any work tree yields a *GitError wrapping ErrNotGitRepository; a repository
// without commits, ErrNoCommit; a git program that cannot be started, ErrGitNotFound.
func Git(ctx context.Context, dir string, opts ...GitOption) (*Source, error) {
	o, err := newGitOptions(opts)
	if err != nil {
		return nil, err
	}
	return readGit(ctx, dir, o)
}

func readGit(ctx context.Context, dir string, o *gitOptions) (*Source, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, &GitError{Dir: dir, Err: errors.Join(ErrNotGitRepository, err)}
	}
	if !info.IsDir() {
		return nil, &GitError{Dir: dir, Err: fmt.Errorf("%w: not a directory", ErrNotGitRepository)}
	}
	g := &gitRunner{ctx: ctx, dir: dir, o: o}
	if _, err := g.run("rev-parse", "--show-toplevel"); err != nil {
		return nil, err
	}
	commit, code, err := g.runCode("rev-parse", "--verify", "--quiet", "HEAD^{commit}")
	if err != nil {
		return nil, err
	}
	if code != 0 || commit == "" {
		return nil, &GitError{Dir: dir, Args: []string{"rev-parse", "--verify", "--quiet", "HEAD^{commit}"}, Err: ErrNoCommit}
	}
	s := &Source{Commit: commit, Tags: []string{}}

	branch, code, err := g.runCode("symbolic-ref", "--quiet", "--short", "HEAD")
	if err != nil {
		return nil, err
	}
	if code == 0 {
		s.Branch = branch
	}

	tags, err := g.run("tag", "--points-at", "HEAD", "--sort=-version:refname")
	if err != nil {
		return nil, err
	}
	if tags != "" {
		s.Tags = strings.Split(tags, "\n")
	}

	remote, err := g.pickRemote()
	if err != nil {
		return nil, err
	}
	if remote != "" {
		u, err := g.run("remote", "get-url", remote)
		if err != nil {
			return nil, err
		}
		s.URL = StripCredentials(u)
	}

	status, err := g.run("status", "--porcelain", "-z", "--untracked-files=normal", "--ignore-submodules=none")
	if err != nil {
		return nil, err
	}
	s.Dirty = status != ""
	return s, nil
}

func (g *gitRunner) pickRemote() (string, error) {
	out, err := g.run("remote")
	if err != nil {
		return "", err
	}
	var remotes []string
	if out != "" {
		remotes = strings.Split(out, "\n")
	}
	slices.Sort(remotes)
	if g.o.remote != "" {
		if !slices.Contains(remotes, g.o.remote) {
			return "", &GitError{Dir: g.dir, Args: []string{"remote"}, Err: fmt.Errorf("%w: no remote named %q", ErrGit, g.o.remote)}
		}
		return g.o.remote, nil
	}
	if slices.Contains(remotes, "origin") {
		return "origin", nil
	}
	if len(remotes) > 0 {
		return remotes[0], nil
	}
	return "", nil
}

type gitRunner struct {
	ctx context.Context
	dir string
	o   *gitOptions
}

// run runs git and fails unless it exits with status 0.
func (g *gitRunner) run(args ...string) (string, error) {
	out, code, err := g.runCode(args...)
	if err != nil {
		return "", err
	}
	if code != 0 {
		return "", &GitError{Dir: g.dir, Args: args, Err: fmt.Errorf("%w: exit status %d", ErrGit, code)}
	}
	return out, nil
}

// maxStderr bounds the diagnostic text kept in a GitError.
const maxStderr = 512

// runCode runs git and returns its trimmed output and exit status. A status other than 0 is not
// an error here, except status 128 (git's fatal error), which is classified.
func (g *gitRunner) runCode(args ...string) (string, int, error) {
	full := append([]string{"-C", g.dir, "-c", "core.fsmonitor=false"}, args...)
	cmd := exec.CommandContext(g.ctx, g.o.program, full...)
	cmd.Env = append(cmd.Environ(), "LC_ALL=C", "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if g.o.logger != nil {
		g.o.logger.DebugContext(g.ctx, "collect: running git", "dir", g.dir, "args", args)
	}
	err := cmd.Run()
	errText := strings.TrimSpace(stderr.String())
	if len(errText) > maxStderr {
		errText = errText[:maxStderr]
	}
	if err != nil {
		if ctxErr := g.ctx.Err(); ctxErr != nil {
			return "", 0, &GitError{Dir: g.dir, Args: args, Err: ctxErr}
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return "", 0, &GitError{Dir: g.dir, Args: args, Err: errors.Join(ErrGitNotFound, err)}
		}
		code := exit.ExitCode()
		if code == 128 {
			kind := ErrGit
			if strings.Contains(errText, "not a git repository") {
				kind = ErrNotGitRepository
			}
			return "", code, &GitError{Dir: g.dir, Args: args, Stderr: errText, Err: kind}
		}
		return strings.TrimSpace(stdout.String()), code, nil
	}
	return strings.TrimRight(stdout.String(), "\n\x00"), 0, nil
}

// StripCredentials returns a repository URL without the credentials it may carry, so it can be
// recorded:
//
//   - URLs with a scheme lose their password; http, https, ftp and other non-SSH schemes lose the
//     user name as well (tokens are often passed as the user name), and their query and fragment.
//     ssh://git@host/repo keeps its user name, which names an account, not a secret, unless the
//     user name itself looks secret.
//   - scp-like addresses (git@host:org/repo) are kept, but a "user:password@" prefix is removed.
//   - Anything else, such as a local path, is returned unchanged.
func StripCredentials(raw string) string {
	// Each pass only removes text (or lower-cases the scheme), so repeating it until nothing
	// changes ends, and the result is stable: stripping it again changes nothing.
	s := raw
	for {
		next := stripOnce(s)
		if next == s {
			return s
		}
		s = next
	}
}

func stripOnce(raw string) string {
	s := strings.TrimSpace(raw)
	if i := strings.Index(s, "://"); i > 0 && isScheme(s[:i]) {
		return stripURL(s, i)
	}
	// scp-like: [user@]host:path, where no slash comes before the colon.
	colon := strings.IndexByte(s, ':')
	slash := strings.IndexByte(s, '/')
	at := strings.LastIndex(s, "@")
	if at > 0 && (slash < 0 || at < slash) {
		user := s[:at]
		if (strings.ContainsRune(user, ':') && colon < at) || LooksSecret(user) {
			return s[at+1:]
		}
	}
	return s
}

// stripURL edits the authority of a URL in place rather than re-encoding it with net/url, so
// the rest of the URL stays byte for byte as git was given it.
func stripURL(s string, schemeEnd int) string {
	scheme := strings.ToLower(s[:schemeEnd])
	ssh := scheme == "ssh" || scheme == "git+ssh" || scheme == "ssh+git"
	rest := s[schemeEnd+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		user, _, _ := strings.Cut(authority[:at], ":")
		host := authority[at+1:]
		if ssh && user != "" && !LooksSecret(user) {
			authority = user + "@" + host
		} else {
			authority = host
		}
	}
	if !ssh {
		if q := strings.IndexAny(tail, "?#"); q >= 0 {
			tail = tail[:q]
		}
	}
	return scheme + "://" + authority + tail
}

func isScheme(s string) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}
