package provenance

import (
	"net"
	"net/url"
	"strings"
	"unicode"
)

// caseInsensitiveHosts are the hosting services whose repository paths name the same
// repository whatever their case ("github.com/Org/Repo" is "github.com/org/repo").
var caseInsensitiveHosts = map[string]bool{
	"github.com":    true,
	"gitlab.com":    true,
	"bitbucket.org": true,
}

// RepositoryID returns the canonical identity of the source repository at uri, "host/path", so
// that every way of writing one repository names it once and no way of writing another names it
// too. Policy rules, the lineage index, diff and collection compare repositories only in this
// form.
//
// It accepts the forms builds record and people write: SLSA's "git+https://host/path@ref",
// https://, http://, ssh:// and git:// URLs, scp-like "user@host:path", and a bare
// "host/path". The ref (everything from the first "@" of the path, as SplitGitURI splits it),
// the scheme, user information (credentials included), the port, a trailing "/" and a ".git"
// suffix are dropped; the host is lower-cased, and so is the path on hosts whose paths ignore
// case (github.com, gitlab.com, bitbucket.org). A query, a fragment, an empty, "." or ".."
// path segment, a path that is only the host, white space, control characters and "%" (also
// once decoded) are refused:
// the error is a *RepositoryError.
func RepositoryID(uri string) (string, error) {
	refuse := func(reason string) (string, error) {
		return "", &RepositoryError{URI: uri, Reason: reason}
	}
	if strings.IndexFunc(uri, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return refuse("contains white space or control characters")
	}
	location, _ := SplitGitURI(uri)
	var host, path string
	switch scheme, rest, hasScheme := strings.Cut(location, "://"); {
	case hasScheme:
		switch strings.ToLower(scheme) {
		case "https", "http", "ssh", "git", "git+ssh", "ssh+git":
		default:
			return refuse("scheme " + scheme + " does not name a network repository")
		}
		u, err := url.Parse("scheme://" + rest)
		if err != nil {
			return refuse("not a URL")
		}
		if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(rest, "#") {
			return refuse("has a query or fragment")
		}
		host, path = u.Hostname(), u.Path
		if strings.Contains(u.Host, ":") && u.Port() == "" && !strings.HasPrefix(u.Host, "[") {
			// ssh://git@host:org/repo mixes the URL and scp forms; its path starts after the colon.
			return refuse("port is not a number")
		}
	case scpLike(location):
		at := strings.Index(location, "@")
		colon := strings.Index(location, ":")
		host, path = location[at+1:colon], location[colon+1:]
	default:
		host, path, _ = strings.Cut(location, "/")
		if h, port, err := net.SplitHostPort(host); err == nil && port != "" {
			host = h
		}
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if !validHost(host) {
		return refuse("no valid host")
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil && ip.To4() == nil {
		host = "[" + ip.String() + "]"
	}
	if caseInsensitiveHosts[host] {
		path = strings.ToLower(path)
	}
	path = strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	if path == "" {
		return refuse("no repository path")
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return refuse("path has an empty, \".\" or \"..\" segment")
		}
	}
	if strings.ContainsAny(path, "?#%@:\\") || strings.IndexFunc(path, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return refuse("path contains ?, #, %, @, :, \\, white space or control characters")
	}
	return host + "/" + path, nil
}

// scpLike reports whether s is git's scp-like form "[user@]host:path": a colon before any slash.
func scpLike(s string) bool {
	if strings.HasPrefix(s, "[") {
		return false // a bracketed IPv6 host
	}
	colon := strings.Index(s, ":")
	slash := strings.Index(s, "/")
	return colon > 0 && (slash < 0 || colon < slash)
}

// validHost accepts DNS names (letters, digits, '-' and '.') and IP addresses.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if net.ParseIP(strings.Trim(h, "[]")) != nil {
		return true
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
