package provenance_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	vsa "github.com/in-toto/attestation/go/predicates/vsa/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
)

const hexA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func subject(name string) *intoto.ResourceDescriptor {
	return &intoto.ResourceDescriptor{Name: name, Digest: map[string]string{"sha256": hexA}}
}

func TestNewStatementPredicateKinds(t *testing.T) {
	structBody, err := structpb.NewStruct(map[string]any{"k": "v"})
	require.NoError(t, err)
	tests := []struct {
		name      string
		predicate any
		wantKey   string
	}{
		{"struct", structBody, "k"},
		{"proto message", &vsa.VerificationSummary{VerificationResult: "PASSED"}, "verificationResult"},
		{"raw JSON", json.RawMessage(`{"bomFormat":"CycloneDX"}`), "bomFormat"},
		{"bytes", []byte(`{"spdxVersion":"SPDX-2.3"}`), "spdxVersion"},
		{"Go value", map[string]any{"scanner": map[string]any{"uri": "pkg:github/aquasecurity/trivy"}}, "scanner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{subject("app")}, "https://example.com/p", tt.predicate)
			require.NoError(t, err)
			assert.Equal(t, provenance.StatementTypeV1, st.GetType())
			assert.Contains(t, st.GetPredicate().GetFields(), tt.wantKey)
		})
	}
}

func TestNewStatementErrors(t *testing.T) {
	ok := map[string]any{"a": 1}
	tests := []struct {
		name          string
		subjects      []*intoto.ResourceDescriptor
		predicateType string
		predicate     any
		want          error
	}{
		{"no subjects", nil, "https://p", ok, provenance.ErrNoSubjects},
		{"no predicate type", []*intoto.ResourceDescriptor{subject("a")}, "", ok, provenance.ErrMissingField},
		{"nil predicate", []*intoto.ResourceDescriptor{subject("a")}, "https://p", nil, provenance.ErrMissingField},
		{"predicate is an array", []*intoto.ResourceDescriptor{subject("a")}, "https://p", json.RawMessage(`[1,2]`), provenance.ErrInvalidPredicate},
		{"predicate is not JSON", []*intoto.ResourceDescriptor{subject("a")}, "https://p", []byte(`{nope`), provenance.ErrInvalidPredicate},
		{"predicate cannot be encoded", []*intoto.ResourceDescriptor{subject("a")}, "https://p", map[string]any{"c": make(chan int)}, provenance.ErrInvalidPredicate},
		{"subject digest too short", []*intoto.ResourceDescriptor{{Name: "a", Digest: map[string]string{"sha256": "abcd"}}}, "https://p", ok, provenance.ErrInvalidDigest},
		{"subject digest not hex", []*intoto.ResourceDescriptor{{Name: "a", Digest: map[string]string{"sha256": strings.Repeat("z", 64)}}}, "https://p", ok, provenance.ErrInvalidDigest},
		{"subject without digest", []*intoto.ResourceDescriptor{{Name: "a"}}, "https://p", ok, provenance.ErrInvalidDigest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := provenance.NewStatement(tt.subjects, tt.predicateType, tt.predicate)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestMissingFieldNamesTheField(t *testing.T) {
	_, err := provenance.NewStatement([]*intoto.ResourceDescriptor{subject("a")}, "", map[string]any{})
	var mf *provenance.MissingFieldError
	require.ErrorAs(t, err, &mf)
	assert.Equal(t, "predicateType", mf.Field)
}

func TestMarshalIsCanonicalAndStable(t *testing.T) {
	build := func() *intoto.Statement {
		st, err := provenance.NewStatement(
			[]*intoto.ResourceDescriptor{subject("b"), subject("a")},
			"https://example.com/p",
			map[string]any{"z": 1, "a": "<tag>&", "m": map[string]any{"y": true, "b": []any{3, "x"}}},
		)
		require.NoError(t, err)
		return st
	}
	first, err := provenance.Marshal(build())
	require.NoError(t, err)
	for range 20 {
		again, err := provenance.Marshal(build())
		require.NoError(t, err)
		require.Equal(t, string(first), string(again))
	}
	s := string(first)
	assert.NotContains(t, s, " ", "no insignificant white space")
	assert.NotContains(t, s, "\n")
	assert.Contains(t, s, `"<tag>&"`, "no HTML escaping")
	assert.Less(t, strings.Index(s, `"_type"`), strings.Index(s, `"predicate"`), "keys sorted")
	assert.Less(t, strings.Index(s, `"a":"<tag>&"`), strings.Index(s, `"z":1`), "nested keys sorted")

	back, err := provenance.ParseStatement(first)
	require.NoError(t, err)
	again, err := provenance.Marshal(back)
	require.NoError(t, err)
	assert.Equal(t, string(first), string(again), "parse then marshal is a fixed point")
}

func TestMarshalRejectsInvalid(t *testing.T) {
	_, err := provenance.Marshal(nil)
	assert.ErrorIs(t, err, provenance.ErrInvalidStatement)
	_, err = provenance.Marshal(&intoto.Statement{Type: provenance.StatementTypeV1, PredicateType: "x", Predicate: &structpb.Struct{}})
	assert.ErrorIs(t, err, provenance.ErrNoSubjects)
}

func TestParseStatement(t *testing.T) {
	v1 := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + hexA + `"}}],"predicateType":"https://p","predicate":{"x":1}}`
	v01 := strings.Replace(v1, "Statement/v1", "Statement/v0.1", 1)
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"v1", v1, nil},
		{"v0.1 as cosign writes it", v01, nil},
		{"unknown fields ignored", strings.Replace(v1, `"predicate":`, `"extra":{"a":1},"predicate":`, 1), nil},
		{"wrong type", strings.Replace(v1, "Statement/v1", "Statement/v9", 1), provenance.ErrInvalidStatement},
		{"not JSON", `{"_type":`, provenance.ErrInvalidStatement},
		{"empty", ``, provenance.ErrInvalidStatement},
		{"no subject", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"p","predicate":{}}`, provenance.ErrNoSubjects},
		{"bad digest", strings.Replace(v1, hexA, "xyz", 1), provenance.ErrInvalidDigest},
		{"no predicate", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + hexA + `"}}],"predicateType":"p"}`, provenance.ErrMissingField},
		{"predicate not an object", strings.Replace(v1, `{"x":1}`, `[1]`, 1), provenance.ErrInvalidStatement},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := provenance.ParseStatement([]byte(tt.in))
			if tt.want == nil {
				require.NoError(t, err)
				assert.Equal(t, "https://p", st.GetPredicateType())
				return
			}
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestParseStatementSizeLimit(t *testing.T) {
	big := make([]byte, provenance.MaxStatementBytes+1)
	_, err := provenance.ParseStatement(big)
	var se *provenance.SizeError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, provenance.ErrTooLarge)
	assert.Equal(t, int64(provenance.MaxStatementBytes), se.Limit)
	assert.Equal(t, int64(len(big)), se.Size)
}

func TestDecodePredicate(t *testing.T) {
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{subject("a")}, provenance.PredicateSLSAVSAV1,
		&vsa.VerificationSummary{VerificationResult: "PASSED", Verifier: &vsa.VerificationSummary_Verifier{Id: "https://verifier"}})
	require.NoError(t, err)

	var typed vsa.VerificationSummary
	require.NoError(t, provenance.DecodePredicate(st, &typed))
	assert.Equal(t, "PASSED", typed.GetVerificationResult())

	var plain struct {
		Verifier struct {
			ID string `json:"id"`
		} `json:"verifier"`
	}
	require.NoError(t, provenance.DecodePredicate(st, &plain))
	assert.Equal(t, "https://verifier", plain.Verifier.ID)

	var wrongShape struct{ Verifier string }
	assert.ErrorIs(t, provenance.DecodePredicate(st, &wrongShape), provenance.ErrInvalidPredicate)
	assert.ErrorIs(t, provenance.DecodePredicate(&intoto.Statement{}, &plain), provenance.ErrMissingField)
}

func validBuild() *provenance.Build {
	return &provenance.Build{
		BuildType:          "https://provkit.dev/build/v1",
		ExternalParameters: map[string]any{"source": "git+https://example.com/app@refs/heads/main", "flags": []string{"-trimpath"}},
		InternalParameters: map[string]any{"env": map[string]string{"GOOS": "linux"}},
		ResolvedDependencies: []*intoto.ResourceDescriptor{{
			Uri:    "git+https://example.com/app@refs/tags/v1.2.3",
			Digest: map[string]string{"gitCommit": "0123456789abcdef0123456789abcdef01234567"},
		}},
		BuilderID:      "https://example.com/builder",
		BuilderVersion: map[string]string{"go": "go1.26"},
		InvocationID:   "https://example.com/runs/42",
		StartedOn:      time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		FinishedOn:     time.Date(2026, 1, 2, 3, 9, 5, 0, time.UTC),
	}
}

func TestBuildPredicate(t *testing.T) {
	p, err := validBuild().Predicate()
	require.NoError(t, err)
	assert.Equal(t, "https://provkit.dev/build/v1", p.GetBuildDefinition().GetBuildType())
	assert.Equal(t, "https://example.com/builder", p.GetRunDetails().GetBuilder().GetId())
	assert.Equal(t, "https://example.com/runs/42", p.GetRunDetails().GetMetadata().GetInvocationId())
	assert.Equal(t, int64(1767323045), p.GetRunDetails().GetMetadata().GetStartedOn().GetSeconds())
	flags := p.GetBuildDefinition().GetExternalParameters().GetFields()["flags"].GetListValue().GetValues()
	require.Len(t, flags, 1)
	assert.Equal(t, "-trimpath", flags[0].GetStringValue())

	st, err := validBuild().Statement([]*intoto.ResourceDescriptor{subject("app")})
	require.NoError(t, err)
	assert.Equal(t, provenance.PredicateSLSAProvenanceV1, st.GetPredicateType())
	back, err := provenance.SLSAProvenance(st)
	require.NoError(t, err)
	assert.Equal(t, p.GetRunDetails().GetBuilder().GetId(), back.GetRunDetails().GetBuilder().GetId())
}

func TestBuildMissingFields(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*provenance.Build)
		field string
	}{
		{"build type", func(b *provenance.Build) { b.BuildType = "" }, "buildDefinition.buildType"},
		{"external parameters", func(b *provenance.Build) { b.ExternalParameters = nil }, "buildDefinition.externalParameters"},
		{"empty external parameters", func(b *provenance.Build) { b.ExternalParameters = map[string]any{} }, "buildDefinition.externalParameters"},
		{"builder id", func(b *provenance.Build) { b.BuilderID = "" }, "runDetails.builder.id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := validBuild()
			tt.edit(b)
			_, err := b.Predicate()
			var mf *provenance.MissingFieldError
			require.ErrorAs(t, err, &mf)
			assert.Equal(t, tt.field, mf.Field)
			assert.ErrorIs(t, err, provenance.ErrMissingField)
		})
	}
}

func TestBuildInvalidDependency(t *testing.T) {
	b := validBuild()
	b.ResolvedDependencies = append(b.ResolvedDependencies, &intoto.ResourceDescriptor{})
	_, err := b.Predicate()
	assert.ErrorIs(t, err, provenance.ErrInvalidPredicate)
}

func TestSLSAProvenanceWrongType(t *testing.T) {
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{subject("a")}, provenance.PredicateSPDX, map[string]any{})
	require.NoError(t, err)
	_, err = provenance.SLSAProvenance(st)
	assert.ErrorIs(t, err, provenance.ErrInvalidPredicate)
}

func TestImageAnnotations(t *testing.T) {
	b := validBuild()
	role := func(r string) *structpb.Struct {
		s, _ := structpb.NewStruct(map[string]any{provenance.AnnotationRole: r})
		return s
	}
	b.ResolvedDependencies[0].Annotations = role(provenance.RoleSource)
	b.ResolvedDependencies = append(b.ResolvedDependencies, &intoto.ResourceDescriptor{
		Name: "docker.io/library/alpine", Digest: map[string]string{"sha256": hexA}, Annotations: role(provenance.RoleBaseImage),
	})
	p, err := b.Predicate()
	require.NoError(t, err)
	got := provenance.ImageAnnotations(p)
	assert.Equal(t, map[string]string{
		"org.opencontainers.image.source":      "https://example.com/app",
		"org.opencontainers.image.revision":    "0123456789abcdef0123456789abcdef01234567",
		"org.opencontainers.image.version":     "v1.2.3",
		"org.opencontainers.image.ref.name":    "v1.2.3",
		"org.opencontainers.image.created":     "2026-01-02T03:09:05Z",
		"org.opencontainers.image.base.name":   "docker.io/library/alpine",
		"org.opencontainers.image.base.digest": "sha256:" + hexA,
	}, got)

	assert.Empty(t, provenance.ImageAnnotations(&slsa.Provenance{}))
}

func TestSplitGitURI(t *testing.T) {
	tests := []struct{ in, url, ref string }{
		{"git+https://github.com/o/r@refs/heads/main", "https://github.com/o/r", "refs/heads/main"},
		{"git+https://github.com/o/r", "https://github.com/o/r", ""},
		{"git+ssh://git@github.com/o/r", "ssh://git@github.com/o/r", ""},
		{"git+ssh://git@github.com/o/r@refs/tags/v1", "ssh://git@github.com/o/r", "refs/tags/v1"},
		{"git+git@github.com:o/r@refs/heads/x", "git@github.com:o/r", "refs/heads/x"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			url, ref := provenance.SplitGitURI(tt.in)
			assert.Equal(t, tt.url, url)
			assert.Equal(t, tt.ref, ref)
			assert.Equal(t, tt.in, provenance.GitURI(url, ref))
		})
	}
}

func TestClockFromEnv(t *testing.T) {
	c, err := provenance.ClockFromEnv(map[string]string{"SOURCE_DATE_EPOCH": "1700000000"})
	require.NoError(t, err)
	assert.Equal(t, time.Unix(1700000000, 0).UTC(), c())

	c, err = provenance.ClockFromEnv(map[string]string{})
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), c(), time.Minute)

	for _, bad := range []string{"-1", "yesterday", "1.5"} {
		_, err := provenance.ClockFromEnv(map[string]string{"SOURCE_DATE_EPOCH": bad})
		assert.ErrorIs(t, err, provenance.ErrSourceDateEpoch, bad)
		assert.Contains(t, err.Error(), bad)
	}
}

func TestSentinelsAreDistinct(t *testing.T) {
	all := []error{provenance.ErrNoSubjects, provenance.ErrInvalidDigest, provenance.ErrMissingField,
		provenance.ErrInvalidPredicate, provenance.ErrInvalidStatement, provenance.ErrTooLarge,
		provenance.ErrNotFound, provenance.ErrOutsideTree, provenance.ErrSourceDateEpoch}
	for i, a := range all {
		for j, b := range all {
			if i != j && errors.Is(a, b) {
				t.Errorf("%v matches %v", a, b)
			}
		}
	}
}
