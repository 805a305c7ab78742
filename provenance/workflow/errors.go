package workflow

import (
	"errors"
	"fmt"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrMissingField means a step lacks a field the build type requires.
	ErrMissingField = errors.New("workflow: required field missing")
	// ErrUnpinnedImage means a step's container image is not named by a valid digest.
	ErrUnpinnedImage = errors.New("workflow: container image not pinned by digest")
	// ErrInvalidArtifact means an input or output cannot be recorded: it has no digest, an invalid
	// one, or neither a URI nor a name.
	ErrInvalidArtifact = errors.New("workflow: invalid artifact")
	// ErrInvalidParameters means parameters or the environment cannot be encoded as JSON values.
	ErrInvalidParameters = errors.New("workflow: invalid parameters")
	// ErrInvalidAgent means an agent of a step has neither an ORCID iD nor an email address, or
	// a malformed one.
	ErrInvalidAgent = errors.New("workflow: invalid agent")
)

// MissingFieldError names a required field of a Step that is empty.
type MissingFieldError struct {
	// Field is the Step field: "Name", "Image", "Outputs" or "BuilderID".
	Field string
}

// Error implements error.
func (e *MissingFieldError) Error() string {
	return fmt.Sprintf("workflow: step field %s is required", e.Field)
}

// Unwrap returns ErrMissingField.
func (e *MissingFieldError) Unwrap() error { return ErrMissingField }

// UnpinnedImageError reports a container image reference without a valid digest.
type UnpinnedImageError struct {
	// Image is the reference as given.
	Image string
	// Err is the digest's parse error, when the reference had a digest at all.
	Err error
}

// Error implements error.
func (e *UnpinnedImageError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("workflow: image %q: invalid digest: %v", e.Image, e.Err)
	}
	return fmt.Sprintf("workflow: image %q is not pinned by digest (want REPOSITORY@sha256:HEX)", e.Image)
}

// Unwrap returns ErrUnpinnedImage and the digest's parse error.
func (e *UnpinnedImageError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrUnpinnedImage, e.Err}
	}
	return []error{ErrUnpinnedImage}
}

// ArtifactError reports an input or output that cannot be recorded.
type ArtifactError struct {
	// Field is "Inputs" or "Outputs".
	Field string
	// Index is the artifact's position in Field.
	Index int
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *ArtifactError) Error() string {
	return fmt.Sprintf("workflow: %s[%d]: %s", e.Field, e.Index, e.Reason)
}

// Unwrap returns ErrInvalidArtifact.
func (e *ArtifactError) Unwrap() error { return ErrInvalidArtifact }

// AgentError reports an agent that cannot be recorded.
type AgentError struct {
	// Index is the agent's position in Step.Agents; -1 when NormalizeORCID checked an iD alone.
	Index int
	// Field is "ORCID" or "Email".
	Field string
	// Value is the value as given.
	Value string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *AgentError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("workflow: ORCID iD %q: %s", e.Value, e.Reason)
	}
	if e.Value == "" {
		return fmt.Sprintf("workflow: Agents[%d]: %s", e.Index, e.Reason)
	}
	return fmt.Sprintf("workflow: Agents[%d].%s %q: %s", e.Index, e.Field, e.Value, e.Reason)
}

// Unwrap returns ErrInvalidAgent.
func (e *AgentError) Unwrap() error { return ErrInvalidAgent }
