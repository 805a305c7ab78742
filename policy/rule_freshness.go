package policy

import (
	"fmt"
	"strings"
	"time"
)

// freshnessRule bounds the verified signing time of each attestation it considers.
type freshnessRule struct {
	maxAge       time.Duration // 0: no maximum
	notBefore    time.Time     // zero: no lower bound
	types        []string
	allowMissing bool
}

func (r *freshnessRule) eval(ec *evalContext) check {
	views := ec.views
	if len(r.types) > 0 {
		views = ec.ofType(r.types...)
	}
	if len(views) == 0 {
		return fail("no attestations to judge freshness on", Evidence{Attestation: -1, Message: "predicate types " + quoteList(r.types)})
	}
	var bad, good []Evidence
	var reasons []string
	for _, v := range views {
		ev := Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: "signedAt"}
		if !v.hasSignedAt {
			if r.allowMissing {
				ev.Message = "no verified signing time; allowed by allowMissingSigningTime"
				good = append(good, ev)
				continue
			}
			ev.Message = "no verified signing time"
			bad = append(bad, ev)
			reasons = append(reasons, fmt.Sprintf("attestation %d has no verified signing time", v.index))
			continue
		}
		ev.Value = v.signedAt.UTC().Format(time.RFC3339)
		switch age := ec.now.Sub(v.signedAt); {
		case r.maxAge > 0 && age > r.maxAge:
			ev.Message = fmt.Sprintf("age %s exceeds %s", age.Round(time.Second), r.maxAge)
			bad = append(bad, ev)
			reasons = append(reasons, fmt.Sprintf("attestation %d signed %s ago, more than %s", v.index, age.Round(time.Second), r.maxAge))
		case !r.notBefore.IsZero() && v.signedAt.Before(r.notBefore):
			ev.Message = "signed before " + r.notBefore.UTC().Format(time.RFC3339)
			bad = append(bad, ev)
			reasons = append(reasons, fmt.Sprintf("attestation %d signed before %s", v.index, r.notBefore.UTC().Format(time.RFC3339)))
		default:
			if r.maxAge > 0 {
				ec.changesAt(v.signedAt.Add(r.maxAge))
			}
			good = append(good, ev)
		}
	}
	if len(bad) > 0 {
		return fail(strings.Join(reasons, "; "), bad...)
	}
	return pass(fmt.Sprintf("%d attestation(s) fresh", len(views)), good...)
}
