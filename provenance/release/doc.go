// Package release records a release: which image, by digest, was deployed to which
// environment with which deployment configuration (Kubernetes manifests, a Helm chart,
// environment overrides, each by digest), and who approved it. Signed and kept with the image,
// release records let an audit show which image ran with which configuration, and on whose
// approval.
//
//	chart, _ := provenance.SubjectFromFile("deploy/api-1.4.0.tgz")
//	st, err := (&release.Record{
//		Image:         image, // provenance.SubjectFromDescriptor("registry.example/shop/api", desc)
//		Environment:   "prod",
//		Configuration: []*intoto.ResourceDescriptor{chart},
//		Approval:      release.Approval{By: "release-managers@example.com", On: approvedOn},
//		ReleasedOn:    clock(),
//	}).Statement()
//
// # Predicate
//
// The predicate type is PredicateType, "https://provkit.dev/release/v1". The statement has
// exactly one subject, the released image: its name (the repository or reference) and its
// manifest digest. The predicate's fields, all required unless said otherwise, are:
//
//   - environment (string): where the image was released, such as "prod".
//   - configuration (array of in-toto resource descriptors, at least one): the deployment
//     configuration it was released with, each with a name, unique in the list, such as the
//     file's path ("k8s/deployment.yaml", "charts/api-1.4.0.tgz", "values/prod.yaml"), and a
//     digest; uri, mediaType and annotations are optional and kept as given.
//   - approval (object): who allowed the release:
//   - approval.by (string): who approved: an e-mail address, a team, an automated gate;
//   - approval.on (string): when, RFC 3339 in UTC;
//   - approval.reference (string, optional): an absolute URI of the approval's record, such as
//     a change ticket or a pull request;
//   - approval.decision (resource descriptor, optional): the policy decision or verification
//     summary (VSA) that allowed the release, with a name or uri and a digest.
//   - releasedOn (string): when the image was released, RFC 3339 in UTC, from the caller's clock.
//
// # Release tags
//
// A release tag names an image by what it was built as: VERSION-YYYYMMDD.COMMIT, such as
// "1.4.2-20261206.abc1234" or "2.0.0-rc.1-20261206.abc1234". NewTag makes one from a version,
// the build time and a commit, TagFromEnvironment takes the build time from SOURCE_DATE_EPOCH,
// and ParseTag reads one back; Tag.Annotations gives the OCI annotations that say the same on
// the image manifest.
//
//   - VERSION is a semantic version 2.0.0 (https://semver.org) without a leading "v" and
//     without build metadata, since "+" is not allowed in an OCI tag: MAJOR.MINOR.PATCH, each
//     a decimal integer without leading zeros, with an optional pre-release: a "-" and
//     dot-separated, non-empty identifiers of [0-9A-Za-z-], the numeric ones without leading
//     zeros. "1.4", "v1.4.2", "1.4.2+meta" and "1.4.2-01" are not versions of a tag.
//   - YYYYMMDD is the build day in UTC, a calendar day from 19700101 to 99991231. NewTag and
//     TagFromEnvironment keep only the day of the build time (SOURCE_DATE_EPOCH's, so that a
//     rebuild gets the same tag).
//   - COMMIT is the short commit the image was built from: 7 to 12 lowercase hexadecimal
//     characters. NewTag keeps a short commit as given and shortens a full one, 40 (SHA-1) or
//     64 (SHA-256) characters, to its first 7.
//
// The whole tag is a valid OCI tag, [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}, so at most 128 bytes.
// ParseTag splits it at its last "-", since YYYYMMDD.COMMIT never holds one, and accepts
// exactly the tags that NewTag makes: ParseTag(t.String()) returns t, and the String of a
// tag ParseTag returns is the text it read.
//
// The release type is derived from the version: "stable" without a pre-release, otherwise the
// pre-release's first identifier ("rc" for 2.0.0-rc.1; "beta", "alpha", "nightly", ...).
//
// The annotations are org.opencontainers.image.version (VERSION),
// org.opencontainers.image.revision (COMMIT) and org.opencontainers.image.created (the build
// day's midnight, RFC 3339 in UTC, such as "2026-12-06T00:00:00Z").
//
// # Errors
//
// Record.Statement fails with a *MissingFieldError (ErrMissingField) or a *FieldError
// (ErrInvalidField) naming the field by its path in the predicate ("image" for the subject,
// "approval.by", "configuration[1].digest"). Parse reads a release statement back strictly and
// fails with a *PredicateError wrapping ErrInvalidPredicate, and the field's error when the
// record read is incomplete or invalid.
//
// NewTag fails with a *FieldError naming "version", "date" or "commit", and
// TagFromEnvironment also with a *MissingFieldError or *FieldError naming
// "SOURCE_DATE_EPOCH" when it is missing or not a non-negative integer of seconds. ParseTag
// fails with a *TagError wrapping ErrInvalidTag.
//
// The package does no I/O and imports only provenance, the model's own dependencies and
// golang.org/x/mod/semver.
package release
