package admission

import (
	"errors"
	"fmt"
)

var (
	// ErrBadRequest means an HTTP request did not carry an AdmissionReview the handler can read.
	ErrBadRequest = errors.New("admission: bad request")
	// ErrInvalidConfig means New was given options that contradict each other.
	ErrInvalidConfig = errors.New("admission: invalid configuration")
	// ErrInvalidImage means an image reference cannot be parsed.
	ErrInvalidImage = errors.New("invalid image reference")
	// ErrNoDigest means an image names no digest and WithRequireDigest is set.
	ErrNoDigest = errors.New("image not pinned to a digest")
	// ErrTimeout means the check of an image did not finish within the request's timeout.
	ErrTimeout = errors.New("check timed out")
)

// RequestError reports an HTTP request the handler answers with an HTTP error instead of an
// AdmissionReview. It matches ErrBadRequest and its cause.
type RequestError struct {
	// StatusCode is the HTTP status answered: 400, 405, 413 or 415.
	StatusCode int
	// Reason says what is wrong with the request.
	Reason string
	// Err is the cause, or nil.
	Err error
}

// Error names the reason and the cause.
func (e *RequestError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("admission: bad request: %s: %v", e.Reason, e.Err)
	}
	return "admission: bad request: " + e.Reason
}

// Unwrap returns ErrBadRequest and the cause.
func (e *RequestError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrBadRequest}
	}
	return []error{ErrBadRequest, e.Err}
}
