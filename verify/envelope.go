package verify

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"google.golang.org/protobuf/encoding/protojson"
)

// Annotation keys cosign writes on its legacy ".att" attestation layers.
const (
	// AnnotationCosignCertificate holds the PEM signing certificate of a keyless signature.
	AnnotationCosignCertificate = "dev.sigstore.cosign/certificate"
	// AnnotationCosignChain holds the PEM chain from the certificate's issuer up to the root.
	AnnotationCosignChain = "dev.sigstore.cosign/chain"
	// AnnotationCosignBundle holds the Rekor bundle: the log entry and its signed entry timestamp.
	AnnotationCosignBundle = "dev.sigstore.cosign/bundle"
	// AnnotationCosignRFC3161 holds an RFC 3161 timestamp over the signature.
	AnnotationCosignRFC3161 = "dev.sigstore.cosign/rfc3161timestamp"
)

// maxAnnotationBytes caps each cosign annotation value read.
const maxAnnotationBytes = 1 << 20

// VerifyCosignLayer verifies one of cosign's legacy attestation layers: a DSSE envelope
// (layer.MediaType is provenance.MediaTypeDSSE) stored under a "sha256-<hex>.att" tag, with the
// layer descriptor's annotations. The caller passes the annotations exactly as read from the
// manifest (nil when there are none): the certificate and chain of a keyless signature, the
// Rekor bundle (an inclusion promise, checked against the trust material's logs) and an RFC
// 3161 timestamp. Everything else is as for Verify; a key-signed layer without a Rekor bundle
// or timestamp needs WithUntimestampedKeysUnsafe.
func (v *Verifier) VerifyCosignLayer(ctx context.Context, layer provenance.Bundle, annotations map[string]string, subject digest.Digest, id Identity) (*Result, error) {
	if err := v.precheck(ctx, subject, id); err != nil {
		return nil, err
	}
	if layer.MediaType != provenance.MediaTypeDSSE {
		return nil, fmt.Errorf("%w: cosign layer of type %q, want %q", ErrUnsupportedMediaType, layer.MediaType, provenance.MediaTypeDSSE)
	}
	if len(layer.Data) > provenance.MaxBundleBytes {
		return nil, fail(CheckSize, &provenance.SizeError{What: "cosign layer", Limit: provenance.MaxBundleBytes, Size: int64(len(layer.Data))})
	}
	entity, err := envelopeEntity(layer.Data, annotations)
	if err != nil {
		return nil, v.logged(err, layer.MediaType, subject)
	}
	r, err := v.verifyEntity(entity, provenance.MediaTypeDSSE, subject, id)
	return r, v.logged(err, layer.MediaType, subject)
}

// envelopeEntity wraps a bare DSSE envelope, and cosign's annotations when given, into a
// sigstore-go bundle so that sigstore-go verifies it: v0.3 for a bare envelope, v0.1 (which
// allows a certificate chain and inclusion promises) for a cosign layer.
func envelopeEntity(data []byte, annotations map[string]string) (*sgbundle.Bundle, error) {
	env := &protodsse.Envelope{}
	if err := protojson.Unmarshal(data, env); err != nil {
		return nil, failf(CheckFormat, "DSSE envelope: %w", err)
	}
	if n := len(env.GetSignatures()); n != 1 {
		return nil, failf(CheckSignature, "envelope has %d signatures; exactly one is accepted", n)
	}
	pb := &protobundle.Bundle{
		MediaType: provenance.MediaTypeBundleV03,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{
				PublicKey: &protocommon.PublicKeyIdentifier{Hint: env.GetSignatures()[0].GetKeyid()},
			},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: env},
	}
	if annotations != nil {
		pb.MediaType = provenance.MediaTypeBundleV01
		if err := applyCosignAnnotations(pb, annotations); err != nil {
			return nil, err
		}
	}
	b, err := sgbundle.NewBundle(pb)
	if err != nil {
		return nil, failf(CheckFormat, "DSSE envelope: %w", err)
	}
	return b, nil
}

// cosignRekorBundle is the JSON of the dev.sigstore.cosign/bundle annotation.
type cosignRekorBundle struct {
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              struct {
		Body           string `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"`
	} `json:"Payload"`
}

// cosignTimestamp is the JSON of the dev.sigstore.cosign/rfc3161timestamp annotation.
type cosignTimestamp struct {
	SignedRFC3161Timestamp []byte `json:"SignedRFC3161Timestamp"`
}

func applyCosignAnnotations(pb *protobundle.Bundle, ann map[string]string) error {
	for _, k := range []string{AnnotationCosignCertificate, AnnotationCosignChain, AnnotationCosignBundle, AnnotationCosignRFC3161} {
		if len(ann[k]) > maxAnnotationBytes {
			return fail(CheckSize, &provenance.SizeError{What: "annotation " + k, Limit: maxAnnotationBytes, Size: int64(len(ann[k]))})
		}
	}
	if pemCert := ann[AnnotationCosignCertificate]; pemCert != "" {
		certs, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(pemCert))
		if err != nil || len(certs) != 1 {
			return failf(CheckCertificate, "annotation %s: not one PEM certificate (%v)", AnnotationCosignCertificate, err)
		}
		chain := &protocommon.X509CertificateChain{Certificates: []*protocommon.X509Certificate{{RawBytes: certs[0].Raw}}}
		if pemChain := ann[AnnotationCosignChain]; pemChain != "" {
			rest, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(pemChain))
			if err != nil {
				return failf(CheckCertificate, "annotation %s: %w", AnnotationCosignChain, err)
			}
			for _, c := range rest {
				chain.Certificates = append(chain.Certificates, &protocommon.X509Certificate{RawBytes: c.Raw})
			}
		}
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: chain}
	}
	if rb := ann[AnnotationCosignBundle]; rb != "" {
		var cb cosignRekorBundle
		if err := json.Unmarshal([]byte(rb), &cb); err != nil {
			return failf(CheckTransparencyLog, "annotation %s: %w", AnnotationCosignBundle, err)
		}
		body, err := base64.StdEncoding.DecodeString(cb.Payload.Body)
		if err != nil {
			return failf(CheckTransparencyLog, "annotation %s: body: %w", AnnotationCosignBundle, err)
		}
		logID, err := hex.DecodeString(cb.Payload.LogID)
		if err != nil {
			return failf(CheckTransparencyLog, "annotation %s: logID: %w", AnnotationCosignBundle, err)
		}
		var kv struct {
			Kind       string `json:"kind"`
			APIVersion string `json:"apiVersion"`
		}
		if err := json.Unmarshal(body, &kv); err != nil {
			return failf(CheckTransparencyLog, "annotation %s: entry body: %w", AnnotationCosignBundle, err)
		}
		pb.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{{
			LogIndex:          cb.Payload.LogIndex,
			LogId:             &protocommon.LogId{KeyId: logID},
			KindVersion:       &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion},
			IntegratedTime:    cb.Payload.IntegratedTime,
			InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: cb.SignedEntryTimestamp},
			CanonicalizedBody: body,
		}}
	}
	if ts := ann[AnnotationCosignRFC3161]; ts != "" {
		var ct cosignTimestamp
		if err := json.Unmarshal([]byte(ts), &ct); err != nil {
			return failf(CheckTimestamp, "annotation %s: %w", AnnotationCosignRFC3161, err)
		}
		pb.VerificationMaterial.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: ct.SignedRFC3161Timestamp}},
		}
	}
	return nil
}
