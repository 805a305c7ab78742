package policy

import (
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
)

// pinningAlgorithms are the digest names that pin a dependency: cryptographic hashes from the
// in-toto digest set, and git object ids (which is how git pins a revision).
var pinningAlgorithms = []string{
	"sha256", "sha384", "sha512", "sha512_224", "sha512_256",
	"sha3_224", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s",
	"gitCommit", "gitTree", "gitBlob", "dirHash",
}

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
	views, shapes := ec.slsaViews()
	if len(views) == 0 {
		return noSLSA()
	}
	var bad []Evidence
	var reasons []string
	n, bases := 0, 0
	for vi, v := range views {
		sh := shapes[vi]
		deps := lookup(v.predicate, sh.deps...).GetListValue().GetValues()
		for i, dv := range deps {
			n++
			d := dv.GetStructValue()
			id := lookupString(d, "uri")
			if id == "" {
				id = lookupString(d, "name")
			}
			add := func(sub, value, msg string) {
				field := fieldPath(sh.deps) + "[" + strconv.Itoa(i) + "]" + sub
				bad = append(bad, Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: field, Value: value, Message: msg})
				reasons = append(reasons, fmt.Sprintf("%s: %s", value, msg))
			}
			unpinned := lookupString(d, "annotations", provenance.AnnotationUnpinned) == "true"
			if r.requirePinned && (unpinned || !pinned(d.GetFields()["digest"].GetStructValue().GetFields())) {
				add(".digest", id, "not pinned by digest")
			}
			if g, denied := anyGlob(r.deny, id); denied {
				add(".uri", id, fmt.Sprintf("denied by %q", g.text))
			} else if len(r.allow) > 0 {
				if _, ok := anyGlob(r.allow, id); !ok {
					add(".uri", id, "not on the allow list")
				}
			}
			if r.base != nil && lookupString(d, "annotations", provenance.AnnotationRole) == provenance.RoleBaseImage {
				bases++
				ref := lookupString(d, "name")
				if ref == "" {
					ref = id
				}
				if len(r.base.registries) > 0 && !r.base.allowedRegistry(ref) {
					add(".name", ref, "base image not from an allowed registry")
				}
				if r.base.requirePinned && (unpinned || lookupString(d, "digest", "sha256") == "") {
					add(".digest", ref, "base image not pinned by sha256 digest")
				}
			}
		}
	}
	if len(bad) > 0 {
		return fail(strings.Join(dedupe(reasons), "; "), bad...)
	}
	return pass(fmt.Sprintf("%d dependencies (%d base images) meet the requirements", n, bases))
}

func pinned(dg map[string]*structpb.Value) bool {
	for _, alg := range pinningAlgorithms {
		if dg[alg].GetStringValue() != "" {
			return true
		}
	}
	return false
}

// imageRepository normalises an image reference the way docker does: a first component with
// no "." or ":" (and not "localhost") is a Docker Hub repository.
func imageRepository(ref string) string {
	for _, p := range []string{"oci://", "docker://", "pkg:docker/", "pkg:oci/"} {
		ref = strings.TrimPrefix(ref, p)
	}
	first, rest, ok := strings.Cut(ref, "/")
	if !ok {
		return "docker.io/library/" + ref
	}
	if !strings.ContainsAny(first, ".:") && first != "localhost" {
		return "docker.io/" + first + "/" + rest
	}
	return ref
}

func (b *baseImageMatcher) allowedRegistry(ref string) bool {
	repo := imageRepository(ref)
	for _, allowed := range b.registries {
		if strings.HasPrefix(repo, allowed+"/") {
			return true
		}
	}
	return false
}
