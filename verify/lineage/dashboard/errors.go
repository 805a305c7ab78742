package dashboard

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidRequest means a request's path or query cannot be served: an unknown page, a
	// malformed digest, a parameter too long or out of range. The page served says which.
	ErrInvalidRequest = errors.New("dashboard: invalid request")
	// ErrNotFound means the index holds nothing about the artifact or step a page names.
	ErrNotFound = errors.New("dashboard: not found")
	// ErrGraphviz means Graphviz's dot could not draw a lineage graph: it is not installed, it
	// failed, or its output was too large or not an SVG image with an image map.
	ErrGraphviz = errors.New("dashboard: Graphviz failed")
	// ErrInvalidOption means New was given an option it cannot use.
	ErrInvalidOption = errors.New("dashboard: invalid option")
)

// RequestError says which part of a request cannot be served, and why. It matches
// ErrInvalidRequest with errors.Is.
type RequestError struct {
	// Param is the query parameter or path segment, such as "page" or "digest".
	Param string
	// Reason says what is wrong, for the person who sent it.
	Reason string
	// Err is the cause, when there is one.
	Err error
}

// Error implements error: the parameter and the reason.
func (e *RequestError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("dashboard: %s: %s: %v", e.Param, e.Reason, e.Err)
	}
	return fmt.Sprintf("dashboard: %s: %s", e.Param, e.Reason)
}

// Unwrap returns ErrInvalidRequest and the cause.
func (e *RequestError) Unwrap() []error { return []error{ErrInvalidRequest, e.Err} }

// NotFoundError says what the index holds nothing about. It matches ErrNotFound.
type NotFoundError struct {
	// Kind is "artifact" or "step".
	Kind string
	// Key is the digest asked for.
	Key string
}

// Error implements error: what was not found.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("dashboard: the index holds no %s %s", e.Kind, e.Key)
}

// Unwrap returns ErrNotFound.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// GraphvizError says why dot could not draw a graph. It matches ErrGraphviz.
type GraphvizError struct {
	// Err is the cause.
	Err error
	// Stderr is the start of what dot wrote to its standard error.
	Stderr string
}

// Error implements error: the cause, and dot's message.
func (e *GraphvizError) Error() string {
	if e.Stderr != "" {
		return fmt.Sprintf("dashboard: Graphviz: %v: %s", e.Err, e.Stderr)
	}
	return fmt.Sprintf("dashboard: Graphviz: %v", e.Err)
}

// Unwrap returns ErrGraphviz and the cause.
func (e *GraphvizError) Unwrap() []error { return []error{ErrGraphviz, e.Err} }

// OptionError says which option New refused, and why. It matches ErrInvalidOption.
type OptionError struct {
	// Option is the option's name, such as "WithBearerToken".
	Option string
	// Reason says what is wrong.
	Reason string
}

// Error implements error: the option and the reason.
func (e *OptionError) Error() string {
	return fmt.Sprintf("dashboard: %s: %s", e.Option, e.Reason)
}

// Unwrap returns ErrInvalidOption.
func (e *OptionError) Unwrap() error { return ErrInvalidOption }
