package oras

import (
	"errors"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them. Size limits are
// reported with *provenance.SizeError (wrapping provenance.ErrTooLarge) and unknown subjects or
// attestations with errors wrapping provenance.ErrNotFound.
var (
	// ErrIntegrity means content read from a store does not match the digest or size its
	// descriptor promised.
	ErrIntegrity = errors.New("oras: content does not match its descriptor")
	// ErrInvalidInput means an argument is unusable: a malformed descriptor, an empty bundle,
	// an unsupported media type.
	ErrInvalidInput = errors.New("oras: invalid input")
	// ErrInvalidOption means a constructor option is out of range or contradicts another.
	ErrInvalidOption = errors.New("oras: invalid option")
	// ErrDrift means a tag no longer points to the digest recorded for it.
	ErrDrift = errors.New("oras: tag has drifted")
	// ErrLostUpdate means an attestation pushed to a registry without the referrers API kept
	// disappearing from the referrers tag index because other writers overwrote it.
	ErrLostUpdate = errors.New("oras: referrers index update lost to concurrent writers")
	// ErrMalformed means a manifest, index or image configuration read from a store is not
	// valid JSON of the expected shape.
	ErrMalformed = errors.New("oras: malformed manifest")
)

// IntegrityError reports content whose digest or size differs from its descriptor.
type IntegrityError struct {
	// Descriptor is what the content was expected to match.
	Descriptor ocispec.Descriptor
	// Err is the cause reported while reading, e.g. content.ErrMismatchedDigest.
	Err error
}

// Error implements error.
func (e *IntegrityError) Error() string {
	return fmt.Sprintf("oras: %s %s (%d bytes) failed verification: %v",
		e.Descriptor.MediaType, e.Descriptor.Digest, e.Descriptor.Size, e.Err)
}

// Unwrap returns ErrIntegrity and the cause.
func (e *IntegrityError) Unwrap() []error { return []error{ErrIntegrity, e.Err} }

// InputError reports an unusable argument.
type InputError struct {
	// What names the argument, e.g. "subject" or "bundle".
	What string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *InputError) Error() string { return fmt.Sprintf("oras: %s: %s", e.What, e.Reason) }

// Unwrap returns ErrInvalidInput.
func (e *InputError) Unwrap() error { return ErrInvalidInput }

// OptionError reports a rejected constructor option.
type OptionError struct {
	// Option names the option, e.g. "WithPageSize".
	Option string
	// Reason says why it was rejected.
	Reason string
}

// Error implements error.
func (e *OptionError) Error() string { return fmt.Sprintf("oras: option %s: %s", e.Option, e.Reason) }

// Unwrap returns ErrInvalidOption.
func (e *OptionError) Unwrap() error { return ErrInvalidOption }

// DriftError reports a tag that now points elsewhere than the digest recorded for it.
type DriftError struct {
	// Reference is the tag that was resolved.
	Reference string
	// Recorded is the digest the caller recorded at first resolution.
	Recorded digest.Digest
	// Current is the digest the tag points to now.
	Current digest.Digest
}

// Error implements error.
func (e *DriftError) Error() string {
	return fmt.Sprintf("oras: tag %s now points to %s, not the recorded %s", e.Reference, e.Current, e.Recorded)
}

// Unwrap returns ErrDrift.
func (e *DriftError) Unwrap() error { return ErrDrift }

// LostUpdateError reports an attestation that could not be kept in a referrers tag index.
type LostUpdateError struct {
	// Subject is the manifest the attestation refers to.
	Subject digest.Digest
	// Attestation is the attestation manifest that went missing from the index.
	Attestation digest.Digest
	// Attempts is how many times it was pushed.
	Attempts int
}

// Error implements error.
func (e *LostUpdateError) Error() string {
	return fmt.Sprintf("oras: attestation %s of %s missing from the referrers tag index after %d attempts",
		e.Attestation, e.Subject, e.Attempts)
}

// Unwrap returns ErrLostUpdate.
func (e *LostUpdateError) Unwrap() error { return ErrLostUpdate }

// MalformedError reports a manifest or index that cannot be decoded, or a manifest whose image
// configuration cannot be.
type MalformedError struct {
	// Digest names the document.
	Digest digest.Digest
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *MalformedError) Error() string {
	return fmt.Sprintf("oras: manifest %s: %s", e.Digest, e.Reason)
}

// Unwrap returns ErrMalformed.
func (e *MalformedError) Unwrap() error { return ErrMalformed }

// LimitError reports more items than a documented count limit allows, such as more referrers
// of one subject than provenance.MaxReferrers.
type LimitError struct {
	// What names the items, e.g. "referrers of sha256:ab12..".
	What string
	// Limit is the most allowed.
	Limit int
}

// Error implements error.
func (e *LimitError) Error() string {
	return fmt.Sprintf("oras: %s exceed the limit of %d", e.What, e.Limit)
}

// Unwrap returns provenance.ErrTooLarge.
func (e *LimitError) Unwrap() error { return provenance.ErrTooLarge }

// EnvironmentError reports a failure in one of several named stores, such as ResolveAll's.
type EnvironmentError struct {
	// Environment is the name of the store, as the caller keyed it.
	Environment string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *EnvironmentError) Error() string {
	return fmt.Sprintf("oras: environment %q: %v", e.Environment, e.Err)
}

// Unwrap returns the cause.
func (e *EnvironmentError) Unwrap() error { return e.Err }

// More sentinel errors of remote Stores.
var (
	// ErrRedirect means a registry sent the client somewhere a remote Store does not go: plain
	// HTTP to a host not allowed it, or a Link header naming another host or scheme.
	ErrRedirect = errors.New("oras: registry sent the client where it does not go")
	// ErrStalled means a registry sent nothing for longer than the stall timeout
	// (WithStallTimeout).
	ErrStalled = errors.New("oras: registry stalled")
)

// RedirectError reports a request or a Link header a remote Store refused to follow.
type RedirectError struct {
	// URL is where the registry pointed, without any password.
	URL string
	// Reason says why it was refused.
	Reason string
}

// Error implements error.
func (e *RedirectError) Error() string {
	return fmt.Sprintf("oras: refused to go to %s: %s", e.URL, e.Reason)
}

// Unwrap returns ErrRedirect.
func (e *RedirectError) Unwrap() error { return ErrRedirect }

// StallError reports a registry that sent nothing for the stall timeout.
type StallError struct {
	// URL is the request's, without any password.
	URL string
	// Waiting is what the client was waiting for: "response headers" or "response body".
	Waiting string
	// After is the stall timeout.
	After time.Duration
}

// Error implements error.
func (e *StallError) Error() string {
	return fmt.Sprintf("oras: %s: no %s for %s", e.URL, e.Waiting, e.After)
}

// Unwrap returns ErrStalled.
func (e *StallError) Unwrap() error { return ErrStalled }

// Timeout reports true, as net.Error timeouts do (os.IsTimeout).
func (e *StallError) Timeout() bool { return true }

// Sentinel errors of references and read-only stores.
var (
	// ErrInvalidReference means a reference string names no registry repository or OCI layout
	// in a form ParseReference accepts.
	ErrInvalidReference = errors.New("oras: invalid reference")
	// ErrReadOnly means a write (Attach, PushFile, Repair, Copy into it) was asked of a Store
	// opened read-only (OpenLayout, OpenLayoutFS, OpenLayoutTar, Reference.Open on a layout).
	ErrReadOnly = errors.New("oras: store is read-only")
)

// ReferenceError reports a reference string ParseReference rejects.
type ReferenceError struct {
	// Reference is the string as given.
	Reference string
	// Reason says what is wrong with it.
	Reason string
	// Err is the cause reported by oras-go's reference parser or go-digest, or nil.
	Err error
}

// Error implements error.
func (e *ReferenceError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("oras: reference %q: %s: %v", e.Reference, e.Reason, e.Err)
	}
	return fmt.Sprintf("oras: reference %q: %s", e.Reference, e.Reason)
}

// Unwrap returns ErrInvalidReference and the cause, when there is one.
func (e *ReferenceError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidReference}
	}
	return []error{ErrInvalidReference, e.Err}
}

// LayoutError reports an OCI image layout that cannot be opened for reading: a directory or
// archive that does not exist or holds no layout (wrapping provenance.ErrNotFound), or one
// whose oci-layout or index.json file is unusable.
type LayoutError struct {
	// Path is the layout's directory or archive, or "" for an fs.FS.
	Path string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *LayoutError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("oras: OCI layout: %v", e.Err)
	}
	return fmt.Sprintf("oras: OCI layout %s: %v", e.Path, e.Err)
}

// Unwrap returns the cause.
func (e *LayoutError) Unwrap() error { return e.Err }

// ReadOnlyError reports a write asked of a read-only Store; nothing was written.
type ReadOnlyError struct {
	// Op is the write, e.g. "attach" or "push sha256:ab12..".
	Op string
	// Store names the Store, e.g. "OCI layout /srv/pack".
	Store string
}

// Error implements error.
func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("oras: %s: %s is read-only", e.Op, e.Store)
}

// Unwrap returns ErrReadOnly.
func (e *ReadOnlyError) Unwrap() error { return ErrReadOnly }
