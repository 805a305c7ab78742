package auditlog

import (
	"errors"
	"fmt"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrTampered means the log's evidence failed: a checkpoint, an entry or a tile is not what
	// the log committed to. Failures to read (a missing folder, a network error) do not wrap it.
	ErrTampered = errors.New("auditlog: log failed verification")
	// ErrClosed means the log was closed before the call.
	ErrClosed = errors.New("auditlog: log closed")
	// ErrInvalidConfig means Open or NewAuditor was given a configuration it cannot use.
	ErrInvalidConfig = errors.New("auditlog: invalid configuration")
)

// CheckpointError reports a checkpoint that does not open: malformed, of another origin, or not
// signed by the log's key.
type CheckpointError struct {
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *CheckpointError) Error() string { return "auditlog: checkpoint: " + e.Reason }

// Unwrap returns ErrTampered.
func (e *CheckpointError) Unwrap() error { return ErrTampered }

// RollbackError reports a log that now claims fewer entries than a checkpoint the auditor
// already holds.
type RollbackError struct {
	// Held is the size of the checkpoint the auditor holds.
	Held uint64
	// Got is the size the log now claims.
	Got uint64
}

// Error implements error.
func (e *RollbackError) Error() string {
	return fmt.Sprintf("auditlog: log rolled back: it claims %d entries, a checkpoint already seen has %d", e.Got, e.Held)
}

// Unwrap returns ErrTampered.
func (e *RollbackError) Unwrap() error { return ErrTampered }

// ConsistencyError reports two checkpoints of one log that no append-only history joins: the
// log was rewritten or forked.
type ConsistencyError struct {
	// Held and Got are the sizes of the checkpoint held and of the one the log now serves.
	Held, Got uint64
	// Reason says what failed.
	Reason string
}

// Error implements error.
func (e *ConsistencyError) Error() string {
	return fmt.Sprintf("auditlog: checkpoint of size %d is not an extension of the one of size %d: %s", e.Got, e.Held, e.Reason)
}

// Unwrap returns ErrTampered.
func (e *ConsistencyError) Unwrap() error { return ErrTampered }

// EntryError reports one entry of the log, by index, that is missing, altered, out of place or
// not a valid signed event.
type EntryError struct {
	// Index is the entry's position in the log, from 0.
	Index uint64
	// Reason says what is wrong.
	Reason string
	// Err is the cause, such as a verification error of the event's signature, or nil.
	Err error
}

// Error implements error.
func (e *EntryError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("auditlog: entry %d: %s: %v", e.Index, e.Reason, e.Err)
	}
	return fmt.Sprintf("auditlog: entry %d: %s", e.Index, e.Reason)
}

// Unwrap returns ErrTampered and the cause.
func (e *EntryError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrTampered, e.Err}
	}
	return []error{ErrTampered}
}

// RootError reports entries that do not hash to the root their checkpoint signs.
type RootError struct {
	// Size is the checkpoint's size.
	Size uint64
	// Want is the root the checkpoint signs; Got the root the entries hash to.
	Want, Got []byte
}

// Error implements error.
func (e *RootError) Error() string {
	return fmt.Sprintf("auditlog: the %d entries hash to root %x, the checkpoint signs %x", e.Size, e.Got, e.Want)
}

// Unwrap returns ErrTampered.
func (e *RootError) Unwrap() error { return ErrTampered }

// ProofError reports an inclusion proof that does not prove its entry in its checkpoint.
type ProofError struct {
	// Index and Size are the entry's index and the tree size the proof is for.
	Index, Size uint64
	// Reason says what failed.
	Reason string
}

// Error implements error.
func (e *ProofError) Error() string {
	return fmt.Sprintf("auditlog: inclusion proof of entry %d in a tree of %d: %s", e.Index, e.Size, e.Reason)
}

// Unwrap returns ErrTampered.
func (e *ProofError) Unwrap() error { return ErrTampered }
