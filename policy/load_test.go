package policy_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
)

const header = "apiVersion: provkit.dev/policy/v1\nkind: Policy\nmetadata:\n  name: test\n"

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name    string
		doc     string
		line    int
		field   string // substring of LoadError.Field
		msg     string // substring of the message
		version bool   // wraps ErrUnsupportedVersion
	}{
		{name: "wrong apiVersion", doc: "apiVersion: provkit.dev/policy/v2\nkind: Policy\n", line: 1, field: "apiVersion", msg: "not supported", version: true},
		{name: "wrong kind", doc: "apiVersion: provkit.dev/policy/v1\nkind: Gate\n", line: 2, field: "kind", version: true},
		{name: "unknown top-level field", doc: header + "ruless: []\n", line: 5, msg: "ruless"},
		{name: "unknown rule field", doc: header + "rules:\n  - name: a\n    signers:\n      identities: [{keyId: a}]\n      treshold: 2\n", line: 9, field: "rules[0].signers.treshold", msg: "treshold"},
		{name: "wrong type", doc: header + "rules:\n  - name: a\n    signers:\n      threshold: two\n      identities: [{keyId: a}]\n", line: 8, field: "rules[0].signers.threshold", msg: "\"two\" is not an integer"},
		{name: "no name", doc: "apiVersion: provkit.dev/policy/v1\nkind: Policy\n", field: "metadata.name", msg: "required"},
		{name: "two kinds in a rule", doc: header + "rules:\n  - name: a\n    freshness: {maxAge: 1h}\n    cel: {expression: \"true\"}\n", line: 6, field: "rules[0]", msg: "exactly one"},
		{name: "duplicate rule", doc: header + "rules:\n  - name: a\n    freshness: {maxAge: 1h}\n  - name: a\n    freshness: {maxAge: 1h}\n", line: 8, field: "rules[1].name", msg: "duplicate"},
		{name: "bad regexp", doc: header + "rules:\n  - name: a\n    signers:\n      identities:\n        - issuer: x\n          subjectRegexp: \"([\"\n", line: 10, field: "subjectRegexp", msg: "regular expression"},
		{name: "bad version range", doc: header + "rules:\n  - name: a\n    slsa:\n      builders:\n        - id: https://b\n          versions: \">=banana\"\n", line: 10, field: "builders[0].versions", msg: "banana"},
		{name: "bad duration", doc: header + "rules:\n  - name: a\n    freshness:\n      maxAge: soon\n", line: 8, field: "freshness.maxAge"},
		{name: "bad severity", doc: header + "rules:\n  - name: a\n    vulnerabilities: {failAt: severe}\n", line: 7, field: "failAt", msg: "severe"},
		{name: "cel syntax", doc: header + "rules:\n  - name: a\n    cel:\n      expression: \"predicate.x ==\"\n", line: 8, field: "cel.expression"},
		{name: "cel undeclared", doc: header + "rules:\n  - name: a\n    cel:\n      expression: secrets.x == 1\n", line: 8, field: "cel.expression", msg: "undeclared"},
		{name: "cel not bool", doc: header + "rules:\n  - name: a\n    cel:\n      expression: predicateType\n", line: 8, field: "cel.expression", msg: "not bool"},
		{name: "unknown extension", doc: header + "rules:\n  - name: a\n    signers:\n      identities:\n        - {issuer: x, subject: y, extensions: {repo: z}}\n", line: 9, field: "extensions.repo", msg: "unknown certificate extension"},
		{name: "environment names a missing rule", doc: header + "rules:\n  - name: a\n    freshness: {maxAge: 1h}\nenvironments:\n  prod:\n    rules:\n      b: enforce\n", line: 11, field: "environments.prod.rules.b", msg: "no rule named"},
		{name: "bad mode", doc: header + "rules:\n  - name: a\n    freshness: {maxAge: 1h}\nenvironments:\n  prod:\n    rules:\n      a: sometimes\n", line: 11, field: "environments.prod.rules.a"},
		{name: "threshold over identities", doc: header + "rules:\n  - name: a\n    signers:\n      threshold: 3\n      identities: [{keyId: a}, {keyId: b}]\n", line: 8, field: "threshold"},
		{name: "cost limit out of range", doc: header + "celCostLimit: 0\n", line: 5, field: "celCostLimit"},
		{name: "anchors refused", doc: header + "rules:\n  - &r\n    name: a\n    freshness: {maxAge: 1h}\n", line: 6, msg: "anchors"},
		{name: "two documents", doc: header + "---\n" + header, msg: "exactly one document"},
		{name: "syntax error", doc: "apiVersion: [\n", line: 1},
		{name: "json unknown field", doc: `{"apiVersion": "provkit.dev/policy/v1", "kind": "Policy", "metadata": {"name": "j"}, "rules": [{"name": "a", "freshness": {"maxAge": "1h", "oops": 1}}]}`, line: 1, msg: "oops"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := policy.Load(strings.NewReader(c.doc))
			var le *policy.LoadError
			if !errors.As(err, &le) || !errors.Is(err, policy.ErrInvalidPolicy) {
				t.Fatalf("err = %v (%T), want a *LoadError wrapping ErrInvalidPolicy", err, err)
			}
			if c.line != 0 && le.Line != c.line {
				t.Errorf("line %d, want %d (%v)", le.Line, c.line, err)
			}
			if !strings.Contains(le.Field, c.field) {
				t.Errorf("field %q does not contain %q (%v)", le.Field, c.field, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("%q does not contain %q", err.Error(), c.msg)
			}
			if errors.Is(err, policy.ErrUnsupportedVersion) != c.version {
				t.Errorf("ErrUnsupportedVersion = %v, want %v", !c.version, c.version)
			}
		})
	}
}

func TestLoadTooLarge(t *testing.T) {
	doc := header + "# " + strings.Repeat("x", policy.MaxPolicyBytes) + "\n"
	_, err := policy.Load(strings.NewReader(doc))
	var se *provenance.SizeError
	if !errors.As(err, &se) || !errors.Is(err, provenance.ErrTooLarge) || !errors.Is(err, policy.ErrInvalidPolicy) {
		t.Fatalf("err = %v, want a SizeError inside a LoadError", err)
	}
}

func TestLoadJSONAndYAMLAgree(t *testing.T) {
	y := load(t, header+"rules:\n  - name: fresh\n    freshness: {maxAge: 1h}\nenvironments:\n  prod: {defaultMode: enforce}\n")
	j := load(t, `{"apiVersion":"provkit.dev/policy/v1","kind":"Policy","metadata":{"name":"test"},"rules":[{"name":"fresh","freshness":{"maxAge":"1h"}}],"environments":{"prod":{"defaultMode":"enforce"}}}`)
	if y.Name() != j.Name() || strings.Join(y.Rules(), ",") != strings.Join(j.Rules(), ",") || strings.Join(y.Environments(), ",") != strings.Join(j.Environments(), ",") {
		t.Fatalf("YAML %v %v and JSON %v %v differ", y.Rules(), y.Environments(), j.Rules(), j.Environments())
	}
	if y.Digest() == j.Digest() || y.Digest().Validate() != nil {
		t.Fatalf("digests %s %s: want distinct valid digests of the bytes", y.Digest(), j.Digest())
	}
}

// TestPackageDocPolicyLoads keeps the policy shown in doc.go valid.
func TestPackageDocPolicyLoads(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(src), "\n") {
		if rest, ok := strings.CutPrefix(l, "//\t"); ok {
			lines = append(lines, rest)
		}
	}
	p, err := policy.Load(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatalf("the policy in doc.go does not load: %v", err)
	}
	if len(p.Rules()) != 8 || strings.Join(p.Environments(), ",") != "dev,prod" {
		t.Fatalf("rules %v environments %v", p.Rules(), p.Environments())
	}
}
