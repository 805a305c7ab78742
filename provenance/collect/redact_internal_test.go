package collect

import (
	"regexp"
	"testing"
)

// FuzzURLWithPassword checks that the hand-written matcher finds exactly what the documented
// pattern of the "URL with password" rule finds.
func FuzzURLWithPassword(f *testing.F) {
	for _, s := range []string{
		"https://u:p@h/r", "https://u@h", "https://:p@h", "https://u:@h", "x https://u:p:q@h",
		"1://u:p@h", "a1+.-://u:p@h", "://u:p@h", "https://u/x:p@h", "s://a://u:p@h",
		"https://u:p\n@h", "git+ssh://git:pw@host/r", "https://u:p?@h", "", "é://u:p@h",
	} {
		f.Add(s)
	}
	var re *regexp.Regexp
	for _, r := range valueRules() {
		if r.name == "URL with password" {
			re = r.re
		}
	}
	if re == nil {
		f.Fatal("no URL rule")
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := urlWithPassword(s), re.MatchString(s); got != want {
			t.Errorf("urlWithPassword(%q) = %v, pattern says %v", s, got, want)
		}
	})
}
