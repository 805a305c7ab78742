package diff

import (
	"github.com/opencontainers/go-digest"
)

// Environments returns how what one tag resolves to differs across environments (or
// registries): resolved maps each environment's name to the digest the tag resolved to there,
// the empty digest when the tag is absent there. Each environment other than baseline is
// compared with baseline, as a Change of field "environments.NAME": Added when the tag exists
// there and not in baseline, Removed when it exists in baseline only, Changed when the digests
// differ. Environments that agree with baseline give no Change; the result is sorted by Field.
func Environments(baseline string, resolved map[string]digest.Digest) []Change {
	var changes []Change
	base := resolved[baseline].String()
	for name, d := range resolved {
		if name == baseline {
			continue
		}
		field, cur := "environments."+name, d.String()
		switch {
		case base == cur:
		case base == "":
			changes = append(changes, Change{Field: field, Kind: Added, Current: cur})
		case cur == "":
			changes = append(changes, Change{Field: field, Kind: Removed, Baseline: base})
		default:
			changes = append(changes, Change{Field: field, Kind: Changed, Baseline: base, Current: cur})
		}
	}
	return sorted(changes)
}
