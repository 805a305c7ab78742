package verify

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"google.golang.org/protobuf/encoding/protojson"
)

// FileKind says what a bundle file holds.
type FileKind string

// The kinds of file ParseBundleFile recognises by their content.
const (
	// FileSigstoreBundle is a Sigstore bundle v0.1, v0.2 or v0.3 (".sigstore.json", and each
	// line of the JSON Lines files GitHub and slsa-github-generator write).
	FileSigstoreBundle FileKind = "sigstore-bundle"
	// FileDSSEEnvelope is a bare DSSE envelope (a line of an ".intoto.jsonl" file).
	FileDSSEEnvelope FileKind = "dsse-envelope"
	// FileCosignBundle is the JSON that cosign's attest-blob --bundle writes without the new
	// bundle format: base64Signature (the DSSE envelope), cert and rekorBundle.
	FileCosignBundle FileKind = "cosign-bundle"
)

// maxFileDocuments caps the documents read from one JSON Lines file.
const maxFileDocuments = 1000

// BundleFile is one signed document read from a file by ParseBundleFile.
type BundleFile struct {
	// Kind is what the content holds.
	Kind FileKind
	// Bundle holds the document's exact bytes (for a cosign bundle, the DSSE envelope it
	// carries) with the media type its content has: provenance.MediaTypeBundleV01, V02 or
	// V03 for a Sigstore bundle, provenance.MediaTypeDSSE otherwise. PredicateType is empty.
	Bundle provenance.Bundle
	// Annotations are, for a cosign bundle, its certificate and Rekor bundle under cosign's
	// layer annotation keys (AnnotationCosignCertificate, AnnotationCosignBundle), as
	// VerifyCosignLayer reads them; nil for the other kinds.
	Annotations map[string]string
}

// ParseBundleFile reads the signed documents of a file and tells each one's kind from its
// content, never from the file's name: a Sigstore bundle, a DSSE envelope or a cosign bundle,
// either as one JSON document or as JSON Lines (one document a line, blank lines skipped, at
// most 1000). Each document is at most provenance.MaxBundleBytes.
//
// A Sigstore bundle is decoded by sigstore-go, with its checks, and must also be what its
// mediaType says: a version this package knows (v0.1, v0.2, v0.3) and content of that version
// (a single certificate only from v0.3, a certificate chain only up to v0.2, log entries with
// an inclusion proof from v0.2 and with an inclusion promise in v0.1). Anything else is
// refused with a *BundleFormatError wrapping ErrUnknownBundleVersion, ErrMediaTypeMismatch or
// ErrUnknownFormat. Every error wraps ErrVerification: the file is bad evidence.
//
// Nothing is verified: pass each BundleFile to Verifier.VerifyFile.
func ParseBundleFile(data []byte) ([]BundleFile, error) {
	trimmed := bytes.TrimSpace(data)
	var docs [][]byte
	if len(trimmed) > 0 && json.Valid(trimmed) {
		docs = [][]byte{trimmed}
	} else {
		for line := range bytes.Lines(data) {
			if line = bytes.TrimSpace(line); len(line) > 0 {
				docs = append(docs, line)
			}
			if len(docs) > maxFileDocuments {
				return nil, fail(CheckSize, &provenance.SizeError{What: "bundle file documents", Limit: maxFileDocuments, Size: int64(len(docs))})
			}
		}
	}
	if len(docs) == 0 {
		return nil, fail(CheckFormat, &BundleFormatError{Reason: "the file is empty", Err: ErrUnknownFormat})
	}
	files := make([]BundleFile, 0, len(docs))
	for i, doc := range docs {
		f, err := parseDocument(doc)
		if err != nil {
			if len(docs) > 1 {
				if fe, ok := errors.AsType[*BundleFormatError](err); ok {
					fe.Line = i + 1
				} else {
					err = fmt.Errorf("line %d: %w", i+1, err)
				}
			}
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// VerifyFile verifies one document of ParseBundleFile: a cosign bundle as VerifyCosignLayer
// does, with its certificate and Rekor bundle, and the other kinds as Verify does.
func (v *Verifier) VerifyFile(ctx context.Context, f BundleFile, subject digest.Digest, id Identity) (*Result, error) {
	if f.Kind == FileCosignBundle {
		ann := f.Annotations
		if ann == nil {
			ann = map[string]string{}
		}
		return v.VerifyCosignLayer(ctx, f.Bundle, ann, subject, id)
	}
	return v.Verify(ctx, f.Bundle, subject, id)
}

// documentKeys are the top-level members that tell the kinds apart, in both spellings
// protojson reads.
type documentKeys struct {
	MediaType    *json.RawMessage `json:"mediaType"`
	MediaType2   *json.RawMessage `json:"media_type"`
	Material     *json.RawMessage `json:"verificationMaterial"`
	Material2    *json.RawMessage `json:"verification_material"`
	PayloadType  *json.RawMessage `json:"payloadType"`
	PayloadType2 *json.RawMessage `json:"payload_type"`
	Signatures   *json.RawMessage `json:"signatures"`
	Base64Sig    *json.RawMessage `json:"base64Signature"`
}

// documentKind tells a document's kind from which top-level members it has.
func documentKind(doc []byte) (FileKind, error) {
	var k documentKeys
	if err := json.Unmarshal(doc, &k); err != nil {
		return "", &BundleFormatError{Reason: "not a JSON object: " + cause(err), Err: ErrUnknownFormat}
	}
	mediaType := k.MediaType
	if mediaType == nil {
		mediaType = k.MediaType2
	}
	var mt string
	if mediaType != nil {
		_ = json.Unmarshal(*mediaType, &mt) // a non-string is protojson's to refuse
	}
	switch {
	case k.Base64Sig != nil:
		return FileCosignBundle, nil
	case k.Material != nil || k.Material2 != nil || mediaType != nil && (mt == "" || isBundleMediaType(mt)):
		return FileSigstoreBundle, nil
	case mediaType != nil:
		// Another Sigstore document, such as a trusted root.
		return "", &BundleFormatError{Declared: mt, Reason: "not a Sigstore bundle", Err: ErrUnknownFormat}
	case k.PayloadType != nil || k.PayloadType2 != nil || k.Signatures != nil:
		return FileDSSEEnvelope, nil
	}
	return "", &BundleFormatError{Reason: "neither a Sigstore bundle, a DSSE envelope nor a cosign bundle", Err: ErrUnknownFormat}
}

func parseDocument(doc []byte) (BundleFile, error) {
	if len(doc) > provenance.MaxBundleBytes {
		return BundleFile{}, fail(CheckSize, &provenance.SizeError{What: "bundle", Limit: provenance.MaxBundleBytes, Size: int64(len(doc))})
	}
	kind, err := documentKind(doc)
	if err != nil {
		return BundleFile{}, fail(CheckFormat, err)
	}
	switch kind {
	case FileSigstoreBundle:
		_, version, err := decodeSigstoreBundle(doc)
		if err != nil {
			return BundleFile{}, err
		}
		return BundleFile{Kind: kind, Bundle: provenance.Bundle{MediaType: bundleMediaTypes[version], Data: doc}}, nil
	case FileDSSEEnvelope:
		if err := protojson.Unmarshal(doc, &protodsse.Envelope{}); err != nil {
			return BundleFile{}, failf(CheckFormat, "DSSE envelope: %w", err)
		}
		return BundleFile{Kind: kind, Bundle: provenance.Bundle{MediaType: provenance.MediaTypeDSSE, Data: doc}}, nil
	}
	return cosignBundleFile(doc)
}

// cosignBundle is the JSON of cosign's LocalSignedPayload, as sign-blob and attest-blob write
// it with --bundle.
type cosignBundle struct {
	Base64Signature string          `json:"base64Signature"`
	Cert            string          `json:"cert"`
	RekorBundle     json.RawMessage `json:"rekorBundle"`
}

func cosignBundleFile(doc []byte) (BundleFile, error) {
	var cb cosignBundle
	if err := json.Unmarshal(doc, &cb); err != nil {
		return BundleFile{}, failf(CheckFormat, "cosign bundle: %w", err)
	}
	env, err := base64.StdEncoding.DecodeString(cb.Base64Signature)
	if err != nil {
		return BundleFile{}, failf(CheckFormat, "cosign bundle: base64Signature: %w", err)
	}
	if kind, err := documentKind(env); err != nil || kind != FileDSSEEnvelope {
		return BundleFile{}, fail(CheckFormat, &BundleFormatError{Declared: string(FileCosignBundle), Reason: "its signature is not a DSSE envelope (a blob signature, not an attestation)", Err: ErrUnknownFormat})
	}
	ann := map[string]string{}
	if cb.Cert != "" {
		// cosign writes the PEM certificate base64-encoded; accept it bare as well.
		cert := []byte(cb.Cert)
		if !bytes.HasPrefix(bytes.TrimSpace(cert), []byte("-----BEGIN")) {
			if cert, err = base64.StdEncoding.DecodeString(cb.Cert); err != nil {
				return BundleFile{}, failf(CheckCertificate, "cosign bundle: cert: %w", err)
			}
		}
		ann[AnnotationCosignCertificate] = string(cert)
	}
	if len(cb.RekorBundle) > 0 && !bytes.Equal(cb.RekorBundle, []byte("null")) {
		ann[AnnotationCosignBundle] = string(cb.RekorBundle)
	}
	if err := protojson.Unmarshal(env, &protodsse.Envelope{}); err != nil {
		return BundleFile{}, failf(CheckFormat, "cosign bundle: DSSE envelope: %w", err)
	}
	b := provenance.Bundle{MediaType: provenance.MediaTypeDSSE, Data: env}
	return BundleFile{Kind: FileCosignBundle, Bundle: b, Annotations: ann}, nil
}

// bundleMediaTypes maps each Sigstore bundle version this package reads to the media type
// provkit labels it with.
var bundleMediaTypes = map[string]string{
	"v0.1": provenance.MediaTypeBundleV01,
	"v0.2": provenance.MediaTypeBundleV02,
	"v0.3": provenance.MediaTypeBundleV03,
}

// bundleVersion returns the version a Sigstore bundle media type names: v0.1 to v0.3 in the
// spellings the specification has used. Any other, including well-formed later or patch
// versions, is unknown.
func bundleVersion(mediaType string) (string, bool) {
	switch mediaType {
	case provenance.MediaTypeBundleV01:
		return "v0.1", true
	case provenance.MediaTypeBundleV02:
		return "v0.2", true
	case provenance.MediaTypeBundleV03, "application/vnd.dev.sigstore.bundle+json;version=0.3":
		return "v0.3", true
	}
	return "", false
}

// isBundleMediaType reports whether a media type claims to be a Sigstore bundle of any version.
func isBundleMediaType(mediaType string) bool {
	return strings.HasPrefix(mediaType, "application/vnd.dev.sigstore.bundle")
}

// decodeSigstoreBundle decodes a Sigstore bundle as sigstore-go's Bundle.UnmarshalJSON does
// (protojson, then sigstore-go's validation), after checking that its mediaType names a known
// version and that the content is of that version. It returns the version.
func decodeSigstoreBundle(data []byte) (*sgbundle.Bundle, string, error) {
	pb := &protobundle.Bundle{}
	if err := protojson.Unmarshal(data, pb); err != nil {
		return nil, "", failf(CheckFormat, "sigstore bundle: %w", err)
	}
	version, ok := bundleVersion(pb.GetMediaType())
	if !ok {
		return nil, "", fail(CheckFormat, &BundleFormatError{Declared: pb.GetMediaType(), Reason: "it names no bundle version this package reads (v0.1, v0.2, v0.3)", Err: ErrUnknownBundleVersion})
	}
	if reason := versionConflict(pb, version); reason != "" {
		return nil, "", fail(CheckFormat, &BundleFormatError{Declared: pb.GetMediaType(), Reason: reason, Err: ErrMediaTypeMismatch})
	}
	sb, err := sgbundle.NewBundle(pb)
	if err != nil {
		return nil, "", failf(CheckFormat, "sigstore bundle: %w", err)
	}
	return sb, version, nil
}

// versionConflict returns why pb's content cannot be a bundle of version, or "".
func versionConflict(pb *protobundle.Bundle, version string) string {
	vm := pb.GetVerificationMaterial()
	switch {
	case vm.GetCertificate() != nil && version != "v0.3":
		return "it holds a single certificate, which bundles carry from v0.3 on"
	case vm.GetX509CertificateChain() != nil && version == "v0.3":
		return "it holds a certificate chain, which bundles carry up to v0.2"
	}
	for _, e := range vm.GetTlogEntries() {
		switch {
		case version == "v0.1" && e.GetInclusionPromise() == nil:
			return "a log entry has no inclusion promise, which v0.1 requires"
		case version != "v0.1" && e.GetInclusionProof() == nil:
			return "a log entry has no inclusion proof, which bundles have from v0.2 on (a v0.1 bundle)"
		}
	}
	return ""
}

// checkDeclared checks that the media type a caller gave a bundle agrees with the kind and
// version of its content.
func checkDeclared(declared string, kind FileKind, version string) error {
	switch {
	case kind == FileSigstoreBundle && isBundleMediaType(declared):
		v, ok := bundleVersion(declared)
		if !ok {
			return fail(CheckFormat, &BundleFormatError{Declared: declared, Reason: "it names no bundle version this package reads (v0.1, v0.2, v0.3)", Err: ErrUnknownBundleVersion})
		}
		if v != version {
			return fail(CheckFormat, &BundleFormatError{Declared: declared, Reason: "the content is a " + version + " bundle", Err: ErrMediaTypeMismatch})
		}
		return nil
	case kind == FileDSSEEnvelope && declared == provenance.MediaTypeDSSE:
		return nil
	}
	what := "a " + strings.ReplaceAll(string(kind), "-", " ")
	return fail(CheckFormat, &BundleFormatError{Declared: declared, Reason: "the content is " + what, Err: ErrMediaTypeMismatch})
}
