package release_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/release"
)

// Record that an image went to production with a Kubernetes manifest and the production
// overrides, on the release managers' approval.
func Example() {
	dir, _ := os.MkdirTemp("", "release-example")
	defer os.RemoveAll(dir)
	deployment := filepath.Join(dir, "deployment.yaml")
	overrides := filepath.Join(dir, "prod.env")
	_ = os.WriteFile(deployment, []byte("kind: Deployment\n"), 0o644)
	_ = os.WriteFile(overrides, []byte("REPLICAS=6\n"), 0o644)

	// The configuration is hashed where it lives; the image is named by its manifest digest.
	manifest, _ := provenance.SubjectFromFile(deployment)
	env, _ := provenance.SubjectFromFile(overrides)
	image, _ := provenance.SubjectFromDescriptor("registry.example/shop/api",
		ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("api 1.4.0")})

	clock := provenance.FixedClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	st, err := (&release.Record{
		Image:         image,
		Environment:   "prod",
		Configuration: []*intoto.ResourceDescriptor{manifest, env},
		Approval: release.Approval{
			By:        "release-managers@example.com",
			On:        time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC),
			Reference: "https://tickets.example/CHG-1234",
		},
		ReleasedOn: clock(),
	}).Statement()
	if err != nil {
		fmt.Println(err)
		return
	}
	// Sign st; later, an audit reads the verified statement back.
	r, err := release.Parse(st)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.GetSubject()[0].GetName(), "to", r.Environment, "on", r.ReleasedOn.Format(time.RFC3339))
	for _, c := range r.Configuration {
		fmt.Println(c.GetName(), c.GetDigest()["sha256"][:12])
	}
	fmt.Println("approved by", r.Approval.By, r.Approval.Reference)

	_, err = (&release.Record{Image: image, Environment: "prod"}).Statement()
	fmt.Println(err)
	// Output:
	// registry.example/shop/api to prod on 2026-05-01T10:00:00Z
	// deployment.yaml 2e15259aa2d9
	// prod.env 7d049f855ddd
	// approved by release-managers@example.com https://tickets.example/CHG-1234
	// release: configuration is required
}

// Tag an image built from a commit on the day SOURCE_DATE_EPOCH gives, and read a
// pre-release's tag back.
func ExampleNewTag() {
	built := time.Date(2026, 12, 6, 15, 4, 5, 0, time.UTC) // from SOURCE_DATE_EPOCH
	tag, err := release.NewTag("1.4.2", built, "abc1234def5678901234567890abcdef01234567")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tag, tag.ReleaseType())
	annotations := tag.Annotations()
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		fmt.Println(k, annotations[k])
	}

	rc, err := release.ParseTag("2.0.0-rc.1-20261206.abc1234")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rc.Version, rc.ReleaseType(), rc.Date.Format(time.DateOnly), rc.Commit)

	_, err = release.ParseTag("v1.4.2-20261206.abc1234")
	fmt.Println(err)
	// Output:
	// 1.4.2-20261206.abc1234 stable
	// org.opencontainers.image.created 2026-12-06T00:00:00Z
	// org.opencontainers.image.revision abc1234
	// org.opencontainers.image.version 1.4.2
	// 2.0.0-rc.1 rc 2026-12-06 abc1234
	// release: invalid tag "v1.4.2-20261206.abc1234": version: "v1.4.2" has a leading "v"
}
