package diff

import (
	"slices"
	"strconv"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
)

// NoCommonAlgorithm is appended to the values of a Changed subject or material whose two sides
// share no digest algorithm, so they cannot be compared.
const NoCommonAlgorithm = " (no digest algorithm in common)"

// Subjects returns what differs between two lists of subjects, such as the files of a release
// and of its rebuild, sorted by Field. Subjects are matched by name, else by URI, else (when
// neither side names them) by digest; each difference is a Change of field "subjects[KEY]".
// A matched pair is compared on the digest algorithms both sides have, and differs when any of
// them differs; its values list those digests as "ALGORITHM:HEX", separated by spaces. A pair
// with no algorithm in common is Changed, with all of its digests as values and
// NoCommonAlgorithm appended to both. Added and Removed subjects list all their digests.
//
// A subject's name says which artifact it is, so two subjects of one list with the same key
// are ambiguous: they fail with a *DescriptorError wrapping ErrInvalidDescriptor, as does a nil
// subject or one with neither name, URI nor digest.
func Subjects(baseline, current []*intoto.ResourceDescriptor) ([]Change, error) {
	b, err := keyed("baseline", baseline, false)
	if err != nil {
		return nil, err
	}
	c, err := keyed("current", current, false)
	if err != nil {
		return nil, err
	}
	return sorted(compareDescriptors("subjects", b, c, nil)), nil
}

// keyed indexes descriptors by name, URI or digest. With numbered, a key seen again gets its
// occurrence appended ("#2"); without, it is an error.
func keyed(side string, rds []*intoto.ResourceDescriptor, numbered bool) (map[string]*intoto.ResourceDescriptor, error) {
	out := make(map[string]*intoto.ResourceDescriptor, len(rds))
	seen := map[string]int{}
	for i, rd := range rds {
		if rd == nil {
			return nil, &DescriptorError{Side: side, Index: i, Reason: "nil descriptor"}
		}
		key := rd.GetName()
		if key == "" {
			key = rd.GetUri()
		}
		if key == "" {
			key = digestList(rd.GetDigest(), nil)
		}
		if key == "" {
			return nil, &DescriptorError{Side: side, Index: i, Reason: "neither name, URI nor digest"}
		}
		seen[key]++
		if n := seen[key]; n > 1 {
			if !numbered {
				return nil, &DescriptorError{Side: side, Index: i, Key: key, Reason: "listed more than once"}
			}
			key += "#" + strconv.Itoa(n)
		}
		out[key] = rd
	}
	return out, nil
}

// compareDescriptors appends the differences between two keyed lists to out.
func compareDescriptors(prefix string, baseline, current map[string]*intoto.ResourceDescriptor, out []Change) []Change {
	for k, b := range baseline {
		field := prefix + "[" + k + "]"
		c, ok := current[k]
		if !ok {
			out = append(out, Change{Field: field, Kind: Removed, Baseline: digestList(b.GetDigest(), nil)})
			continue
		}
		var common []string
		for alg := range b.GetDigest() {
			if _, ok := c.GetDigest()[alg]; ok {
				common = append(common, alg)
			}
		}
		if len(common) == 0 {
			if len(b.GetDigest()) == 0 && len(c.GetDigest()) == 0 {
				continue
			}
			out = append(out, Change{Field: field, Kind: Changed,
				Baseline: digestList(b.GetDigest(), nil) + NoCommonAlgorithm,
				Current:  digestList(c.GetDigest(), nil) + NoCommonAlgorithm})
			continue
		}
		bv, cv := digestList(b.GetDigest(), common), digestList(c.GetDigest(), common)
		if bv != cv {
			out = append(out, Change{Field: field, Kind: Changed, Baseline: bv, Current: cv})
		}
	}
	for k, c := range current {
		if _, ok := baseline[k]; !ok {
			out = append(out, Change{Field: prefix + "[" + k + "]", Kind: Added, Current: digestList(c.GetDigest(), nil)})
		}
	}
	return out
}

// digestList writes the digests of set on the algorithms in algs (all when nil) as
// "ALGORITHM:HEX", sorted by algorithm and separated by spaces.
func digestList(set map[string]string, algs []string) string {
	if algs == nil {
		for alg := range set {
			algs = append(algs, alg)
		}
	}
	slices.Sort(algs)
	parts := make([]string, len(algs))
	for i, alg := range algs {
		parts[i] = alg + ":" + set[alg]
	}
	return strings.Join(parts, " ")
}
