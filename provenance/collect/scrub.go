package collect

import (
	"fmt"
	"slices"

	intoto "github.com/in-toto/attestation/go/v1"
)

// scrubber replaces every recorded string in which a credential is found by Redacted, and
// remembers where.
type scrubber struct {
	// paths are the fields withheld, as "externalParameters.parameters.db".
	paths []string
}

func (s *scrubber) note(path string) { s.paths = append(s.paths, path) }

// str returns v, or Redacted when v holds a credential or already is Redacted.
func (s *scrubber) str(path, v string) string {
	if v == Redacted || LooksSecret(v) {
		s.note(path)
		return Redacted
	}
	return v
}

// value returns a copy of v in which every string, map key included, is scrubbed. A map entry
// whose key holds a credential is left out. Values of other types are returned as they are.
func (s *scrubber) value(path string, v any) any {
	switch v := v.(type) {
	case string:
		return s.str(path, v)
	case []string:
		out := make([]string, len(v))
		for i, e := range v {
			out[i] = s.str(fmt.Sprintf("%s[%d]", path, i), e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = s.value(fmt.Sprintf("%s[%d]", path, i), e)
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(v))
		for k, e := range v {
			if LooksSecret(k) {
				s.note(path + "." + Redacted)
				continue
			}
			out[k] = s.str(path+"."+k, e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if LooksSecret(k) {
				s.note(path + "." + Redacted)
				continue
			}
			out[k] = s.value(path+"."+k, e)
		}
		return out
	}
	return v
}

// dependency scrubs the strings of a resource descriptor in place.
func (s *scrubber) dependency(i int, rd *intoto.ResourceDescriptor) {
	path := fmt.Sprintf("resolvedDependencies[%d]", i)
	rd.Name = s.str(path+".name", rd.Name)
	rd.Uri = s.str(path+".uri", rd.Uri)
	rd.DownloadLocation = s.str(path+".downloadLocation", rd.DownloadLocation)
	if rd.Annotations != nil {
		for k, v := range rd.Annotations.Fields {
			if sv := v.GetStringValue(); sv != "" && (sv == Redacted || LooksSecret(sv)) {
				s.note(path + ".annotations." + k)
				delete(rd.Annotations.Fields, k)
			}
		}
	}
}

// sorted returns the paths noted, sorted and without repeats.
func (s *scrubber) sorted() []string {
	out := slices.Clone(s.paths)
	slices.Sort(out)
	return slices.Compact(out)
}
