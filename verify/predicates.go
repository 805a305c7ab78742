package verify

import "slices"

// AcceptsPredicateType reports whether a statement of predicate type t can pass v: true for
// every type unless v was made WithPredicateTypes, and then only for those. Callers that learn
// an attestation's type before fetching it (from a registry annotation, which is unsigned) use
// it to skip what would fail anyway; the signed statement's own type is what Verify checks.
func (v *Verifier) AcceptsPredicateType(t string) bool {
	return len(v.cfg.predicateTypes) == 0 || slices.Contains(v.cfg.predicateTypes, t)
}
