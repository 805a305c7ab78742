package policy_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

// ruleCase is one rule evaluated on real verified results.
type ruleCase struct {
	name    string
	rule    string // the rule's body, indented as a list item's fields
	results func(t *testing.T, k *kit) []*verify.Result
	after   time.Duration // evaluation time = first verified signing time + after
	want    policy.Outcome
	reason  string // substring of the rule's reason
	field   string // for fail: substring of an evidence field ...
	value   string // ... whose value contains this
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	k := newKit(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := load(t, oneRule(c.rule))
			results := c.results(t, k)
			now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
			for _, r := range results {
				if at, ok := r.SignedAt(); ok {
					now = at
					break
				}
			}
			d, err := p.Evaluate(artifact, results, now.Add(c.after))
			if d == nil {
				t.Fatalf("no decision (err %v)", err)
			}
			rr, ok := d.Rule("rule")
			if !ok {
				t.Fatal("rule missing from the decision")
			}
			if rr.Outcome != c.want {
				t.Fatalf("outcome %s (%s, %s), want %s", rr.Outcome, rr.Reason, rr.Error, c.want)
			}
			if !strings.Contains(rr.Reason, c.reason) {
				t.Errorf("reason %q does not contain %q", rr.Reason, c.reason)
			}
			if c.want == policy.OutcomePass {
				if err != nil {
					t.Fatalf("passed but Evaluate returned %v", err)
				}
				return
			}
			var de *policy.DeniedError
			if !errors.As(err, &de) || !errors.Is(err, policy.ErrDenied) || de.Decision != d {
				t.Fatalf("err = %v, want a *DeniedError with the decision", err)
			}
			if c.field != "" && !hasEvidence(rr.Evidence, c.field, c.value) {
				t.Errorf("no evidence with field ~%q and value ~%q in %+v", c.field, c.value, rr.Evidence)
			}
		})
	}
}

func hasEvidence(evs []policy.Evidence, field, value string) bool {
	for _, e := range evs {
		if strings.Contains(e.Field, field) && strings.Contains(e.Value, value) {
			return true
		}
	}
	return false
}

// keyed signs each statement with the matching key.
func keyed(keys []string, sts ...func(t *testing.T) *intoto.Statement) func(t *testing.T, k *kit) []*verify.Result {
	return func(t *testing.T, k *kit) []*verify.Result {
		var out []*verify.Result
		for i, st := range sts {
			out = append(out, k.keyResult(t, keys[i%len(keys)], st(t)))
		}
		return out
	}
}

func slsaBuild(edit func(*provenance.Build)) func(t *testing.T) *intoto.Statement {
	return func(t *testing.T) *intoto.Statement { return build(t, edit) }
}

func pred(predicateType string, body any) func(t *testing.T) *intoto.Statement {
	return func(t *testing.T) *intoto.Statement { return statement(t, predicateType, body) }
}

func TestSignersRule(t *testing.T) {
	prov := slsaBuild(nil)
	twoOfThree := `    signers:
      threshold: 2
      identities:
        - keyId: alice
        - keyId: bob
        - keyId: carol
`
	runRuleCases(t, []ruleCase{
		{name: "one key allowed", rule: "    signers:\n      identities: [{keyId: alice}]\n", results: keyed([]string{"alice"}, prov), want: policy.OutcomePass, reason: "1 of 1"},
		{name: "wrong key", rule: "    signers:\n      identities: [{keyId: alice}]\n", results: keyed([]string{"mallory"}, prov),
			want: policy.OutcomeFail, reason: "0 of 1", field: "signer", value: "key mallory"},
		{name: "two of three", rule: twoOfThree, results: keyed([]string{"alice", "carol"}, prov, prov), want: policy.OutcomePass, reason: "2 of 2"},
		{name: "same signer twice is one", rule: twoOfThree, results: keyed([]string{"alice", "alice"}, prov, prov),
			want: policy.OutcomeFail, reason: "1 of 2"},
		{name: "one signer matching two identities is one", rule: "    signers:\n      threshold: 2\n      identities:\n        - {issuer: https://token.example, subjectRegexp: \"@acme\\\\.example$\"}\n        - {issuer: https://token.example, subjectRegexp: \"^ci@\"}\n",
			results: func(t *testing.T, k *kit) []*verify.Result {
				return []*verify.Result{k.certResult(t, "ci@acme.example", "https://token.example", build(t, nil))}
			}, want: policy.OutcomeFail, reason: "1 of 2"},
		{name: "two signers matching overlapping identities", rule: "    signers:\n      threshold: 2\n      identities:\n        - {issuer: https://token.example, subjectRegexp: \"@acme\\\\.example$\"}\n        - {issuer: https://token.example, subjectRegexp: \"^ci@\"}\n",
			results: func(t *testing.T, k *kit) []*verify.Result {
				return []*verify.Result{
					k.certResult(t, "ci@acme.example", "https://token.example", build(t, nil)),
					k.certResult(t, "release@acme.example", "https://token.example", build(t, nil)),
				}
			}, want: policy.OutcomePass, reason: "2 of 2"},
		{name: "keyless exact", rule: "    signers:\n      identities:\n        - issuer: https://token.example\n          subject: ci@acme.example\n",
			results: func(t *testing.T, k *kit) []*verify.Result {
				return []*verify.Result{k.certResult(t, "ci@acme.example", "https://token.example", build(t, nil))}
			}, want: policy.OutcomePass, reason: "1 of 1"},
		{name: "keyless regexp", rule: "    signers:\n      identities:\n        - issuerRegexp: ^https://token\\.example$\n          subjectRegexp: ^.*@acme\\.example$\n",
			results: func(t *testing.T, k *kit) []*verify.Result {
				return []*verify.Result{k.certResult(t, "release@acme.example", "https://token.example", build(t, nil))}
			}, want: policy.OutcomePass},
		{name: "keyless wrong subject", rule: "    signers:\n      identities:\n        - issuer: https://token.example\n          subjectRegexp: ^.*@acme\\.example$\n",
			results: func(t *testing.T, k *kit) []*verify.Result {
				return []*verify.Result{k.certResult(t, "eve@evil.example", "https://token.example", build(t, nil))}
			}, want: policy.OutcomeFail, field: "signer", value: "eve@evil.example"},
		{name: "keyless extension mismatch", rule: "    signers:\n      identities:\n        - issuer: https://token.example\n          subject: ci@acme.example\n          extensions: {sourceRepositoryURI: https://github.com/acme/app}\n",
			results: func(t *testing.T, k *kit) []*verify.Result {
				return []*verify.Result{k.certResult(t, "ci@acme.example", "https://token.example", build(t, nil))}
			}, want: policy.OutcomeFail, field: "signer", value: "ci@acme.example"},
		{name: "only the listed predicate types count", rule: "    signers:\n      predicateTypes: [https://slsa.dev/provenance/v1]\n      identities: [{keyId: alice}]\n",
			results: keyed([]string{"mallory", "alice"}, prov, pred(provenance.PredicateSPDX, map[string]any{"spdxVersion": "SPDX-2.3"})),
			want:    policy.OutcomeFail, field: "signer", value: "key mallory"},
	})
}

func TestRequiredAttestationsRule(t *testing.T) {
	rule := "    requiredAttestations:\n      predicateTypes: [https://slsa.dev/provenance/v1, https://spdx.dev/Document]\n"
	runRuleCases(t, []ruleCase{
		{name: "all present", rule: rule, results: keyed([]string{"alice"}, slsaBuild(nil), pred(provenance.PredicateSPDX, map[string]any{"spdxVersion": "SPDX-2.3"})),
			want: policy.OutcomePass, reason: "all 2"},
		{name: "sbom missing", rule: rule, results: keyed([]string{"alice"}, slsaBuild(nil)),
			want: policy.OutcomeFail, reason: "https://spdx.dev/Document", field: "predicateType"},
	})
}

func TestSLSARule(t *testing.T) {
	builders := "    slsa:\n      builders:\n        - id: " + testBuilder + "\n          versions: \">=v2.0.0 <v3.0.0\"\n"
	runRuleCases(t, []ruleCase{
		{name: "builder version in range", rule: builders, results: keyed([]string{"alice"}, slsaBuild(nil)), want: policy.OutcomePass},
		{name: "builder version too old", rule: builders,
			results: keyed([]string{"alice"}, slsaBuild(func(b *provenance.Build) { b.BuilderID = testBuilder + "@refs/tags/v1.9.0" })),
			want:    policy.OutcomeFail, reason: "not allowed", field: "runDetails.builder.id", value: "@refs/tags/v1.9.0"},
		{name: "builder from a branch", rule: builders,
			results: keyed([]string{"alice"}, slsaBuild(func(b *provenance.Build) { b.BuilderID = testBuilder + "@refs/heads/main" })),
			want:    policy.OutcomeFail, field: "runDetails.builder.id", value: "refs/heads/main"},
		{name: "other builder", rule: builders,
			results: keyed([]string{"alice"}, slsaBuild(func(b *provenance.Build) { b.BuilderID = "https://evil.example/builder@refs/tags/v2.0.0" })),
			want:    policy.OutcomeFail, field: "runDetails.builder.id", value: "evil.example"},
		{name: "build type", rule: "    slsa:\n      buildTypes: [https://example.com/other]\n", results: keyed([]string{"alice"}, slsaBuild(nil)),
			want: policy.OutcomeFail, reason: "build type", field: "buildDefinition.buildType", value: testBuildType},
		{name: "source repo and tag range", rule: "    slsa:\n      source:\n        repositories: [git+https://github.com/acme/app.git]\n        tagVersions: \">=1.4.0\"\n",
			results: keyed([]string{"alice"}, slsaBuild(nil)), want: policy.OutcomePass},
		{name: "tag below range", rule: "    slsa:\n      source:\n        tagVersions: \">=v1.5.0\"\n",
			results: keyed([]string{"alice"}, slsaBuild(nil)), want: policy.OutcomeFail, reason: "source ref", field: "resolvedDependencies[0].uri", value: "refs/tags/v1.4.2"},
		{name: "branch pattern", rule: "    slsa:\n      source:\n        branches: [main, release/*]\n",
			results: keyed([]string{"alice"}, slsaBuild(func(b *provenance.Build) {
				b.ResolvedDependencies[0].Uri = "git+" + testRepo + "@refs/heads/release/1.x"
			})), want: policy.OutcomePass},
		{name: "feature branch", rule: "    slsa:\n      source:\n        branches: [main]\n",
			results: keyed([]string{"alice"}, slsaBuild(func(b *provenance.Build) {
				b.ResolvedDependencies[0].Uri = "git+" + testRepo + "@refs/heads/feature/x"
			})), want: policy.OutcomeFail, field: "resolvedDependencies[0].uri", value: "refs/heads/feature/x"},
		{name: "fork repository", rule: "    slsa:\n      source:\n        repositories: [https://github.com/acme/app]\n",
			results: keyed([]string{"alice"}, slsaBuild(func(b *provenance.Build) {
				b.ResolvedDependencies[0].Uri = "git+https://github.com/fork/app@refs/tags/v1.4.2"
			})), want: policy.OutcomeFail, reason: "source repository", value: "github.com/fork/app"},
		{name: "external parameters", rule: "    slsa:\n      externalParameters:\n        workflow.path: .github/workflows/release.yml\n",
			results: keyed([]string{"alice"}, slsaBuild(nil)), want: policy.OutcomePass},
		{name: "external parameter differs", rule: "    slsa:\n      externalParameters:\n        workflow.path: .github/workflows/release.yml\n",
			results: keyed([]string{"alice"}, slsaBuild(func(b *provenance.Build) {
				b.ExternalParameters["workflow"].(map[string]any)["path"] = ".github/workflows/debug.yml"
			})), want: policy.OutcomeFail, field: "externalParameters.workflow.path", value: "debug.yml"},
		{name: "no provenance", rule: builders, results: keyed([]string{"alice"}, pred(provenance.PredicateSPDX, map[string]any{"spdxVersion": "SPDX-2.3"})),
			want: policy.OutcomeFail, reason: "no verified SLSA provenance"},
	})
}

func TestMaterialsRule(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "all pinned", rule: "    materials:\n      requirePinned: true\n", results: keyed([]string{"alice"}, slsaBuild(nil)), want: policy.OutcomePass, reason: "3 dependencies"},
		{name: "unpinned dependency", rule: "    materials:\n      requirePinned: true\n",
			results: keyed([]string{"alice"}, slsaBuild(func(b *provenance.Build) {
				b.ResolvedDependencies = append(b.ResolvedDependencies, &intoto.ResourceDescriptor{Uri: "https://example.com/tool.tar.gz"})
			})), want: policy.OutcomeFail, reason: "not pinned", field: "resolvedDependencies[3].digest", value: "tool.tar.gz"},
		{name: "denied dependency", rule: "    materials:\n      deny: [\"pkg:golang/golang.org/x/*\"]\n", results: keyed([]string{"alice"}, slsaBuild(nil)),
			want: policy.OutcomeFail, reason: "denied", field: "resolvedDependencies[1].uri", value: "golang.org/x/mod"},
		{name: "allow list", rule: "    materials:\n      allow: [\"git+https://github.com/acme/*\", \"pkg:golang/*\", \"cgr.dev/*\"]\n", results: keyed([]string{"alice"}, slsaBuild(nil)), want: policy.OutcomePass},
		{name: "not on allow list", rule: "    materials:\n      allow: [\"git+https://github.com/acme/*\"]\n", results: keyed([]string{"alice"}, slsaBuild(nil)),
			want: policy.OutcomeFail, reason: "allow list", field: "resolvedDependencies[1].uri", value: "pkg:golang"},
		{name: "base image allowed and pinned", rule: "    materials:\n      baseImages: {registries: [cgr.dev], requirePinned: true}\n", results: keyed([]string{"alice"}, slsaBuild(nil)),
			want: policy.OutcomePass, reason: "1 base images"},
		{name: "base image from docker hub", rule: "    materials:\n      baseImages: {registries: [cgr.dev]}\n",
			results: keyed([]string{"alice"}, slsaBuild(func(b *provenance.Build) {
				b.ResolvedDependencies[2] = baseImage(t, "alpine:3.20", strings.Repeat("03", 32))
			})),
			want: policy.OutcomeFail, reason: "registry", field: "resolvedDependencies[2].name", value: "alpine:3.20"},
		{name: "base image by tag", rule: "    materials:\n      baseImages: {requirePinned: true}\n",
			results: keyed([]string{"alice"}, slsaBuild(func(b *provenance.Build) {
				b.ResolvedDependencies[2] = baseImage(t, "cgr.dev/chainguard/static:latest", "")
			})),
			want: policy.OutcomeFail, reason: "not pinned", field: "resolvedDependencies[2].digest", value: "cgr.dev/chainguard/static:latest"},
	})
}

func TestFreshnessRule(t *testing.T) {
	prov := slsaBuild(nil)
	runRuleCases(t, []ruleCase{
		{name: "fresh", rule: "    freshness: {maxAge: 24h}\n", results: keyed([]string{"alice"}, prov), after: time.Hour, want: policy.OutcomePass},
		{name: "too old", rule: "    freshness: {maxAge: 7d}\n", results: keyed([]string{"alice"}, prov), after: 8 * 24 * time.Hour,
			want: policy.OutcomeFail, reason: "more than 168h0m0s", field: "signedAt", value: "20"},
		{name: "before not-before", rule: "    freshness: {notBefore: \"2999-01-01T00:00:00Z\"}\n", results: keyed([]string{"alice"}, prov),
			want: policy.OutcomeFail, reason: "signed before 2999-01-01", field: "signedAt"},
		{name: "no signing time fails closed", rule: "    freshness: {maxAge: 24h}\n",
			results: func(t *testing.T, k *kit) []*verify.Result {
				return []*verify.Result{k.untimedResult(t, "alice", build(t, nil))}
			},
			want: policy.OutcomeFail, reason: "no verified signing time", field: "signedAt"},
		{name: "no signing time allowed", rule: "    freshness: {maxAge: 24h, allowMissingSigningTime: true}\n",
			results: func(t *testing.T, k *kit) []*verify.Result {
				return []*verify.Result{k.untimedResult(t, "alice", build(t, nil))}
			},
			want: policy.OutcomePass},
	})
}

func TestEnvironmentRule(t *testing.T) {
	rule := `    environment:
      forbiddenVariables: ["*_TOKEN", AWS_SECRET_ACCESS_KEY]
      forbiddenValues: ["ghp_[A-Za-z0-9]{36}"]
      requiredParameters: [externalParameters.workflow.ref, internalParameters.github.event_name]
`
	token := "ghp_" + strings.Repeat("x", 36)
	runRuleCases(t, []ruleCase{
		{name: "clean", rule: rule, results: keyed([]string{"alice"}, slsaBuild(nil)), want: policy.OutcomePass},
		{name: "leaked variable", rule: rule,
			results: keyed([]string{"alice"}, slsaBuild(func(b *provenance.Build) {
				b.InternalParameters["env"] = map[string]any{"NPM_TOKEN": "npm_abcdefabcdef"}
			})), want: policy.OutcomeFail, reason: "forbidden variable NPM_TOKEN", field: "internalParameters.env.NPM_TOKEN", value: "redacted"},
		{name: "leaked NAME=value", rule: rule,
			results: keyed([]string{"alice"}, slsaBuild(func(b *provenance.Build) {
				b.ExternalParameters["env"] = []string{"A=1", "aws_secret_access_key=abc123abc123"}
			})), want: policy.OutcomeFail, reason: "forbidden variable aws_secret_access_key", field: "externalParameters.env[1]"},
		{name: "leaked secret value", rule: rule,
			results: keyed([]string{"alice"}, slsaBuild(func(b *provenance.Build) { b.ExternalParameters["inputs"] = map[string]any{"note": token} })),
			want:    policy.OutcomeFail, reason: "forbidden pattern", field: "externalParameters.inputs.note", value: "ghp_…[redacted, 40 chars]"},
		{name: "required parameter missing", rule: rule,
			results: keyed([]string{"alice"}, slsaBuild(func(b *provenance.Build) { delete(b.InternalParameters, "github") })),
			want:    policy.OutcomeFail, reason: "required parameter missing", field: "internalParameters.github.event_name"},
	})
	t.Run("secret never appears in the decision", func(t *testing.T) {
		k := newKit(t)
		p := load(t, oneRule(rule))
		r := k.keyResult(t, "alice", build(t, func(b *provenance.Build) { b.ExternalParameters["x"] = token }))
		d, err := p.Evaluate(artifact, []*verify.Result{r}, time.Now())
		if !errors.Is(err, policy.ErrDenied) {
			t.Fatalf("err = %v", err)
		}
		js, _ := jsonOf(d)
		if strings.Contains(js, token) || strings.Contains(err.Error(), token) {
			t.Fatal("the secret leaked into the decision")
		}
	})
}
