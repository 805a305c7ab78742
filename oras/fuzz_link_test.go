package oras

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseNextLink checks that the guard reads a Link header as oras-go does: the URL between
// the first '<' and the first '>', resolved against the request; and that a relative link
// without a host of its own always stays on the registry.
func FuzzParseNextLink(f *testing.F) {
	for _, s := range []string{
		`</v2/repo/referrers/sha256:ab?n=2>; rel="next"`,
		`<http://other.example/v2/x>; rel="next"`,
		`<//other.example:80/x>`,
		`<https://REGISTRY.example:443/v2/x>`,
		`<>`, `<`, `>`, `no angle`, `<http://[::1>`, `<?last=b>`, `<javascript:x>`,
	} {
		f.Add(s)
	}
	base, _ := url.Parse("https://registry.example/v2/repo/referrers/sha256:ab")
	f.Fuzz(func(t *testing.T, link string) {
		u, ok := parseNextLink(base, link)
		if !ok {
			return
		}
		inner := link[1:strings.IndexByte(link, '>')]
		want, err := base.Parse(inner)
		if err != nil || want.String() != u.String() {
			t.Fatalf("parseNextLink(%q) = %v, oras-go reads %v (%v)", link, u, want, err)
		}
		ref, _ := url.Parse(inner)
		if ref.Scheme == "" && ref.Host == "" && !strings.HasPrefix(inner, "//") && originOf(u) != originOf(base) {
			t.Fatalf("relative link %q left the registry: %v", link, u)
		}
	})
}
