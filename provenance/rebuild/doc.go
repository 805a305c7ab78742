// Package rebuild checks that an artifact can be rebuilt from the inputs its provenance names,
// and records the outcome as a statement about the artifact that can be signed and attached to
// it, whether the rebuild matched or not, saying exactly what was compared and what differed.
//
// Check takes the (verified) provenance of the original artifact and the rebuilt artifact,
// hashed by the caller: a file (provenance.SubjectFromFile), a directory
// (provenance.SubjectsFromDir: one subject per file) or an image
// (provenance.SubjectFromDescriptor). It compares the original statement's subjects with the
// rebuilt ones and, when given: the inputs the rebuild fetched by digest and used with the
// original's resolved dependencies (Input.Inputs, as verify/rerun gives them); the resolved
// dependencies, build type and external parameters of the rebuild's own provenance with the
// original's; and the original and rebuilt images layer by layer and configuration field by
// field (package diff). Result.Summary says in words what was compared: "rebuilt from the same
// inputs" only when the inputs were compared and matched, and otherwise "outputs compared: 2
// files by sha256; inputs not compared". A mismatch is not an error: Result.Err returns a *MismatchError that a
// gate can act on, and Result.Statement records it either way.
//
//	res, err := rebuild.Check(rebuild.Input{Original: verified, Rebuilt: files, CheckedOn: clock()})
//	if err != nil { … } // the input could not be checked
//	st, err := res.Statement() // sign it and attach it, whatever the outcome
//	if err := res.Err(); err != nil { … } // the rebuild did not match
//
// # Predicate
//
// The predicate type is PredicateType, "https://provkit.dev/rebuild/v1". The statement's
// subjects are the original artifacts, the original statement's subjects, whatever the
// outcome: a rebuild check is a statement about the artifact it checked, so it verifies
// against that artifact's digest where it is attached, and the rebuilt digests are in the
// predicate. (Statements written before this rule named the rebuilt artifacts as subjects;
// Parse still reads them.) The predicate's fields, all required unless said
// otherwise, are:
//
//   - outcome (string): "match" when differences is empty, else "mismatch".
//   - original (object): the provenance the rebuild was checked against:
//   - original.digest (object): {"sha256": HEX}, the digest of the original statement in
//     canonical form (provenance.Marshal), so the check names exactly one statement;
//   - original.predicateType (string): its predicate type, such as
//     "https://slsa.dev/provenance/v1";
//   - original.subjects (array of resource descriptors): its subjects, each with name and/or
//     uri and digest (other descriptor fields are not recorded).
//   - rebuilt (object): the rebuild:
//   - rebuilt.subjects (array of resource descriptors): the rebuilt artifacts;
//   - rebuilt.inputs (array of resource descriptors, present exactly when inputs were
//     compared): the inputs the rebuild fetched by digest and used;
//   - rebuilt.builderId (string, present exactly when materials were compared): the
//     builder.id of the rebuild's own provenance. It is recorded, not compared.
//   - compared (array of strings): what was compared, in this order: "subjects" (always),
//     "inputs" (the original's resolved dependencies with rebuilt.inputs, matched by name, else
//     URI), "materials" (the resolved dependencies, or v0.2 materials, of the original and of the
//     rebuild's provenance, matched by URI), "parameters" (their build types and external
//     parameters; always with "materials"), "image" (the two images' manifests and
//     configurations).
//   - differences (array, empty on a match): each difference as a diff.Change, an object
//     with field, kind ("added", "removed" or "changed"), and baseline (the original's value)
//     and current (the rebuild's) when present. Fields are "subjects[NAME]" (one per file that
//     differs, is missing or is extra), "inputs[NAME]", "materials[URI]", "buildType",
//     "externalParameters.PATH" (dotted, as diff.Provenance names them), and "image.FIELD" with the fields of
//     diff.Images ("image.layers[2]", "image.config.env.PATH"…). Sorted by field.
//   - checkedOn (string): when the check ran, RFC 3339 in UTC, from the caller's clock.
//
// # Matching
//
// Every subject of the original must be matched, by name (else URI), by a rebuilt one with
// equal digests on every algorithm both have; a rebuilt artifact the original does not name is
// a difference too. When both sides have exactly one subject they are compared whatever their
// names. Hash the rebuild with the algorithms of the original: two subjects with no algorithm
// in common are a difference.
//
// # Errors
//
// Check fails only for input it cannot check, with an *InputError wrapping ErrInvalidInput;
// Result.Err returns a *MismatchError wrapping ErrMismatch; Parse, which reads a rebuild
// statement back strictly, fails with a *PredicateError wrapping ErrInvalidPredicate.
//
// The package does no I/O and imports only provenance, diff and the model's own dependencies.
// Its functions are safe for concurrent use and never modify their arguments.
package rebuild
