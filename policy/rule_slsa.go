package policy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

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
	repos       []string // as provenance.RepositoryID gives them
	branches    []glob
	tags        []glob
	tagVersions *semverRange
}

type expectedParam struct {
	path []string
	want any // normalised through encoding/json
}

func (r *slsaRule) eval(ec *evalContext) check {
	views, failed := ec.slsaProvenances()
	if failed != nil {
		return *failed
	}
	var bad, good []Evidence
	reasons := []string{}
	for _, v := range views {
		b, g, why := r.check(v)
		bad, good = append(bad, b...), append(good, g...)
		reasons = append(reasons, why...)
	}
	if len(bad) > 0 {
		return fail(joinReasons(reasons), bad...)
	}
	return pass(fmt.Sprintf("%d SLSA provenance attestation(s) meet the requirements", len(views)), good...)
}

func (r *slsaRule) check(v slsaView) (bad, good []Evidence, reasons []string) {
	ev := func(field, value, msg string) Evidence {
		return Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: field, Value: value, Message: msg}
	}
	f, sh := v.facts, v.facts.shape
	if len(r.builders) > 0 {
		id := f.builderID
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
		bt := f.buildType
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
		b, g, why := r.source.check(f, ev)
		bad, good = append(bad, b...), append(good, g...)
		reasons = append(reasons, why...)
	}
	for _, want := range r.external {
		field := fieldPath(sh.external, want.path...)
		got := lookup(f.external, want.path...)
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
func sourceOf(f *slsaFacts) (repo, ref, field string) {
	sh := f.shape
	if sh == shapeV02 && f.configSource != "" {
		repo, ref = provenance.SplitGitURI(f.configSource)
		return repo, ref, "predicate.invocation.configSource.uri"
	}
	pick := -1
	for i, d := range f.deps {
		if d.annotation(provenance.AnnotationRole) == provenance.RoleSource {
			pick = i
			break
		}
	}
	if pick < 0 {
		for i, d := range f.deps {
			if d.digest["gitCommit"] != "" || (sh == shapeV02 && d.digest["sha1"] != "") {
				pick = i
				break
			}
		}
	}
	if pick >= 0 {
		repo, ref = provenance.SplitGitURI(f.deps[pick].uri)
		return repo, ref, fmt.Sprintf("%s[%d].uri", fieldPath(sh.deps), pick)
	}
	if wf := lookup(f.external, "workflow").GetStructValue(); wf != nil {
		return lookupString(wf, "repository"), lookupString(wf, "ref"), fieldPath(sh.external, "workflow")
	}
	return "", "", fieldPath(sh.deps)
}

// check compares the build's source with the allowed repositories (both in the form
// provenance.RepositoryID gives, so every spelling of one repository matches it and no
// spelling of another does) and refs. A source that is not a repository address is refused.
func (s *sourceMatcher) check(f *slsaFacts, ev func(field, value, msg string) Evidence) (bad, good []Evidence, reasons []string) {
	repo, ref, field := sourceOf(f)
	if repo == "" {
		return []Evidence{ev(field, "", "no source repository in the provenance")}, nil, []string{"no source repository in the provenance"}
	}
	if len(s.repos) > 0 {
		id, err := provenance.RepositoryID(repo)
		switch {
		case err != nil:
			bad = append(bad, ev(field, repo, "source repository unreadable: "+err.Error()))
			reasons = append(reasons, fmt.Sprintf("source repository %q unreadable", repo))
		case !contains(s.repos, id):
			bad = append(bad, ev(field, repo, "source repository not allowed"))
			reasons = append(reasons, fmt.Sprintf("source repository %q not allowed", repo))
		default:
			good = append(good, ev(field, repo, ""))
		}
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
