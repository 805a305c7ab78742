package diff_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	v02 "github.com/in-toto/attestation/go/predicates/provenance/v02"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/diff"
)

func rd(name string, set map[string]string) *intoto.ResourceDescriptor {
	return &intoto.ResourceDescriptor{Name: name, Digest: set}
}

func sha(s string) map[string]string {
	return map[string]string{"sha256": digest.FromString(s).Encoded()}
}

func TestSubjects(t *testing.T) {
	both := map[string]string{"sha256": digest.FromString("x").Encoded(), "sha512": digest.SHA512.FromString("x").Encoded()}
	got, err := diff.Subjects(
		[]*intoto.ResourceDescriptor{rd("bin/app", sha("app")), rd("bin/tool", sha("tool")), rd("lib/a.so", both), rd("old", sha("old")),
			{Uri: "https://example.com/x", Digest: sha("u")}, {Digest: sha("anon")}, rd("weird", map[string]string{"sha512": both["sha512"]})},
		[]*intoto.ResourceDescriptor{rd("bin/app", sha("app2")), rd("bin/tool", sha("tool")), rd("lib/a.so", map[string]string{"sha256": both["sha256"]}), rd("new", sha("new")),
			{Uri: "https://example.com/x", Digest: sha("u")}, {Digest: sha("anon")}, rd("weird", sha("w"))},
	)
	require.NoError(t, err)
	assert.Equal(t, []diff.Change{
		{Field: "subjects[bin/app]", Kind: diff.Changed, Baseline: digest.FromString("app").String(), Current: digest.FromString("app2").String()},
		{Field: "subjects[new]", Kind: diff.Added, Current: digest.FromString("new").String()},
		{Field: "subjects[old]", Kind: diff.Removed, Baseline: digest.FromString("old").String()},
		{Field: "subjects[weird]", Kind: diff.Changed, Baseline: "sha512:" + both["sha512"] + diff.NoCommonAlgorithm, Current: digest.FromString("w").String() + diff.NoCommonAlgorithm},
	}, got)
}

func TestSubjectsErrors(t *testing.T) {
	good := []*intoto.ResourceDescriptor{rd("a", sha("a"))}
	for _, tt := range []struct {
		name              string
		baseline, current []*intoto.ResourceDescriptor
		side              string
		index             int
	}{
		{"duplicate name", []*intoto.ResourceDescriptor{rd("a", sha("a")), rd("a", sha("b"))}, good, "baseline", 1},
		{"nil", good, []*intoto.ResourceDescriptor{nil}, "current", 0},
		{"anonymous", good, []*intoto.ResourceDescriptor{rd("a", sha("a")), {}}, "current", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := diff.Subjects(tt.baseline, tt.current)
			require.ErrorIs(t, err, diff.ErrInvalidDescriptor)
			var de *diff.DescriptorError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.side, de.Side)
			assert.Equal(t, tt.index, de.Index)
		})
	}
}

// slsaV1 returns a SLSA v1 statement; edit changes its build before the statement is made.
func slsaV1(t *testing.T, edit func(*provenance.Build)) *intoto.Statement {
	t.Helper()
	b := &provenance.Build{
		BuildType: "https://example.com/build/v1",
		ExternalParameters: map[string]any{
			"workflow": map[string]any{"ref": "refs/heads/main", "path": ".github/workflows/release.yml"},
			"args":     []string{"-trimpath"},
			"debug":    false,
		},
		ResolvedDependencies: []*intoto.ResourceDescriptor{
			{Uri: "git+https://github.com/example/app@refs/heads/main", Digest: map[string]string{"gitCommit": strings.Repeat("a", 40)}},
			{Uri: "pkg:golang/golang.org/x/text@v0.3.0", Digest: sha("text")},
		},
		BuilderID: "https://github.com/actions/runner",
	}
	if edit != nil {
		edit(b)
	}
	st, err := b.Statement([]*intoto.ResourceDescriptor{rd("app", sha("app"))})
	require.NoError(t, err)
	return st
}

func TestProvenance(t *testing.T) {
	tests := []struct {
		name string
		edit func(*provenance.Build)
		want []diff.Change
	}{
		{"identical", nil, nil},
		{"builder and build type", func(b *provenance.Build) {
			b.BuilderID = "https://ci.example/runner"
			b.BuildType = "https://example.com/build/v2"
		}, []diff.Change{
			{Field: "buildType", Kind: diff.Changed, Baseline: "https://example.com/build/v1", Current: "https://example.com/build/v2"},
			{Field: "builder.id", Kind: diff.Changed, Baseline: "https://github.com/actions/runner", Current: "https://ci.example/runner"},
		}},
		{"source and parameters", func(b *provenance.Build) {
			b.ResolvedDependencies[0] = &intoto.ResourceDescriptor{Uri: "git+https://github.com/fork/app@refs/heads/dev", Digest: map[string]string{"gitCommit": strings.Repeat("b", 40)}}
			b.ExternalParameters["workflow"] = map[string]any{"ref": "refs/heads/dev", "path": ".github/workflows/release.yml"}
			b.ExternalParameters["args"] = []string{"-trimpath", "-race"}
			b.ExternalParameters["debug"] = true
		}, []diff.Change{
			{Field: "externalParameters.args[1]", Kind: diff.Added, Current: "-race"},
			{Field: "externalParameters.debug", Kind: diff.Changed, Baseline: "false", Current: "true"},
			{Field: "externalParameters.workflow.ref", Kind: diff.Changed, Baseline: "refs/heads/main", Current: "refs/heads/dev"},
			{Field: "materials[git+https://github.com/example/app@refs/heads/main]", Kind: diff.Removed, Baseline: "gitCommit:" + strings.Repeat("a", 40)},
			{Field: "materials[git+https://github.com/fork/app@refs/heads/dev]", Kind: diff.Added, Current: "gitCommit:" + strings.Repeat("b", 40)},
			{Field: "source.commit", Kind: diff.Changed, Baseline: strings.Repeat("a", 40), Current: strings.Repeat("b", 40)},
			{Field: "source.ref", Kind: diff.Changed, Baseline: "refs/heads/main", Current: "refs/heads/dev"},
			{Field: "source.repository", Kind: diff.Changed, Baseline: "github.com/example/app", Current: "github.com/fork/app"},
		}},
		{"one repository and commit spelled another way", func(b *provenance.Build) {
			b.ResolvedDependencies[0] = &intoto.ResourceDescriptor{Uri: "git+ssh://git@github.com/Example/app.git@refs/heads/main", Digest: map[string]string{"gitCommit": strings.Repeat("A", 40)}}
		}, []diff.Change{
			{Field: "materials[git+https://github.com/example/app@refs/heads/main]", Kind: diff.Removed, Baseline: "gitCommit:" + strings.Repeat("a", 40)},
			{Field: "materials[git+ssh://git@github.com/Example/app.git@refs/heads/main]", Kind: diff.Added, Current: "gitCommit:" + strings.Repeat("A", 40)},
		}},
		{"parameter types and dotted keys", func(b *provenance.Build) {
			b.ExternalParameters["debug"] = "false"
			b.ExternalParameters["workflow.ref"] = "refs/heads/main"
		}, []diff.Change{
			{Field: "externalParameters.debug", Kind: diff.Changed, Baseline: "false", Current: `"false"`},
			{Field: `externalParameters["workflow.ref"]`, Kind: diff.Added, Current: "refs/heads/main"},
		}},
		{"material digest", func(b *provenance.Build) {
			b.ResolvedDependencies[1] = &intoto.ResourceDescriptor{Uri: "pkg:golang/golang.org/x/text@v0.3.0", Digest: sha("evil")}
		}, []diff.Change{
			{Field: "materials[pkg:golang/golang.org/x/text@v0.3.0]", Kind: diff.Changed, Baseline: digest.FromString("text").String(), Current: digest.FromString("evil").String()},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := diff.Provenance(slsaV1(t, nil), slsaV1(t, tt.edit))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestProvenanceV02AgainstV1(t *testing.T) {
	params, err := structpb.NewStruct(map[string]any{
		"workflow": map[string]any{"ref": "refs/heads/main", "path": ".github/workflows/release.yml"},
		"args":     []any{"-trimpath"},
		"debug":    false,
	})
	require.NoError(t, err)
	p := &v02.Provenance{
		Builder:    &v02.Builder{Id: "https://github.com/actions/runner"},
		BuildType:  "https://example.com/build/v1",
		Invocation: &v02.Invocation{Parameters: params},
		Materials: []*v02.Material{
			{Uri: "git+https://github.com/example/app@refs/heads/main", Digest: map[string]string{"sha1": strings.Repeat("a", 40)}},
			{Uri: "pkg:golang/golang.org/x/text@v0.3.0", Digest: sha("text")},
		},
	}
	old, err := provenance.NewStatement([]*intoto.ResourceDescriptor{rd("app", sha("app"))}, provenance.PredicateSLSAProvenanceV02, p)
	require.NoError(t, err)
	got, err := diff.Provenance(old, slsaV1(t, nil))
	require.NoError(t, err)
	// The facts agree; the version and the algorithm naming the commit differ.
	assert.Equal(t, []diff.Change{
		{Field: "materials[git+https://github.com/example/app@refs/heads/main]", Kind: diff.Changed,
			Baseline: "sha1:" + strings.Repeat("a", 40) + diff.NoCommonAlgorithm, Current: "gitCommit:" + strings.Repeat("a", 40) + diff.NoCommonAlgorithm},
		{Field: "predicateType", Kind: diff.Changed, Baseline: provenance.PredicateSLSAProvenanceV02, Current: provenance.PredicateSLSAProvenanceV1},
	}, got)
}

func TestProvenanceOtherPredicates(t *testing.T) {
	sbom := func(v string) *intoto.Statement {
		st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{rd("app", sha("app"))}, provenance.PredicateSPDX, map[string]any{"spdxVersion": v})
		require.NoError(t, err)
		return st
	}
	got, err := diff.Provenance(sbom("SPDX-2.3"), sbom("SPDX-2.3"))
	require.NoError(t, err)
	assert.Nil(t, got)

	got, err = diff.Provenance(sbom("SPDX-2.3"), sbom("SPDX-2.2"))
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "predicate", got[0].Field)
	assert.True(t, strings.HasPrefix(got[0].Baseline, "sha256:") && strings.HasSuffix(got[0].Baseline, " bytes)"), got[0].Baseline)

	got, err = diff.Provenance(sbom("SPDX-2.3"), slsaV1(t, nil))
	require.NoError(t, err)
	assert.Equal(t, []string{"predicate", "predicateType"}, []string{got[0].Field, got[1].Field})
}

func TestProvenanceErrors(t *testing.T) {
	bad, err := provenance.NewStatement([]*intoto.ResourceDescriptor{rd("app", sha("app"))}, provenance.PredicateSLSAProvenanceV1,
		map[string]any{"buildDefinition": "not an object"})
	require.NoError(t, err)
	_, err = diff.Provenance(slsaV1(t, nil), bad)
	require.ErrorIs(t, err, diff.ErrInvalidPredicate)
	require.ErrorIs(t, err, provenance.ErrInvalidPredicate)
	var pe *diff.PredicateError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "current", pe.Side)

	bad, err = provenance.NewStatement([]*intoto.ResourceDescriptor{rd("app", sha("app"))}, provenance.PredicateSLSAProvenanceV02,
		map[string]any{"builder": "not an object"})
	require.NoError(t, err)
	_, err = diff.Provenance(bad, slsaV1(t, nil))
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "baseline", pe.Side)

	_, err = diff.Provenance(nil, slsaV1(t, nil))
	require.ErrorIs(t, err, diff.ErrInvalidStatement)
}

func TestReportText(t *testing.T) {
	r := &diff.Report{Schema: diff.ReportSchema, Baseline: "registry.example/app@prod", Current: "registry.example/app:latest", Changes: []diff.Change{
		{Field: "config.env.DEBUG", Kind: diff.Added, Current: "1"},
		{Field: "config.exposedPorts.22/tcp", Kind: diff.Added},
		{Field: "config.user", Kind: diff.Changed, Baseline: "app", Current: "root"},
		{Field: "config.labels.evil\x1b[2J", Kind: diff.Changed, Baseline: "a", Current: "b\r\nc\u202e"},
		{Field: "layers[3]", Kind: diff.Removed, Baseline: "sha256:abc"},
		{Field: "config.env.X", Kind: diff.Changed, Baseline: " padded", Current: ""},
	}}
	var buf bytes.Buffer
	require.NoError(t, r.WriteText(&buf))
	assert.Equal(t, `baseline registry.example/app@prod, current registry.example/app:latest: 6 differences
+ config.env.DEBUG: 1
+ config.exposedPorts.22/tcp
~ config.user: app -> root
~ "config.labels.evil\x1b[2J": a -> "b\r\nc\u202e"
- layers[3]: sha256:abc
~ config.env.X: " padded" -> ""
`, buf.String())
	assert.True(t, r.Drifted())

	buf.Reset()
	clean := &diff.Report{Schema: diff.ReportSchema, Baseline: "a", Current: "b"}
	require.NoError(t, clean.WriteText(&buf))
	assert.Equal(t, "baseline a, current b: no differences\n", buf.String())
	assert.False(t, clean.Drifted())

	data, err := json.Marshal(clean)
	require.NoError(t, err)
	assert.JSONEq(t, `{"schema":"https://provkit.dev/diff/v1","baseline":"a","current":"b","changes":[]}`, string(data))
	data, err = json.Marshal(r)
	require.NoError(t, err)
	var back diff.Report
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, *r, back)

	require.Error(t, r.WriteText(failingWriter{}))
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
