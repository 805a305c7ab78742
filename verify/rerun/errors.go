package rerun

import (
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrInvalidRecord means the verified statement is not a workflow step Run can re-run:
	// another predicate or build type, or a field missing or malformed.
	ErrInvalidRecord = errors.New("rerun: not a re-runnable workflow step")
	// ErrNotStored means an input or the container image the record names is not in the store.
	ErrNotStored = errors.New("rerun: not in the store")
	// ErrIntegrity means content read from the store is not what its digest or size says.
	ErrIntegrity = errors.New("rerun: content does not match its digest")
	// ErrUnsafeLayer means an image layer was refused: a path leading outside the root
	// folder, a symbolic link escaping it, a device file, or a size over the limits.
	ErrUnsafeLayer = errors.New("rerun: unsafe image layer")
	// ErrRunner means the runner cannot run the step here, such as the chroot runner without
	// root privileges.
	ErrRunner = errors.New("rerun: cannot run the step")
	// ErrCommand means the step's command ran and failed: it exited with a non-zero status, or
	// was stopped when its time ran out.
	ErrCommand = errors.New("rerun: the step's command failed")
)

// RecordError reports what makes a verified record unfit to re-run.
type RecordError struct {
	// Field names the part of the statement: "predicateType", "buildType",
	// "externalParameters.command", "outputs"…
	Field string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *RecordError) Error() string {
	return fmt.Sprintf("rerun: record %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidRecord.
func (e *RecordError) Unwrap() error { return ErrInvalidRecord }

// FetchError reports an input or image content that could not be fetched as the record
// names it. Err wraps ErrNotStored, ErrIntegrity, provenance.ErrTooLarge or the store's error.
type FetchError struct {
	// What names the content: "input raw.csv", "image registry.example/clean@sha256:…",
	// "layer sha256:…".
	What string
	// Digest is the digest the record names for it.
	Digest digest.Digest
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *FetchError) Error() string {
	return fmt.Sprintf("rerun: fetch %s (%s): %v", e.What, e.Digest, e.Err)
}

// Unwrap returns the cause.
func (e *FetchError) Unwrap() error { return e.Err }

// LayerError reports an image layer entry Unpack refused.
type LayerError struct {
	// Path is the entry's name in the layer archive, as the archive gives it.
	Path string
	// Reason says why it was refused.
	Reason string
	// Err is the cause, when there is one: provenance.ErrTooLarge for sizes over the limits,
	// or the archive's read error.
	Err error
}

// Error implements error.
func (e *LayerError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("rerun: layer entry %q: %s: %v", e.Path, e.Reason, e.Err)
	}
	return fmt.Sprintf("rerun: layer entry %q: %s", e.Path, e.Reason)
}

// Unwrap returns ErrUnsafeLayer and the cause.
func (e *LayerError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrUnsafeLayer, e.Err}
	}
	return []error{ErrUnsafeLayer}
}

// RunnerError reports why a Runner cannot run the step.
type RunnerError struct {
	// Runner names the runner, such as "chroot".
	Runner string
	// Reason says why, such as "needs root privileges to chroot (effective uid 1000)".
	Reason string
}

// Error implements error.
func (e *RunnerError) Error() string {
	return fmt.Sprintf("rerun: %s runner: %s", e.Runner, e.Reason)
}

// Unwrap returns ErrRunner.
func (e *RunnerError) Unwrap() error { return ErrRunner }

// CommandError reports a step's command that failed.
type CommandError struct {
	// Args is the command line that ran.
	Args []string
	// ExitCode is the exit status, or -1 when the command was stopped by a signal or its time
	// ran out.
	ExitCode int
	// Stderr is the end of what the command wrote to its standard error, at most 4 KiB.
	Stderr string
	// Err is the cause, from os/exec or the context.
	Err error
}

// Error implements error.
func (e *CommandError) Error() string {
	return fmt.Sprintf("rerun: command %q exited with status %d: %v", e.Args, e.ExitCode, e.Err)
}

// Unwrap returns ErrCommand and the cause.
func (e *CommandError) Unwrap() []error { return []error{ErrCommand, e.Err} }
