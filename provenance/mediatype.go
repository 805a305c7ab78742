package provenance

// Media types of signed provenance and its contents.
const (
	// MediaTypeBundleV03 is a Sigstore bundle v0.3, the format provkit writes.
	MediaTypeBundleV03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// MediaTypeBundleV02 is a Sigstore bundle v0.2.
	MediaTypeBundleV02 = "application/vnd.dev.sigstore.bundle+json;version=0.2"
	// MediaTypeBundleV01 is a Sigstore bundle v0.1.
	MediaTypeBundleV01 = "application/vnd.dev.sigstore.bundle+json;version=0.1"
	// MediaTypeDSSE is a bare DSSE envelope, as cosign's legacy ".att" layers hold.
	MediaTypeDSSE = "application/vnd.dsse.envelope.v1+json"
	// MediaTypeInToto is an unsigned in-toto statement, as BuildKit stores them, and
	// the DSSE payload type of a signed one.
	MediaTypeInToto = "application/vnd.in-toto+json"
)

// Statement types.
const (
	// StatementTypeV1 is the in-toto Statement v1 type provkit writes.
	StatementTypeV1 = "https://in-toto.io/Statement/v1"
	// StatementTypeV01 is the legacy type cosign still writes; provkit reads it.
	StatementTypeV01 = "https://in-toto.io/Statement/v0.1"
)

// Predicate types provkit knows by name. Any other URI works as well.
const (
	PredicateSLSAProvenanceV1  = "https://slsa.dev/provenance/v1"
	PredicateSLSAProvenanceV02 = "https://slsa.dev/provenance/v0.2"
	PredicateSLSAVSAV1         = "https://slsa.dev/verification_summary/v1"
	PredicateSPDX              = "https://spdx.dev/Document"
	PredicateCycloneDX         = "https://cyclonedx.org/bom"
	PredicateOpenVEX           = "https://openvex.dev/ns"
	PredicateVulnsV02          = "https://in-toto.io/attestation/vulns/v0.2"
	PredicateCosignVuln        = "https://cosign.sigstore.dev/attestation/vuln/v1"
	PredicateTestResult        = "https://in-toto.io/attestation/test-result/v0.1"
	PredicateRelease           = "https://in-toto.io/attestation/release/v0.2"
)

// Annotation keys written on attestation manifests and images.
const (
	// AnnotationBundleContent says what a Sigstore bundle holds ("dsse-envelope"), as cosign writes it.
	AnnotationBundleContent = "dev.sigstore.bundle.content"
	// AnnotationBundlePredicateType carries the predicate type of a bundle's statement, as cosign writes it.
	AnnotationBundlePredicateType = "dev.sigstore.bundle.predicateType"
	// AnnotationCosignPredicateType is the predicate type annotation on cosign's legacy ".att" layers.
	AnnotationCosignPredicateType = "predicateType"
	// AnnotationInTotoPredicateType is the predicate type annotation on BuildKit's attestation layers.
	AnnotationInTotoPredicateType = "in-toto.io/predicate-type"
	// BundleContentDSSE is the AnnotationBundleContent value for a bundle holding a DSSE envelope.
	BundleContentDSSE = "dsse-envelope"
)

// Annotation keys and values provkit sets on resource descriptors inside provenance.
const (
	// AnnotationRole says what part a resolved dependency played in a build.
	AnnotationRole = "dev.provkit.role"
	// RoleSource marks the source repository a build ran from.
	RoleSource = "source"
	// RoleBaseImage marks an image a built image is based on.
	RoleBaseImage = "base-image"
	// RoleToolchain marks a compiler or build tool.
	RoleToolchain = "toolchain"
	// RoleModule marks a language module dependency.
	RoleModule = "module"
	// RoleMaterial marks any other input file, image or dataset.
	RoleMaterial = "material"
	// AnnotationUnpinned is "true" on a dependency named by a mutable reference (a tag) with no digest.
	AnnotationUnpinned = "dev.provkit.unpinned"
)
