package policy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
)

const slsaV1 = provenance.PredicateSLSAProvenanceV1

// slsaRule checks every verified SLSA Provenance v1 attestation of the subject: builder,
// build type, source and external parameters. There must be at least one.
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
	views := ec.ofType(slsaV1)
	if len(views) == 0 {
		return fail("no verified SLSA provenance v1 attestation", Evidence{Attestation: -1, PredicateType: slsaV1, Message: "none among the attestations"})
	}
	var bad, good []Evidence
	reasons := []string{}
	for _, v := range views {
		b, g, why := r.check(v)
		bad, good = append(bad, b...), append(good, g...)
		reasons = append(reasons, why...)
	}
	if len(bad) > 0 {
		return fail(strings.Join(dedupe(reasons), "; "), bad...)
	}
	return pass(fmt.Sprintf("%d SLSA provenance attestation(s) meet the requirements", len(views)), good...)
}

func (r *slsaRule) check(v *view) (bad, good []Evidence, reasons []string) {
	ev := func(field, value, msg string) Evidence {
		return Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: field, Value: value, Message: msg}
	}
	p := v.predicate
	if len(r.builders) > 0 {
		id := lookupString(p, "runDetails", "builder", "id")
		ok := false
		for _, b := range r.builders {
			if b.match(id) {
				ok = true
				break
			}
		}
		e := ev("predicate.runDetails.builder.id", id, "")
		if ok {
			good = append(good, e)
		} else {
			e.Message = "builder not allowed"
			bad = append(bad, e)
			reasons = append(reasons, fmt.Sprintf("builder %q not allowed", id))
		}
	}
	if len(r.buildTypes) > 0 {
		bt := lookupString(p, "buildDefinition", "buildType")
		e := ev("predicate.buildDefinition.buildType", bt, "")
		if contains(r.buildTypes, bt) {
			good = append(good, e)
		} else {
			e.Message = "build type not allowed"
			bad = append(bad, e)
			reasons = append(reasons, fmt.Sprintf("build type %q not allowed", bt))
		}
	}
	if r.source != nil {
		b, g, why := r.source.check(v, ev)
		bad, good = append(bad, b...), append(good, g...)
		reasons = append(reasons, why...)
	}
	ext := lookup(p, "buildDefinition", "externalParameters").GetStructValue()
	for _, want := range r.external {
		field := "predicate.buildDefinition.externalParameters." + strings.Join(want.path, ".")
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

// sourceOf finds the source repository and ref of a SLSA v1 build: the resolved dependency with
// role "source", else the first with a gitCommit digest, else GitHub Actions' externalParameters
// workflow.repository and workflow.ref.
func sourceOf(p *structpb.Struct) (repo, ref, field string) {
	deps := lookup(p, "buildDefinition", "resolvedDependencies").GetListValue().GetValues()
	pick := -1
	for i, d := range deps {
		if lookupString(d.GetStructValue(), "annotations", provenance.AnnotationRole) == provenance.RoleSource {
			pick = i
			break
		}
	}
	if pick < 0 {
		for i, d := range deps {
			if lookupString(d.GetStructValue(), "digest", "gitCommit") != "" {
				pick = i
				break
			}
		}
	}
	if pick >= 0 {
		uri := lookupString(deps[pick].GetStructValue(), "uri")
		repo, ref = provenance.SplitGitURI(uri)
		return repo, ref, fmt.Sprintf("predicate.buildDefinition.resolvedDependencies[%d].uri", pick)
	}
	wf := lookup(p, "buildDefinition", "externalParameters", "workflow").GetStructValue()
	if wf != nil {
		return lookupString(wf, "repository"), lookupString(wf, "ref"), "predicate.buildDefinition.externalParameters.workflow"
	}
	return "", "", "predicate.buildDefinition.resolvedDependencies"
}

func (s *sourceMatcher) check(v *view, ev func(field, value, msg string) Evidence) (bad, good []Evidence, reasons []string) {
	repo, ref, field := sourceOf(v.predicate)
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
