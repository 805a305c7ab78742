package provenance_test

import (
	"fmt"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/provenance"
)

// A statement about a release tarball, hashed while streaming, with SLSA provenance.
func ExampleBuild_Statement() {
	tarball, err := provenance.SubjectFromReader("app-1.0.tar.gz", strings.NewReader("release bytes"))
	if err != nil {
		panic(err)
	}
	clock, err := provenance.ClockFromEnv(map[string]string{"SOURCE_DATE_EPOCH": "1767225600"})
	if err != nil {
		panic(err)
	}
	build := &provenance.Build{
		BuildType:          "https://provkit.dev/build/v1",
		ExternalParameters: map[string]any{"source": "git+https://example.com/app@refs/tags/v1.0"},
		BuilderID:          "https://example.com/ci",
		StartedOn:          clock(),
		FinishedOn:         clock().Add(90 * time.Second),
	}
	st, err := build.Statement([]*intoto.ResourceDescriptor{tarball})
	if err != nil {
		panic(err)
	}
	out, err := provenance.Marshal(st)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	// Output:
	// {"_type":"https://in-toto.io/Statement/v1","predicate":{"buildDefinition":{"buildType":"https://provkit.dev/build/v1","externalParameters":{"source":"git+https://example.com/app@refs/tags/v1.0"}},"runDetails":{"builder":{"id":"https://example.com/ci"},"metadata":{"finishedOn":"2026-01-01T00:01:30Z","startedOn":"2026-01-01T00:00:00Z"}}},"predicateType":"https://slsa.dev/provenance/v1","subject":[{"digest":{"sha256":"ff7a5e6429d2c8511521e4abf41cd54a3e525ef4a1f24f8d1c67ede9d17874dd"},"name":"app-1.0.tar.gz"}]}
}

// Any predicate, such as an SBOM, is attested the same way.
func ExampleNewStatement() {
	image := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("manifest")}
	subject, err := provenance.SubjectFromDescriptor("registry.example/team/app", image)
	if err != nil {
		panic(err)
	}
	sbom := map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.6"}
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{subject}, provenance.PredicateCycloneDX, sbom)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.GetPredicateType(), st.GetSubject()[0].GetName())
	// Output: https://cyclonedx.org/bom registry.example/team/app
}

// Build facts become the standard OCI image annotations.
func ExampleImageAnnotations() {
	build := &provenance.Build{
		BuildType:          "https://provkit.dev/build/v1",
		ExternalParameters: map[string]any{"ref": "refs/tags/v2.1.0"},
		BuilderID:          "https://example.com/ci",
		ResolvedDependencies: []*intoto.ResourceDescriptor{{
			Uri:    provenance.GitURI("https://example.com/app", "refs/tags/v2.1.0"),
			Digest: map[string]string{"gitCommit": "4b825dc642cb6eb9a060e54bf8d69288fbee4904"},
		}},
	}
	p, err := build.Predicate()
	if err != nil {
		panic(err)
	}
	a := provenance.ImageAnnotations(p)
	fmt.Println(a[ocispec.AnnotationSource])
	fmt.Println(a[ocispec.AnnotationRevision])
	fmt.Println(a[ocispec.AnnotationVersion])
	// Output:
	// https://example.com/app
	// 4b825dc642cb6eb9a060e54bf8d69288fbee4904
	// v2.1.0
}
