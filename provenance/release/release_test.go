package release_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/release"
)

func sha(s string) map[string]string {
	return map[string]string{"sha256": digest.FromString(s).Encoded()}
}

func validRecord(t testing.TB) *release.Record {
	t.Helper()
	image, err := provenance.SubjectFromDescriptor("registry.example/shop/api",
		ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("api manifest")})
	require.NoError(t, err)
	annotations, err := structpb.NewStruct(map[string]any{"kind": "values"})
	require.NoError(t, err)
	return &release.Record{
		Image:       image,
		Environment: "prod",
		Configuration: []*intoto.ResourceDescriptor{
			{Name: "charts/api-1.4.0.tgz", Digest: sha("chart"), MediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip"},
			{Name: "values/prod.yaml", Uri: "https://git.example/shop/deploy/values/prod.yaml", Digest: sha("values"), Annotations: annotations},
		},
		Approval: release.Approval{
			By:        "release-managers@example.com",
			On:        time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC),
			Reference: "https://tickets.example/CHG-1234",
			Decision:  &intoto.ResourceDescriptor{Uri: "https://policy.example/decisions/77", Digest: sha("vsa")},
		},
		ReleasedOn: time.Date(2026, 5, 1, 10, 0, 0, 123456789, time.UTC),
	}
}

func equalRecords(t *testing.T, want, got *release.Record) {
	t.Helper()
	assert.True(t, proto.Equal(want.Image, got.Image), "image %v != %v", want.Image, got.Image)
	require.Len(t, got.Configuration, len(want.Configuration))
	for i := range want.Configuration {
		assert.True(t, proto.Equal(want.Configuration[i], got.Configuration[i]), "configuration[%d] %v != %v", i, want.Configuration[i], got.Configuration[i])
	}
	assert.True(t, proto.Equal(want.Approval.Decision, got.Approval.Decision), "decision %v != %v", want.Approval.Decision, got.Approval.Decision)
	assert.Equal(t, want.Environment, got.Environment)
	assert.Equal(t, want.Approval.By, got.Approval.By)
	assert.Equal(t, want.Approval.Reference, got.Approval.Reference)
	assert.True(t, want.Approval.On.Equal(got.Approval.On))
	assert.True(t, want.ReleasedOn.Equal(got.ReleasedOn))
}

func TestRoundTrip(t *testing.T) {
	minimal := validRecord(t)
	minimal.Approval.Reference, minimal.Approval.Decision = "", nil
	minimal.Configuration = minimal.Configuration[:1]
	for name, r := range map[string]*release.Record{"full": validRecord(t), "minimal": minimal} {
		t.Run(name, func(t *testing.T) {
			st, err := r.Statement()
			require.NoError(t, err)
			assert.Equal(t, release.PredicateType, st.GetPredicateType())
			require.Len(t, st.GetSubject(), 1)
			assert.True(t, proto.Equal(r.Image, st.GetSubject()[0]))

			data, err := provenance.Marshal(st)
			require.NoError(t, err)
			back, err := provenance.ParseStatement(data)
			require.NoError(t, err)
			got, err := release.Parse(back)
			require.NoError(t, err)
			equalRecords(t, r, got)

			again, err := got.Statement()
			require.NoError(t, err)
			data2, err := provenance.Marshal(again)
			require.NoError(t, err)
			assert.Equal(t, string(data), string(data2))
		})
	}
}

func TestStatementErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*release.Record)
		is    error
		field string
	}{
		{"no image", func(r *release.Record) { r.Image = nil }, release.ErrMissingField, "image"},
		{"image unnamed", func(r *release.Record) { r.Image.Name = "" }, release.ErrMissingField, "image.name"},
		{"image unpinned", func(r *release.Record) { r.Image.Digest = nil }, release.ErrMissingField, "image.digest"},
		{"image bad digest", func(r *release.Record) { r.Image.Digest = map[string]string{"sha256": "tag"} }, release.ErrInvalidField, "image"},
		{"no environment", func(r *release.Record) { r.Environment = "" }, release.ErrMissingField, "environment"},
		{"no configuration", func(r *release.Record) { r.Configuration = nil }, release.ErrMissingField, "configuration"},
		{"nil configuration", func(r *release.Record) { r.Configuration[1] = nil }, release.ErrMissingField, "configuration[1]"},
		{"configuration unnamed", func(r *release.Record) { r.Configuration[0].Name = "" }, release.ErrMissingField, "configuration[0].name"},
		{"configuration duplicate", func(r *release.Record) { r.Configuration[1].Name = r.Configuration[0].Name }, release.ErrInvalidField, "configuration[1].name"},
		{"configuration without digest", func(r *release.Record) { r.Configuration[1].Digest = nil }, release.ErrMissingField, "configuration[1].digest"},
		{"configuration empty digest", func(r *release.Record) { r.Configuration[1].Digest = map[string]string{"sha256": ""} }, release.ErrInvalidField, "configuration[1].digest"},
		{"no approver", func(r *release.Record) { r.Approval.By = "" }, release.ErrMissingField, "approval.by"},
		{"no approval time", func(r *release.Record) { r.Approval.On = time.Time{} }, release.ErrMissingField, "approval.on"},
		{"approval time out of range", func(r *release.Record) { r.Approval.On = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, release.ErrInvalidField, "approval.on"},
		{"relative reference", func(r *release.Record) { r.Approval.Reference = "CHG-1234" }, release.ErrInvalidField, "approval.reference"},
		{"decision anonymous", func(r *release.Record) { r.Approval.Decision.Uri = "" }, release.ErrMissingField, "approval.decision.uri"},
		{"decision without digest", func(r *release.Record) { r.Approval.Decision.Digest = nil }, release.ErrMissingField, "approval.decision.digest"},
		{"no release time", func(r *release.Record) { r.ReleasedOn = time.Time{} }, release.ErrMissingField, "releasedOn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRecord(t)
			tt.edit(r)
			st, err := r.Statement()
			require.ErrorIs(t, err, tt.is)
			assert.Nil(t, st)
			var mf *release.MissingFieldError
			var fe *release.FieldError
			switch {
			case errors.As(err, &mf):
				assert.Equal(t, tt.field, mf.Field)
			case errors.As(err, &fe):
				assert.Equal(t, tt.field, fe.Field)
			default:
				t.Fatalf("untyped error %v", err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(st *intoto.Statement, p map[string]any)
		is   error
	}{
		{"wrong type", func(st *intoto.Statement, _ map[string]any) { st.PredicateType = provenance.PredicateRelease }, nil},
		{"two subjects", func(st *intoto.Statement, _ map[string]any) {
			st.Subject = append(st.Subject, &intoto.ResourceDescriptor{Name: "x", Digest: sha("x")})
		}, nil},
		{"unknown field", func(_ *intoto.Statement, p map[string]any) { p["image"] = "registry.example/shop/api:latest" }, nil},
		{"unknown approval field", func(_ *intoto.Statement, p map[string]any) { p["approval"].(map[string]any)["comment"] = "lgtm" }, nil},
		{"unknown descriptor field", func(_ *intoto.Statement, p map[string]any) {
			p["configuration"].([]any)[0].(map[string]any)["size"] = 3.0
		}, nil},
		{"field in other case", func(_ *intoto.Statement, p map[string]any) {
			p["Environment"] = p["environment"]
			delete(p, "environment")
		}, nil},
		{"protobuf field name", func(_ *intoto.Statement, p map[string]any) {
			c := p["configuration"].([]any)[0].(map[string]any)
			c["media_type"] = c["mediaType"]
			delete(c, "mediaType")
		}, nil},
		{"null reference", func(_ *intoto.Statement, p map[string]any) { p["approval"].(map[string]any)["reference"] = nil }, nil},
		{"no environment", func(_ *intoto.Statement, p map[string]any) { delete(p, "environment") }, release.ErrMissingField},
		{"no configuration", func(_ *intoto.Statement, p map[string]any) { p["configuration"] = []any{} }, release.ErrMissingField},
		{"duplicate configuration", func(_ *intoto.Statement, p map[string]any) {
			c := p["configuration"].([]any)
			p["configuration"] = append(c, c[0])
		}, release.ErrInvalidField},
		{"no approval time", func(_ *intoto.Statement, p map[string]any) { delete(p["approval"].(map[string]any), "on") }, release.ErrMissingField},
		{"time not UTC", func(_ *intoto.Statement, p map[string]any) { p["releasedOn"] = "2026-05-01T12:00:00+02:00" }, release.ErrInvalidField},
		{"time not RFC 3339", func(_ *intoto.Statement, p map[string]any) { p["releasedOn"] = "1 May 2026" }, release.ErrInvalidField},
		{"time with trailing zeros", func(_ *intoto.Statement, p map[string]any) { p["releasedOn"] = "2026-05-01T10:00:00.1234567890Z" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := validRecord(t).Statement()
			require.NoError(t, err)
			p := st.GetPredicate().AsMap()
			tt.edit(st, p)
			st, err = provenance.NewStatement(st.GetSubject(), st.GetPredicateType(), p)
			require.NoError(t, err)
			r, err := release.Parse(st)
			assert.Nil(t, r)
			require.ErrorIs(t, err, release.ErrInvalidPredicate)
			var pe *release.PredicateError
			require.ErrorAs(t, err, &pe)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
		})
	}
}

// FuzzParse reads arbitrary statements: Parse must not panic, must fail only with
// ErrInvalidPredicate, and what it accepts must be written back to the same statement.
func FuzzParse(f *testing.F) {
	st, err := validRecord(f).Statement()
	if err != nil {
		f.Fatal(err)
	}
	data, err := provenance.Marshal(st)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(strings.Replace(string(data), `"environment":"prod"`, `"Environment":"prod"`, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := provenance.ParseStatement(data)
		if err != nil {
			return
		}
		r, err := release.Parse(st)
		if err != nil {
			if !errors.Is(err, release.ErrInvalidPredicate) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		again, err := r.Statement()
		if err != nil {
			t.Fatalf("accepted record does not make a statement: %v", err)
		}
		// Statement writes in-toto v1; ParseStatement also reads v0.1.
		again.Type = st.GetType()
		a, _ := provenance.Marshal(st)
		b, err := provenance.Marshal(again)
		if err != nil || string(a) != string(b) {
			t.Fatalf("statement not reproduced: %v\n%s\n%s", err, a, b)
		}
	})
}
