package lineage

import (
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrInvalidResult means a result cannot be added to a graph: it is nil, it is a zero Result
	// that verify did not make, or its SLSA predicate cannot be decoded.
	ErrInvalidResult = errors.New("lineage: invalid result")
	// ErrUnknownArtifact means a query named a digest the graph has no node for.
	ErrUnknownArtifact = errors.New("lineage: artifact not in graph")
	// ErrNoPath means no chain of edges leads from one artifact to the other.
	ErrNoPath = errors.New("lineage: no path")
	// ErrDigestConflict means the results give one artifact two different digests of one
	// algorithm: descriptors that share a digest disagree on another.
	ErrDigestConflict = errors.New("lineage: conflicting digests for one artifact")
	// ErrInvalidCrate means the RO-Crate description lacks a required property.
	ErrInvalidCrate = errors.New("lineage: invalid RO-Crate description")
	// ErrCrateData means the data of a crate could not be read, checked or written.
	ErrCrateData = errors.New("lineage: cannot write the crate's data")
	// ErrDataDigest means data given for an artifact does not match its digest.
	ErrDataDigest = errors.New("lineage: data does not match its digest")
	// ErrInvalidCrateDocument means CheckROCrate was given something that is not RO-Crate
	// JSON-LD: not a JSON object with a @graph of entities with @ids.
	ErrInvalidCrateDocument = errors.New("lineage: not an RO-Crate metadata document")
)

// CrateDataError reports a data file WriteROCrateDir or WriteROCrateZip could not copy.
type CrateDataError struct {
	// Op is "create" (the folder), "read", "copy", "verify" or "write".
	Op string
	// Digest is the artifact's node key; empty for the folder or the metadata file.
	Digest digest.Digest
	// Path is the file's path in the crate, or the folder.
	Path string
	// Got is the digest of the data read, when it did not match Digest.
	Got digest.Digest
	// Err is the cause: ErrDataDigest on a mismatch.
	Err error
}

// Error implements error.
func (e *CrateDataError) Error() string {
	switch {
	case e.Got != "":
		return fmt.Sprintf("lineage: crate file %s: data for %s has digest %s", e.Path, e.Digest, e.Got)
	case e.Digest != "":
		return fmt.Sprintf("lineage: %s crate file %s (%s): %v", e.Op, e.Path, e.Digest, e.Err)
	}
	return fmt.Sprintf("lineage: %s crate %s: %v", e.Op, e.Path, e.Err)
}

// Unwrap returns ErrCrateData and the cause.
func (e *CrateDataError) Unwrap() []error { return []error{ErrCrateData, e.Err} }

// ResultError reports a result that could not be added to a graph.
type ResultError struct {
	// Index is the result's position in the slice given to New.
	Index int
	// Err is the reason.
	Err error
}

// Error implements error.
func (e *ResultError) Error() string {
	return fmt.Sprintf("lineage: result %d: %v", e.Index, e.Err)
}

// Unwrap returns ErrInvalidResult and the reason.
func (e *ResultError) Unwrap() []error { return []error{ErrInvalidResult, e.Err} }

// DigestConflictError reports digests that descriptors join into one artifact although two of
// them are different values of one algorithm, such as a sha512 given once with one sha256 and once
// with another. No graph is made from such results: the descriptors are either different
// artifacts sharing a digest, which that digest then cannot identify, or one artifact with a
// wrong digest, and the graph cannot tell which. Leave out the statements named and build again.
type DigestConflictError struct {
	// Digests are the joined digests, sorted.
	Digests []digest.Digest
	// Statements are the IDs of the activities that named any of them, sorted.
	Statements []digest.Digest
}

// Error implements error.
func (e *DigestConflictError) Error() string {
	return fmt.Sprintf("lineage: descriptors join conflicting digests %v into one artifact (statements %v)", e.Digests, e.Statements)
}

// Unwrap returns ErrDigestConflict.
func (e *DigestConflictError) Unwrap() error { return ErrDigestConflict }

// UnknownArtifactError reports a digest that names no node of the graph.
type UnknownArtifactError struct {
	// Digest is the digest queried.
	Digest digest.Digest
}

// Error implements error.
func (e *UnknownArtifactError) Error() string {
	return fmt.Sprintf("lineage: artifact %s not in graph", e.Digest)
}

// Unwrap returns ErrUnknownArtifact.
func (e *UnknownArtifactError) Unwrap() error { return ErrUnknownArtifact }

// NoPathError reports that no chain of edges leads from From to To.
type NoPathError struct {
	// From and To are the canonical digests of the two artifacts.
	From, To digest.Digest
}

// Error implements error.
func (e *NoPathError) Error() string {
	return fmt.Sprintf("lineage: no path from %s to %s", e.From, e.To)
}

// Unwrap returns ErrNoPath.
func (e *NoPathError) Unwrap() error { return ErrNoPath }

// Errors of Collect and WriteHTML.
var (
	// ErrCollect means Collect could not read or check the attestations of a store: a listing
	// or a fetch failed, the context ended, or the verifier could not check the evidence (its
	// configuration or trust material). It is never a verdict on the evidence itself: evidence
	// that fails verification is Rejected, and Collect goes on.
	ErrCollect = errors.New("lineage: cannot collect attestations")
	// ErrNotAttestation means a referrer holds no signed attestation: it is an index, or its
	// content is not a Sigstore bundle or DSSE envelope (an unsigned in-toto statement, an SBOM).
	ErrNotAttestation = errors.New("lineage: not a signed attestation")
	// ErrGraphviz means Graphviz's dot could not render the graph: it is not installed, it
	// failed, or its output was over MaxSVGBytes.
	ErrGraphviz = errors.New("lineage: Graphviz failed")
	// ErrNotSVG means what dot wrote is not one well-formed SVG document, so WriteHTML has no
	// image of the graph to show.
	ErrNotSVG = errors.New("lineage: Graphviz output is not SVG")
)

// CollectError reports what Collect was doing when it could not go on.
type CollectError struct {
	// Op is "check" (the arguments), "list", "fetch", "verify" or, in CollectUpstream,
	// "resolve" (looking a dependency up in the store).
	Op string
	// Subject is the manifest whose attestations were being collected.
	Subject ocispec.Descriptor
	// Attestation is the attestation being fetched or verified; zero for "check" and "list".
	Attestation ocispec.Descriptor
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *CollectError) Error() string {
	switch {
	case e.Subject.Digest == "":
		return fmt.Sprintf("lineage: %s: %v", e.Op, e.Err)
	case e.Attestation.Digest != "":
		return fmt.Sprintf("lineage: %s attestation %s of %s: %v", e.Op, e.Attestation.Digest, e.Subject.Digest, e.Err)
	}
	return fmt.Sprintf("lineage: %s attestations of %s: %v", e.Op, e.Subject.Digest, e.Err)
}

// Unwrap returns ErrCollect and the cause.
func (e *CollectError) Unwrap() []error { return []error{ErrCollect, e.Err} }

// NotAttestationError reports a referrer that holds no signed attestation.
type NotAttestationError struct {
	// MediaType is the referrer's media type, or that of the content it holds.
	MediaType string
	// Err is the cause, such as an error wrapping verify.ErrUnsupportedMediaType; may be nil.
	Err error
}

// Error implements error.
func (e *NotAttestationError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("lineage: %q is not a signed attestation: %v", e.MediaType, e.Err)
	}
	return fmt.Sprintf("lineage: %q is not a signed attestation", e.MediaType)
}

// Unwrap returns ErrNotAttestation and the cause.
func (e *NotAttestationError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrNotAttestation}
	}
	return []error{ErrNotAttestation, e.Err}
}

// GraphvizError reports that dot could not render the graph.
type GraphvizError struct {
	// Path is the dot program run, or "dot" when it was not found on PATH.
	Path string
	// Stderr is what dot wrote to its standard error, up to 64 KiB.
	Stderr string
	// Err is the cause: an error wrapping exec.ErrNotFound or fs.ErrNotExist when dot is not
	// installed, the *exec.ExitError when it failed, or a *provenance.SizeError when its output
	// was over MaxSVGBytes.
	Err error
}

// Error implements error.
func (e *GraphvizError) Error() string {
	switch {
	case errors.Is(e.Err, exec.ErrNotFound) || errors.Is(e.Err, fs.ErrNotExist):
		return fmt.Sprintf("lineage: Graphviz dot not found at %s (install the graphviz package): %v", e.Path, e.Err)
	case e.Stderr != "":
		return fmt.Sprintf("lineage: Graphviz %s: %v: %s", e.Path, e.Err, strings.TrimSpace(e.Stderr))
	}
	return fmt.Sprintf("lineage: Graphviz %s: %v", e.Path, e.Err)
}

// Unwrap returns ErrGraphviz and the cause.
func (e *GraphvizError) Unwrap() []error { return []error{ErrGraphviz, e.Err} }

// NotSVGError reports output of dot that WriteHTML cannot show as an SVG image.
type NotSVGError struct {
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *NotSVGError) Error() string { return "lineage: Graphviz output is not SVG: " + e.Reason }

// Unwrap returns ErrNotSVG.
func (e *NotSVGError) Unwrap() error { return ErrNotSVG }
