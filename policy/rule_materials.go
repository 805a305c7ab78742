package policy

import (
	"fmt"
	"strconv"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/provkit/provkit/provenance"
)

// materialsRule checks the resolved dependencies (v0.2: materials) of every verified SLSA provenance.
type materialsRule struct {
	requirePinned bool
	allow, deny   []glob
	base          *baseImageMatcher
}

type baseImageMatcher struct {
	registries    []string
	requirePinned bool
}

func (r *materialsRule) eval(ec *evalContext) check {
	views, failed := ec.slsaProvenances()
	if failed != nil {
		return *failed
	}
	var bad []Evidence
	var reasons []string
	n, bases := 0, 0
	for _, v := range views {
		sh := v.facts.shape
		for i, d := range v.facts.deps {
			n++
			id := d.uri
			if id == "" {
				id = d.name
			}
			add := func(sub, value, msg string) {
				field := fieldPath(sh.deps) + "[" + strconv.Itoa(i) + "]" + sub
				bad = append(bad, Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: field, Value: value, Message: msg})
				reasons = append(reasons, fmt.Sprintf("%s: %s", value, msg))
			}
			unpinned := d.annotation(provenance.AnnotationUnpinned) == "true"
			isPinned, err := pinned(d.digest)
			if err != nil {
				add(".digest", id, "malformed digest: "+err.Error())
			} else if r.requirePinned && (unpinned || !isPinned) {
				add(".digest", id, "not pinned by digest")
			}
			forms, err := dependencyForms(id)
			switch {
			case err != nil:
				add(".uri", id, err.Error())
			case anyForm(r.deny, forms) != nil:
				add(".uri", id, fmt.Sprintf("denied by %q", anyForm(r.deny, forms).text))
			case len(r.allow) > 0 && anyForm(r.allow, forms) == nil:
				add(".uri", id, "not on the allow list")
			}
			if r.base != nil && d.annotation(provenance.AnnotationRole) == provenance.RoleBaseImage {
				bases++
				ref := d.name
				if ref == "" {
					ref = id
				}
				if len(r.base.registries) > 0 && !r.base.allowedRegistry(ref) {
					add(".name", ref, "base image not from an allowed registry")
				}
				if r.base.requirePinned {
					if _, err := provenance.NormalizeDigest("sha256", d.digest["sha256"]); unpinned || err != nil {
						add(".digest", ref, "base image not pinned by sha256 digest")
					}
				}
			}
		}
	}
	if len(bad) > 0 {
		return fail(joinReasons(reasons), bad...)
	}
	return pass(fmt.Sprintf("%d dependencies (%d base images) meet the requirements", n, bases))
}

// pinned reports whether a digest set pins what it describes: it holds a digest that identifies
// an artifact (provenance.IdentifyingDigests), or a git commit id, which is how a git revision
// is pinned (40 or 64 hexadecimal digits, for SHA-1 and SHA-256 repositories). Any other
// algorithm pins nothing. A malformed identifying digest or commit id is an error: the
// dependency is malformed, not merely unpinned.
func pinned(set map[string]string) (bool, error) {
	ds, err := provenance.IdentifyingDigests(set)
	if err != nil {
		return false, err
	}
	c, ok := set["gitCommit"]
	if !ok {
		return len(ds) > 0, nil
	}
	if len(c) != 40 && len(c) != 64 || strings.Trim(strings.ToLower(c), "0123456789abcdef") != "" {
		return false, &provenance.DigestError{Algorithm: "gitCommit", Value: c, Reason: "want 40 or 64 hexadecimal digits"}
	}
	return true, nil
}

// dependencyForms returns the ways the allow and deny lists may match a dependency: its
// canonical address (see canonicalAddress; a package URL in the form packageurl-go prints)
// and, when it names a source repository, its provenance.RepositoryID. A package URL that does
// not parse is an error: nothing can be said about what it names.
func dependencyForms(id string) ([]string, error) {
	if len(id) >= 4 && strings.EqualFold(id[:4], "pkg:") {
		p, err := packageurl.FromString(id)
		if err != nil {
			return nil, fmt.Errorf("malformed package URL: %v", err)
		}
		return []string{p.ToString()}, nil
	}
	forms := []string{canonicalAddress(id)}
	if repo, err := provenance.RepositoryID(id); err == nil {
		forms = append(forms, repo)
	}
	return forms, nil
}

// canonicalAddress drops a "git+" scheme prefix and lower-cases the scheme and the authority
// (host and port) of an address, or the type of a package URL, where case carries no meaning.
// It works on text, so that patterns with "*" normalise the same way the addresses they match
// do.
func canonicalAddress(s string) string {
	if len(s) >= 4 && strings.EqualFold(s[:4], "git+") {
		s = s[4:]
	}
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		authority, path, hasPath := strings.Cut(rest, "/")
		s = strings.ToLower(scheme) + "://" + strings.ToLower(authority)
		if hasPath {
			s += "/" + path
		}
		return s
	}
	if len(s) >= 4 && strings.EqualFold(s[:4], "pkg:") {
		typ, rest, _ := strings.Cut(s[4:], "/")
		return "pkg:" + strings.ToLower(typ) + "/" + rest
	}
	return s
}

func anyForm(gs []glob, forms []string) *glob {
	for _, f := range forms {
		if g, ok := anyGlob(gs, f); ok {
			return &g
		}
	}
	return nil
}

// imageRepository returns the repository an image reference or package URL names, registry
// host first, the way docker reads a reference: a first component with no "." or ":" (and not
// "localhost") is a Docker Hub repository. A pkg:docker or pkg:oci package URL names the
// registry of its repository_url qualifier; pkg:docker without one is Docker Hub, pkg:oci
// without one names no registry ("", false).
func imageRepository(ref string) (string, bool) {
	if len(ref) >= 4 && strings.EqualFold(ref[:4], "pkg:") {
		p, err := packageurl.FromString(ref)
		if err != nil {
			return "", false
		}
		repoURL := p.Qualifiers.Map()["repository_url"]
		switch p.Type {
		case packageurl.TypeDocker:
			if repoURL == "" {
				repoURL = "docker.io"
			}
			ns := p.Namespace
			if ns == "" && repoURL == "docker.io" {
				ns = "library"
			}
			repo := strings.TrimSuffix(repoURL, "/")
			if ns != "" {
				repo += "/" + ns
			}
			return lowerHost(repo + "/" + p.Name), true
		case packageurl.TypeOCI:
			if repoURL == "" {
				return "", false
			}
			return lowerHost(repoURL), true
		}
		return "", false
	}
	for _, p := range []string{"oci://", "docker://"} {
		ref = strings.TrimPrefix(ref, p)
	}
	first, rest, ok := strings.Cut(ref, "/")
	if !ok {
		return "docker.io/library/" + ref, true
	}
	if !strings.ContainsAny(first, ".:") && first != "localhost" {
		return "docker.io/" + first + "/" + rest, true
	}
	return lowerHost(ref), true
}

func lowerHost(repo string) string {
	host, rest, _ := strings.Cut(repo, "/")
	return strings.ToLower(host) + "/" + rest
}

func (b *baseImageMatcher) allowedRegistry(ref string) bool {
	repo, ok := imageRepository(ref)
	if !ok {
		return false
	}
	for _, allowed := range b.registries {
		if strings.HasPrefix(repo, strings.ToLower(allowed)+"/") {
			return true
		}
	}
	return false
}
