package policy_test

import (
	"testing"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
)

// v02 is a SLSA provenance v0.2 predicate as cosign's --type slsaprovenance carries it.
func v02(builderRef, sourceRef string, env map[string]any, materials ...any) map[string]any {
	return map[string]any{
		"builder":   map[string]any{"id": testBuilder + "@" + builderRef},
		"buildType": "https://github.com/slsa-framework/slsa-github-generator/container@v1",
		"invocation": map[string]any{
			"configSource": map[string]any{"uri": "git+" + testRepo + "@" + sourceRef, "digest": map[string]any{"sha1": "0123456789abcdef0123456789abcdef01234567"}, "entryPoint": ".github/workflows/release.yml"},
			"parameters":   map[string]any{"event": "push"},
			"environment":  env,
		},
		"materials": materials,
	}
}

func TestSLSAv02(t *testing.T) {
	pinned := map[string]any{"uri": "git+" + testRepo + "@refs/tags/v1.4.2", "digest": map[string]any{"sha1": "0123456789abcdef0123456789abcdef01234567"}}
	unpinned := map[string]any{"uri": "https://example.com/tool.tar.gz"}
	clean := map[string]any{"github_run_id": "1"}
	slsa := "    slsa:\n      builders: [{id: " + testBuilder + ", versions: \">=v2.0.0\"}]\n      source: {repositories: [" + testRepo + "], tags: [\"v*\"]}\n      externalParameters: {event: push}\n"
	runRuleCases(t, []ruleCase{
		{name: "v0.2 builder, source and parameters", rule: slsa,
			results: keyed([]string{"alice"}, pred(provenance.PredicateSLSAProvenanceV02, v02("refs/tags/v2.1.0", "refs/tags/v1.4.2", clean, pinned))), want: policy.OutcomePass},
		{name: "v0.2 old builder", rule: slsa,
			results: keyed([]string{"alice"}, pred(provenance.PredicateSLSAProvenanceV02, v02("refs/tags/v1.0.0", "refs/tags/v1.4.2", clean, pinned))),
			want:    policy.OutcomeFail, field: "predicate.builder.id", value: "v1.0.0"},
		{name: "v0.2 branch source", rule: slsa,
			results: keyed([]string{"alice"}, pred(provenance.PredicateSLSAProvenanceV02, v02("refs/tags/v2.1.0", "refs/heads/main", clean, pinned))),
			want:    policy.OutcomeFail, field: "predicate.invocation.configSource.uri", value: "refs/heads/main"},
		{name: "v0.2 unpinned material", rule: "    materials: {requirePinned: true}\n",
			results: keyed([]string{"alice"}, pred(provenance.PredicateSLSAProvenanceV02, v02("refs/tags/v2.1.0", "refs/tags/v1.4.2", clean, pinned, unpinned))),
			want:    policy.OutcomeFail, field: "predicate.materials[1].digest", value: "tool.tar.gz"},
		{name: "v0.2 leaked environment", rule: "    environment: {forbiddenVariables: [\"*_TOKEN\"], requiredParameters: [externalParameters.event]}\n",
			results: keyed([]string{"alice"}, pred(provenance.PredicateSLSAProvenanceV02, v02("refs/tags/v2.1.0", "refs/tags/v1.4.2", map[string]any{"GITHUB_TOKEN": "ghs_abcdefghijkl"}, pinned))),
			want:    policy.OutcomeFail, field: "predicate.invocation.environment.GITHUB_TOKEN", value: "redacted"},
		{name: "v0.2 clean environment", rule: "    environment: {forbiddenVariables: [\"*_TOKEN\"], requiredParameters: [externalParameters.event]}\n",
			results: keyed([]string{"alice"}, pred(provenance.PredicateSLSAProvenanceV02, v02("refs/tags/v2.1.0", "refs/tags/v1.4.2", clean, pinned))), want: policy.OutcomePass},
	})
}
