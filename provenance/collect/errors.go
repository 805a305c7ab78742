package collect

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrNotGitRepository means the build directory is not inside a git work tree.
	ErrNotGitRepository = errors.New("collect: not a git repository")
	// ErrNoCommit means the git repository has no commit yet, so there is no revision to record.
	ErrNoCommit = errors.New("collect: git repository has no commit")
	// ErrGitNotFound means the git program could not be found or started.
	ErrGitNotFound = errors.New("collect: git program not found")
	// ErrGit means git ran but failed for another reason.
	ErrGit = errors.New("collect: git failed")
	// ErrSourceDateEpoch means SOURCE_DATE_EPOCH is set but is not a non-negative integer of seconds.
	ErrSourceDateEpoch = errors.New("collect: invalid SOURCE_DATE_EPOCH")
	// ErrMaterial means a material the caller named could not be read or recorded.
	ErrMaterial = errors.New("collect: unusable material")
	// ErrInvalidReference means an image reference is not of the form
	// [registry/]repository[:tag][@algorithm:hex].
	ErrInvalidReference = errors.New("collect: invalid image reference")
	// ErrNoBuildInfo means a program carries no Go build information.
	ErrNoBuildInfo = errors.New("collect: no Go build information")
	// ErrInvalidOption means an option was given a value it cannot use, or options contradict.
	ErrInvalidOption = errors.New("collect: invalid option")
)

// GitError reports a git command that failed.
type GitError struct {
	// Dir is the directory git ran in.
	Dir string
	// Args are git's arguments, without the program name.
	Args []string
	// Stderr is git's diagnostic output, trimmed, at most a few hundred bytes.
	Stderr string
	// Err is the cause: ErrNotGitRepository, ErrNoCommit, ErrGitNotFound or ErrGit, joined with
	// the underlying error where there is one.
	Err error
}

// Error implements error.
func (e *GitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "collect: git %s in %s: %v", strings.Join(e.Args, " "), e.Dir, e.Err)
	if e.Stderr != "" {
		fmt.Fprintf(&b, ": %s", e.Stderr)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *GitError) Unwrap() error { return e.Err }

// MaterialError reports a material (file or image) that could not be recorded.
type MaterialError struct {
	// Kind is "file" or "image".
	Kind string
	// Name is the path or reference as the caller gave it.
	Name string
	// Err is the cause. It is matched by errors.Is(err, ErrMaterial) as well.
	Err error
}

// Error implements error.
func (e *MaterialError) Error() string {
	return fmt.Sprintf("collect: %s material %q: %v", e.Kind, e.Name, e.Err)
}

// Unwrap returns ErrMaterial and the cause, so that both errors.Is(err, ErrMaterial) and, for a
// missing file, errors.Is(err, fs.ErrNotExist) hold.
func (e *MaterialError) Unwrap() []error { return []error{ErrMaterial, e.Err} }

// BuildInfoError reports a program whose Go build information could not be read.
type BuildInfoError struct {
	// Path is the program's path, or "" for the running process.
	Path string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *BuildInfoError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("collect: build information of this process: %v", e.Err)
	}
	return fmt.Sprintf("collect: build information of %s: %v", e.Path, e.Err)
}

// Unwrap returns the cause.
func (e *BuildInfoError) Unwrap() error { return e.Err }

// optionError returns an error wrapping ErrInvalidOption that names the option.
func optionError(option, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidOption, option, fmt.Sprintf(format, args...))
}
