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
// # Errors
//
// Record.Statement fails with a *MissingFieldError (ErrMissingField) or a *FieldError
// (ErrInvalidField) naming the field by its path in the predicate ("image" for the subject,
// "approval.by", "configuration[1].digest"). Parse reads a release statement back strictly and
// fails with a *PredicateError wrapping ErrInvalidPredicate, and the field's error when the
// record read is incomplete or invalid.
//
// The package does no I/O and imports only provenance and the model's own dependencies.
package release
