package workflow_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/workflow"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func sha(s string) map[string]string {
	return map[string]string{"sha256": digest.FromString(s).Encoded()}
}

func validStep() *workflow.Step {
	return &workflow.Step{
		Name:        "train",
		Image:       "registry.example:5000/tools/train@" + digest.FromString("train image").String(),
		Command:     []string{"train", "--epochs", "3"},
		Parameters:  map[string]any{"epochs": 3, "seed": "18446744073709551615", "layers": []int{64, 32}},
		Environment: map[string]string{"OMP_NUM_THREADS": "2"},
		Inputs: []*intoto.ResourceDescriptor{
			{Uri: "file:///data/clean.csv", Digest: sha("clean")},
			{Name: "python-base", Uri: "oci://registry.example/python", Digest: sha("python"),
				Annotations: &structpb.Struct{Fields: map[string]*structpb.Value{workflow.AnnotationRole: structpb.NewStringValue("base-image")}}},
		},
		Outputs:    []*intoto.ResourceDescriptor{{Name: "model.bin", Digest: sha("model")}},
		BuilderID:  "https://ci.example/runners/gpu",
		RunID:      "run-7",
		StartedOn:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		FinishedOn: time.Date(2026, 1, 2, 4, 4, 5, 0, time.UTC),
	}
}

func TestConstantsMatchProvenance(t *testing.T) {
	if workflow.AnnotationRole != provenance.AnnotationRole || workflow.RoleImage != provenance.RoleToolchain || workflow.RoleInput != provenance.RoleMaterial {
		t.Fatal("role annotation constants differ from the provenance package's")
	}
}

// TestStatementLayout checks every field of the documented layout, and that the statement
// survives the canonical encoding provkit signs.
func TestStatementLayout(t *testing.T) {
	s := validStep()
	st, err := s.Statement()
	if err != nil {
		t.Fatal(err)
	}
	data, err := provenance.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	back, err := provenance.ParseStatement(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.GetPredicateType() != provenance.PredicateSLSAProvenanceV1 || back.GetType() != provenance.StatementTypeV1 {
		t.Fatalf("types: %s %s", back.GetType(), back.GetPredicateType())
	}
	if !proto.Equal(back.GetSubject()[0], s.Outputs[0]) {
		t.Fatalf("subject %v", back.GetSubject())
	}
	p, err := provenance.SLSAProvenance(back)
	if err != nil {
		t.Fatal(err)
	}
	bd := p.GetBuildDefinition()
	if bd.GetBuildType() != workflow.BuildType {
		t.Fatalf("buildType %q", bd.GetBuildType())
	}
	ext := bd.GetExternalParameters().AsMap()
	wantExt := map[string]any{
		"name":       "train",
		"image":      s.Image,
		"command":    []any{"train", "--epochs", "3"},
		"parameters": map[string]any{"epochs": 3.0, "seed": "18446744073709551615", "layers": []any{64.0, 32.0}},
		"inputs":     []any{"file:///data/clean.csv", "oci://registry.example/python"},
	}
	for k, v := range wantExt {
		got, _ := structpb.NewValue(ext[k])
		want, _ := structpb.NewValue(v)
		if !proto.Equal(got, want) {
			t.Errorf("externalParameters.%s = %v, want %v", k, ext[k], v)
		}
	}
	if len(ext) != len(wantExt) {
		t.Errorf("externalParameters has %d keys, want %d: %v", len(ext), len(wantExt), ext)
	}
	if env := bd.GetInternalParameters().AsMap()["environment"]; env.(map[string]any)["OMP_NUM_THREADS"] != "2" {
		t.Errorf("internalParameters.environment = %v", env)
	}
	deps := bd.GetResolvedDependencies()
	if len(deps) != 3 {
		t.Fatalf("%d dependencies", len(deps))
	}
	for i, want := range []struct{ uri, role, digest string }{
		{"oci://registry.example:5000/tools/train", provenance.RoleToolchain, digest.FromString("train image").Encoded()},
		{"file:///data/clean.csv", provenance.RoleMaterial, digest.FromString("clean").Encoded()},
		{"oci://registry.example/python", provenance.RoleBaseImage, digest.FromString("python").Encoded()},
	} {
		if deps[i].GetUri() != want.uri || provenance.Role(deps[i]) != want.role || deps[i].GetDigest()["sha256"] != want.digest {
			t.Errorf("dependency %d = %v, want %v", i, deps[i], want)
		}
	}
	if s.Inputs[0].GetAnnotations() != nil {
		t.Error("Statement modified the step's inputs")
	}
	rd := p.GetRunDetails()
	if rd.GetBuilder().GetId() != s.BuilderID || rd.GetMetadata().GetInvocationId() != "run-7" ||
		!rd.GetMetadata().GetStartedOn().AsTime().Equal(s.StartedOn) || !rd.GetMetadata().GetFinishedOn().AsTime().Equal(s.FinishedOn) {
		t.Errorf("runDetails = %v", rd)
	}
}

func TestStepErrors(t *testing.T) {
	tag := "registry.example/tools/train:v1"
	tests := []struct {
		name   string
		edit   func(*workflow.Step)
		is     error
		target any
		field  string
	}{
		{"no name", func(s *workflow.Step) { s.Name = "" }, workflow.ErrMissingField, new(*workflow.MissingFieldError), "Name"},
		{"no image", func(s *workflow.Step) { s.Image = "" }, workflow.ErrMissingField, new(*workflow.MissingFieldError), "Image"},
		{"no outputs", func(s *workflow.Step) { s.Outputs = nil }, workflow.ErrMissingField, new(*workflow.MissingFieldError), "Outputs"},
		{"no builder", func(s *workflow.Step) { s.BuilderID = "" }, workflow.ErrMissingField, new(*workflow.MissingFieldError), "BuilderID"},
		{"image by tag", func(s *workflow.Step) { s.Image = tag }, workflow.ErrUnpinnedImage, new(*workflow.UnpinnedImageError), ""},
		{"image bad digest", func(s *workflow.Step) { s.Image = tag + "@sha256:abc" }, workflow.ErrUnpinnedImage, new(*workflow.UnpinnedImageError), ""},
		{"image no repository", func(s *workflow.Step) { s.Image = "@" + digest.FromString("x").String() }, workflow.ErrUnpinnedImage, new(*workflow.UnpinnedImageError), ""},
		{"output without digest", func(s *workflow.Step) { s.Outputs[0].Digest = nil }, workflow.ErrInvalidArtifact, new(*workflow.ArtifactError), "Outputs"},
		{"input without digest", func(s *workflow.Step) { s.Inputs[0].Digest = nil }, workflow.ErrInvalidArtifact, new(*workflow.ArtifactError), "Inputs"},
		{"input bad digest", func(s *workflow.Step) { s.Inputs[0].Digest = map[string]string{"sha256": "not hex"} }, workflow.ErrInvalidArtifact, new(*workflow.ArtifactError), "Inputs"},
		{"input unnamed", func(s *workflow.Step) { s.Inputs[1].Uri, s.Inputs[1].Name = "", "" }, workflow.ErrInvalidArtifact, new(*workflow.ArtifactError), "Inputs"},
		{"input nil", func(s *workflow.Step) { s.Inputs[0] = nil }, workflow.ErrInvalidArtifact, new(*workflow.ArtifactError), "Inputs"},
		{"parameters not JSON", func(s *workflow.Step) { s.Parameters = map[string]any{"f": func() {}} }, workflow.ErrInvalidParameters, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validStep()
			tt.edit(s)
			_, err := s.Statement()
			if !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			switch target := tt.target.(type) {
			case **workflow.MissingFieldError:
				if !errors.As(err, target) || (*target).Field != tt.field {
					t.Fatalf("err = %#v, want field %s", err, tt.field)
				}
			case **workflow.UnpinnedImageError:
				if !errors.As(err, target) || (*target).Image != s.Image {
					t.Fatalf("err = %#v", err)
				}
			case **workflow.ArtifactError:
				if !errors.As(err, target) || (*target).Field != tt.field {
					t.Fatalf("err = %#v, want field %s", err, tt.field)
				}
			}
		})
	}
}

func TestImage(t *testing.T) {
	d := digest.FromString("img")
	for _, tt := range []struct{ ref, repo string }{
		{"alpine@" + d.String(), "alpine"},
		{"docker.io/library/alpine:3.20@" + d.String(), "docker.io/library/alpine"},
		{"localhost:5000/a/b@" + d.String(), "localhost:5000/a/b"},
		{"localhost:5000/a/b:tag@" + d.String(), "localhost:5000/a/b"},
	} {
		repo, got, err := workflow.Image(tt.ref)
		if err != nil || repo != tt.repo || got != d {
			t.Errorf("Image(%q) = %q, %q, %v", tt.ref, repo, got, err)
		}
	}
	for _, ref := range []string{"", "alpine", "alpine:3", "alpine@", "alpine@sha256:" + strings.Repeat("A", 64), "al pine@" + d.String(), ":tag@" + d.String()} {
		if _, _, err := workflow.Image(ref); !errors.Is(err, workflow.ErrUnpinnedImage) {
			t.Errorf("Image(%q) err = %v", ref, err)
		}
	}
}

func FuzzImage(f *testing.F) {
	f.Add("registry.example:5000/a/b:t@sha256:" + strings.Repeat("0", 64))
	f.Add("a@b")
	f.Add(":@:")
	f.Fuzz(func(t *testing.T, ref string) {
		repo, d, err := workflow.Image(ref)
		if err != nil {
			if !errors.Is(err, workflow.ErrUnpinnedImage) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if repo == "" || d.Validate() != nil || !strings.HasPrefix(ref, repo) || !strings.HasSuffix(ref, "@"+d.String()) {
			t.Fatalf("Image(%q) = %q, %q", ref, repo, d)
		}
	})
}

func BenchmarkStatement(b *testing.B) {
	s := validStep()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Statement(); err != nil {
			b.Fatal(err)
		}
	}
}
