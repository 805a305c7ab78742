package provenance

import (
	"strings"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ImageAnnotations maps facts of a SLSA Provenance v1 predicate onto the standard
// org.opencontainers.image.* annotation keys, so a build system can label the image it built:
//
//   - source, revision: the dependency with role RoleSource (else the first with a gitCommit
//     digest); its URI in SLSA's "git+URL@REF" form gives the URL, its gitCommit digest the revision;
//   - version, ref.name: the tag, when that ref is refs/tags/NAME;
//   - created: runDetails.metadata.finishedOn, else startedOn, in RFC 3339;
//   - base.name, base.digest: the dependency with role RoleBaseImage, when it is pinned by sha256.
//
// Facts the predicate does not hold are left out; the map is never nil.
func ImageAnnotations(p *slsa.Provenance) map[string]string {
	out := map[string]string{}
	deps := p.GetBuildDefinition().GetResolvedDependencies()
	if src := sourceDependency(deps); src != nil {
		url, ref := SplitGitURI(src.GetUri())
		if url != "" {
			out[ocispec.AnnotationSource] = url
		}
		if rev := src.GetDigest()["gitCommit"]; rev != "" {
			out[ocispec.AnnotationRevision] = rev
		} else if rev := src.GetDigest()["sha1"]; rev != "" {
			out[ocispec.AnnotationRevision] = rev
		}
		if tag, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
			out[ocispec.AnnotationVersion] = tag
			out[ocispec.AnnotationRefName] = tag
		}
	}
	meta := p.GetRunDetails().GetMetadata()
	if t := meta.GetFinishedOn(); t != nil {
		out[ocispec.AnnotationCreated] = t.AsTime().UTC().Format(time.RFC3339)
	} else if t := meta.GetStartedOn(); t != nil {
		out[ocispec.AnnotationCreated] = t.AsTime().UTC().Format(time.RFC3339)
	}
	for _, d := range deps {
		if Role(d) != RoleBaseImage {
			continue
		}
		name := d.GetName()
		if name == "" {
			name = d.GetUri()
		}
		if name != "" {
			out[ocispec.AnnotationBaseImageName] = name
		}
		if hex := d.GetDigest()["sha256"]; hex != "" {
			out[ocispec.AnnotationBaseImageDigest] = "sha256:" + hex
		}
		break
	}
	return out
}

func sourceDependency(deps []*intoto.ResourceDescriptor) *intoto.ResourceDescriptor {
	for _, d := range deps {
		if Role(d) == RoleSource {
			return d
		}
	}
	for _, d := range deps {
		if d.GetDigest()["gitCommit"] != "" {
			return d
		}
	}
	return nil
}

// Role returns the AnnotationRole of a resource descriptor, or "" when it has none.
func Role(rd *intoto.ResourceDescriptor) string {
	v, ok := rd.GetAnnotations().GetFields()[AnnotationRole]
	if !ok {
		return ""
	}
	return v.GetStringValue()
}

// GitURI returns a git dependency URI in SLSA's form "git+URL@REF"; ref may be empty.
func GitURI(url, ref string) string {
	if !strings.HasPrefix(url, "git+") {
		url = "git+" + url
	}
	if ref == "" {
		return url
	}
	return url + "@" + ref
}

// SplitGitURI splits a "git+URL@REF" URI into URL and REF. An "@" in the URL's authority (the
// user of git+ssh://git@host/repo, or of the scp-like git@host:repo) is not taken for the ref
// separator: the ref starts at the first "@" of the path.
func SplitGitURI(uri string) (url, ref string) {
	uri = strings.TrimPrefix(uri, "git+")
	path := 0
	if scheme := strings.Index(uri, "://"); scheme >= 0 {
		slash := strings.Index(uri[scheme+3:], "/")
		if slash < 0 {
			return uri, ""
		}
		path = scheme + 3 + slash
	} else if colon := strings.Index(uri, ":"); colon >= 0 {
		path = colon
	}
	at := strings.Index(uri[path:], "@")
	if at < 0 {
		return uri, ""
	}
	return uri[:path+at], uri[path+at+1:]
}
