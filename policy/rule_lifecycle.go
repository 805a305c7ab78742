package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/provkit/provkit/provenance/lifecycle"
	"github.com/provkit/provkit/verify"
)

// lifecycleRule fails when the artifact's lifecycle status in effect, among the verified
// statuses, is one of states.
type lifecycleRule struct {
	states []lifecycle.State
}

func (r *lifecycleRule) eval(ec *evalContext) check {
	var statuses []lifecycle.Signed
	attestation := map[*lifecycle.Status]int{}
	for _, v := range ec.ofType(lifecycle.PredicateType) {
		s, err := lifecycle.Parse(v.statement)
		if err != nil {
			return broken(fmt.Errorf("attestation %d: %w", v.index, err), Evidence{Attestation: v.index, PredicateType: lifecycle.PredicateType})
		}
		statuses = append(statuses, lifecycle.Signed{Status: s, Signer: signerLabel(v.signer)})
		attestation[s] = v.index
	}
	// The statuses were verified as signed by their role (policy/gate.WithRole); all count.
	res, err := lifecycle.Resolve(ec.subject, statuses, ec.now, func(string) bool { return true })
	if err != nil {
		return broken(err, Evidence{Attestation: -1, PredicateType: lifecycle.PredicateType})
	}
	for _, s := range statuses {
		if s.Status.Effective.After(ec.now) {
			ec.changesAt(s.Status.Effective)
		}
	}
	state := res.State()
	if res.Current == nil {
		ev := Evidence{Attestation: -1, PredicateType: lifecycle.PredicateType, Field: "predicate.state", Value: string(state), Message: "no status in effect"}
		if slices.Contains(r.states, state) {
			return fail("no lifecycle status in effect: active", ev)
		}
		return pass(fmt.Sprintf("active: no lifecycle status in effect among %d", len(statuses)), ev)
	}
	cur := res.Current.Status
	ev := Evidence{Attestation: attestation[cur], PredicateType: lifecycle.PredicateType,
		Field: "predicate.state", Value: string(state), Message: "decided by " + cur.DecidedBy}
	reason := fmt.Sprintf("%s since %s", state, cur.Effective.UTC().Format(time.RFC3339))
	if cur.Reason != "" {
		reason += ": " + cur.Reason
	}
	if cur.Successor != "" {
		reason += "; migrate to " + cur.Successor.String()
		if cur.SuccessorName != "" {
			reason += " (" + cur.SuccessorName + ")"
		}
	}
	if slices.Contains(r.states, state) {
		return fail(reason, ev)
	}
	return pass(reason, ev)
}

// signerLabel names a verified signer: its key ID, or its certificate's identity.
func signerLabel(s verify.Signer) string {
	if s.Certificate != nil {
		return s.Certificate.SubjectAlternativeName
	}
	return s.KeyID
}

func (c *compiler) lifecycle(field string, d *lifecycleDoc) rule {
	if len(d.Deny) == 0 {
		c.failf(field+".deny", "needs the states that fail the rule, such as [retired, revoked]")
	}
	r := &lifecycleRule{}
	for i, s := range d.Deny {
		st := lifecycle.State(s)
		if !slices.Contains(lifecycle.States(), st) {
			c.failf(fmt.Sprintf("%s.deny[%d]", field, i), "%q is not a state (%s)", s, stateNames())
			continue
		}
		r.states = append(r.states, st)
	}
	return r
}

func stateNames() string {
	names := make([]string, 0, len(lifecycle.States()))
	for _, s := range lifecycle.States() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}
