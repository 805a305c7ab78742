// Package diff compares what two artifacts are made of: two images (layers, configuration,
// annotations), two sets of subjects (files), two provenance statements (builder, source,
// materials, parameters), and what one tag resolves to across environments. Every comparison
// returns the differences as Changes, field by field, in a stable order, and a Report renders
// them for a machine (JSON) or a person (text).
//
// # Comparisons
//
//   - Images compares two diff.Image values (a manifest or index and the documents behind it,
//     as the oras package reads them): digest, media type, layers by position, the image
//     configuration field by field (user, entrypoint, each environment variable, each label…),
//     annotations, and the children of an index by platform.
//   - Subjects compares two lists of in-toto resource descriptors, matched by name, on the
//     digest algorithms both sides have.
//   - Provenance compares two statements: for SLSA Provenance v1 and v0.2 the builder, build
//     type, source repository, ref and commit, external parameters and materials; for any
//     other predicate, the predicate as a whole.
//   - Environments compares what one tag resolved to in several environments or registries
//     with a baseline environment.
//
// Each Change names a Field ("config.user", "layers[3]", "config.env.DEBUG",
// "subjects[bin/app]", "materials[git+https://…]", "environments.prod"), a Kind (Added,
// Removed, Changed) and the values on each side as strings. Changes are sorted by Field, with
// numbers compared as numbers (see Sort); identical inputs give nil, and a Change never has
// equal values.
//
// # Reports
//
// A Report names the baseline and the current artifact and carries the changes. Its JSON form
// (encoding/json) is identified by ReportSchema; WriteText writes one line per change, such as
// "~ config.user: root -> app", "+ config.env.DEBUG: 1" or "- layers[3]: sha256:…", quoting any
// field or value that holds control characters, since they come from documents an attacker may
// have written.
//
// # Errors
//
// Images and Environments never fail. Subjects fails with a *DescriptorError for a nil or
// anonymous descriptor or a name listed twice; Provenance fails for a nil statement
// (ErrInvalidStatement) and with a *PredicateError for a statement that claims a SLSA
// Provenance type and does not decode as one. All wrap the sentinels in errors.go.
//
// The package does no I/O except to the writer given to WriteText, and imports only
// provenance and the model's own dependencies. Its functions are safe for concurrent use and
// never modify their arguments.
package diff
