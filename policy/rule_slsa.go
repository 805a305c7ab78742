package policy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
)

const (
	slsaV1  = provenance.PredicateSLSAProvenanceV1
	slsaV02 = provenance.PredicateSLSAProvenanceV02
)

// slsaShape says where the facts rules read sit in one version of the SLSA provenance predicate.
type slsaShape struct {
	builder   []string // builder id
	buildType []string
	deps      []string // resolved dependencies (v1) or materials (v0.2)
	external  []string // parameters the build's caller chose
	internal  []string // parameters the builder chose, or the environment
}

var (
	shapeV1 = &slsaShape{
		builder:   []string{"runDetails", "builder", "id"},
		buildType: []string{"buildDefinition", "buildType"},
		deps:      []string{"buildDefinition", "resolvedDependencies"},
		external:  []string{"buildDefinition", "externalParameters"},
		internal:  []string{"buildDefinition", "internalParameters"},
	}
	shapeV02 = &slsaShape{
		builder:   []string{"builder", "id"},
		buildType: []string{"buildType"},
		deps:      []string{"materials"},
		external:  []string{"invocation", "parameters"},
		internal:  []string{"invocation", "environment"},
	}
)

// slsaViews returns the SLSA provenance attestations (v1 and v0.2) with their shapes.
func (ec *evalContext) slsaViews() ([]*view, []*slsaShape) {
	var views []*view
	var shapes []*slsaShape
	for _, v := range ec.views {
		switch v.predicateType {
		case slsaV1:
			views, shapes = append(views, v), append(shapes, shapeV1)
		case slsaV02:
			views, shapes = append(views, v), append(shapes, shapeV02)
		}
	}
	return views, shapes
}

func noSLSA() check {
	return fail("no verified SLSA provenance attestation", Evidence{Attestation: -1, PredicateType: slsaV1, Message: "no SLSA provenance v1 or v0.2 among the attestations"})
}

func fieldPath(path []string, more ...string) string {
	return "predicate." + strings.Join(append(append([]string(nil), path...), more...), ".")
}

// slsaRule checks every verified SLSA provenance attestation of the subject (v1, or v0.2 as
// cosign's "slsaprovenance" writes it): builder, build type, source and external parameters
// (v0.2: invocation.parameters). There must be at least one.
type slsaRule struct {
	builders   []builderMatcher
	buildTypes []string
	source     *sourceMatcher
	external   []expectedParam
}

type builderMatcher struct {
	id       string
	versions *semverRange
}

// match follows slsa-verifier: a builder id is "URI@REF"; an allowed id without "@" matches any
// ref of that URI, or with versions only tags refs/tags/vX.Y.Z in range; an allowed id with "@"
// matches exactly.
func (b builderMatcher) match(id string) bool {
	if strings.Contains(b.id, "@") || !strings.Contains(id, "@") {
		return id == b.id && b.versions == nil
	}
	at := strings.LastIndex(id, "@")
	base, ref := id[:at], id[at+1:]
	if base != b.id {
		return false
	}
	if b.versions == nil {
		return true
	}
	tag, ok := strings.CutPrefix(ref, "refs/tags/")
	return ok && b.versions.contains(tag)
}

func (b builderMatcher) String() string {
	if b.versions != nil {
		return b.id + "@refs/tags/(" + b.versions.text + ")"
	}
	return b.id
}

type sourceMatcher struct {
	repos       []string // normalised
	branches    []glob
	tags        []glob
	tagVersions *semverRange
}

type expectedParam struct {
	path []string
	want any // normalised through encoding/json
}

func normaliseRepo(u string) string {
	u = strings.TrimPrefix(u, "git+")
	u = strings.TrimSuffix(u, "/")
	return strings.TrimSuffix(u, ".git")
}

func (r *slsaRule) eval(ec *evalContext) check {
	views, shapes := ec.slsaViews()
	if len(views) == 0 {
		return noSLSA()
	}
	var bad, good []Evidence
	reasons := []string{}
	for i, v := range views {
		b, g, why := r.check(v, shapes[i])
		bad, good = append(bad, b...), append(good, g...)
		reasons = append(reasons, why...)
	}
	if len(bad) > 0 {
		return fail(strings.Join(dedupe(reasons), "; "), bad...)
	}
	return pass(fmt.Sprintf("%d SLSA provenance attestation(s) meet the requirements", len(views)), good...)
}

func (r *slsaRule) check(v *view, sh *slsaShape) (bad, good []Evidence, reasons []string) {
	ev := func(field, value, msg string) Evidence {
		return Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: field, Value: value, Message: msg}
	}
	p := v.predicate
	if len(r.builders) > 0 {
		id := lookupString(p, sh.builder...)
		ok := false
		for _, b := range r.builders {
			if b.match(id) {
				ok = true
				break
			}
		}
		e := ev(fieldPath(sh.builder), id, "")
		if ok {
			good = append(good, e)
		} else {
			e.Message = "builder not allowed"
			bad = append(bad, e)
			reasons = append(reasons, fmt.Sprintf("builder %q not allowed", id))
		}
	}
	if len(r.buildTypes) > 0 {
		bt := lookupString(p, sh.buildType...)
		e := ev(fieldPath(sh.buildType), bt, "")
		if contains(r.buildTypes, bt) {
			good = append(good, e)
		} else {
			e.Message = "build type not allowed"
			bad = append(bad, e)
			reasons = append(reasons, fmt.Sprintf("build type %q not allowed", bt))
		}
	}
	if r.source != nil {
		b, g, why := r.source.check(v, sh, ev)
		bad, good = append(bad, b...), append(good, g...)
		reasons = append(reasons, why...)
	}
	ext := lookup(p, sh.external...).GetStructValue()
	for _, want := range r.external {
		field := fieldPath(sh.external, want.path...)
		got := lookup(ext, want.path...)
		if got == nil {
			bad = append(bad, ev(field, "", "missing"))
			reasons = append(reasons, fmt.Sprintf("external parameter %s missing", strings.Join(want.path, ".")))
			continue
		}
		if !reflect.DeepEqual(got.AsInterface(), want.want) {
			wj, _ := json.Marshal(want.want)
			bad = append(bad, ev(field, valueString(got), "expected "+string(wj)))
			reasons = append(reasons, fmt.Sprintf("external parameter %s is %s, expected %s", strings.Join(want.path, "."), valueString(got), wj))
			continue
		}
		good = append(good, ev(field, valueString(got), ""))
	}
	return bad, good, reasons
}

// sourceOf finds the source repository and ref of a build: for SLSA v0.2 the config source;
// then the dependency with role "source"; else the first with a gitCommit (or, in v0.2, sha1)
// digest; else GitHub Actions' external parameters workflow.repository and workflow.ref.
func sourceOf(p *structpb.Struct, sh *slsaShape) (repo, ref, field string) {
	if sh == shapeV02 {
		if uri := lookupString(p, "invocation", "configSource", "uri"); uri != "" {
			repo, ref = provenance.SplitGitURI(uri)
			return repo, ref, "predicate.invocation.configSource.uri"
		}
	}
	deps := lookup(p, sh.deps...).GetListValue().GetValues()
	pick := -1
	for i, d := range deps {
		if lookupString(d.GetStructValue(), "annotations", provenance.AnnotationRole) == provenance.RoleSource {
			pick = i
			break
		}
	}
	if pick < 0 {
		for i, d := range deps {
			dg := d.GetStructValue()
			if lookupString(dg, "digest", "gitCommit") != "" || (sh == shapeV02 && lookupString(dg, "digest", "sha1") != "") {
				pick = i
				break
			}
		}
	}
	if pick >= 0 {
		uri := lookupString(deps[pick].GetStructValue(), "uri")
		repo, ref = provenance.SplitGitURI(uri)
		return repo, ref, fmt.Sprintf("%s[%d].uri", fieldPath(sh.deps), pick)
	}
	wf := lookup(p, append(append([]string(nil), sh.external...), "workflow")...).GetStructValue()
	if wf != nil {
		return lookupString(wf, "repository"), lookupString(wf, "ref"), fieldPath(sh.external, "workflow")
	}
	return "", "", fieldPath(sh.deps)
}

func (s *sourceMatcher) check(v *view, sh *slsaShape, ev func(field, value, msg string) Evidence) (bad, good []Evidence, reasons []string) {
	repo, ref, field := sourceOf(v.predicate, sh)
	if repo == "" {
		return []Evidence{ev(field, "", "no source repository in the provenance")}, nil, []string{"no source repository in the provenance"}
	}
	if len(s.repos) > 0 && !contains(s.repos, normaliseRepo(repo)) {
		bad = append(bad, ev(field, repo, "source repository not allowed"))
		reasons = append(reasons, fmt.Sprintf("source repository %q not allowed", repo))
	} else {
		good = append(good, ev(field, repo, ""))
	}
	if len(s.branches) == 0 && len(s.tags) == 0 && s.tagVersions == nil {
		return bad, good, reasons
	}
	ok := false
	if b, isBranch := strings.CutPrefix(ref, "refs/heads/"); isBranch {
		_, ok = anyGlob(s.branches, b)
	} else if t, isTag := strings.CutPrefix(ref, "refs/tags/"); isTag && (len(s.tags) > 0 || s.tagVersions != nil) {
		ok = true
		if len(s.tags) > 0 {
			_, ok = anyGlob(s.tags, t)
		}
		if ok && s.tagVersions != nil {
			ok = s.tagVersions.contains(t)
		}
	}
	if ok {
		good = append(good, ev(field, ref, ""))
	} else {
		bad = append(bad, ev(field, ref, "source ref not allowed"))
		reasons = append(reasons, fmt.Sprintf("source ref %q not allowed", ref))
	}
	return bad, good, reasons
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
