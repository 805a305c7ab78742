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

func TestAgents(t *testing.T) {
	s := validStep()
	s.Agents = []workflow.Agent{
		{Name: "Josiah Carberry", ORCID: "0000-0002-1825-0097"},
		{ORCID: "https://orcid.org/0000-0001-5109-3700", Email: "ada@example.org"},
		{Name: "Grace", Email: "grace@lab.example"},
	}
	s.ToolVersions = map[string]string{"python": "3.12.1"}
	p, err := s.Predicate()
	if err != nil {
		t.Fatal(err)
	}
	internal := p.GetBuildDefinition().GetInternalParameters().AsMap()
	got := workflow.AgentsOf(internal)
	want := []workflow.Agent{
		{Name: "Josiah Carberry", ORCID: "https://orcid.org/0000-0002-1825-0097"},
		{ORCID: "https://orcid.org/0000-0001-5109-3700", Email: "ada@example.org"},
		{Name: "Grace", Email: "grace@lab.example"},
	}
	if len(got) != len(want) {
		t.Fatalf("agents %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("agent %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if ids := []string{got[0].ID(), got[2].ID()}; ids[0] != "https://orcid.org/0000-0002-1825-0097" || ids[1] != "mailto:grace@lab.example" {
		t.Errorf("IDs %v", ids)
	}
	if v := p.GetRunDetails().GetBuilder().GetVersion()["python"]; v != "3.12.1" {
		t.Errorf("builder.version %v", p.GetRunDetails().GetBuilder().GetVersion())
	}
	if _, ok := p.GetBuildDefinition().GetExternalParameters().GetFields()["agents"]; ok {
		t.Error("agents recorded as external parameters")
	}
	// A statement without agents reads as none.
	if a := workflow.AgentsOf(map[string]any{"environment": map[string]any{}}); a != nil {
		t.Errorf("AgentsOf without agents: %v", a)
	}
}

func TestAgentErrors(t *testing.T) {
	for name, a := range map[string]workflow.Agent{
		"neither":               {Name: "Nobody"},
		"bad check digit":       {ORCID: "0000-0002-1825-0098"},
		"short":                 {ORCID: "0000-0002-1825"},
		"letters":               {ORCID: "0000-000A-1825-0097"},
		"X not last":            {ORCID: "0000-0002-182X-0097"},
		"other host":            {ORCID: "https://example.org/0000-0002-1825-0097"},
		"email with name":       {Email: "Ada <ada@example.org>"},
		"email without at":      {Email: "ada.example.org"},
		"email without dot":     {Email: "ada@localhost"},
		"good ORCID, bad email": {ORCID: "0000-0002-1825-0097", Email: "x"},
	} {
		t.Run(name, func(t *testing.T) {
			s := validStep()
			s.Agents = []workflow.Agent{{Email: "ok@example.org"}, a}
			_, err := s.Statement()
			var ae *workflow.AgentError
			if !errors.Is(err, workflow.ErrInvalidAgent) || !errors.As(err, &ae) || ae.Index != 1 {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// An ORCID iD whose check digit is X.
	if id, err := workflow.NormalizeORCID("0000-0002-9079-593X"); err != nil || id != "https://orcid.org/0000-0002-9079-593X" {
		t.Errorf("NormalizeORCID: %q, %v", id, err)
	}
}

// FuzzNormalizeORCID checks that an iD is accepted only in its documented forms, always
// normalised to its URL, which normalises to itself.
func FuzzNormalizeORCID(f *testing.F) {
	for _, s := range []string{"0000-0002-1825-0097", "https://orcid.org/0000-0002-9079-593X", "0000-0002-1825-0098", "http://www.orcid.org/0000-0002-1825-0097", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		got, err := workflow.NormalizeORCID(id)
		if err != nil {
			if !errors.Is(err, workflow.ErrInvalidAgent) || got != "" {
				t.Fatalf("%q: %q, %v", id, got, err)
			}
			return
		}
		if !strings.HasPrefix(got, "https://orcid.org/") || len(got) != len("https://orcid.org/")+19 || !strings.HasSuffix(id, got[len("https://orcid.org/"):]) {
			t.Fatalf("%q normalised to %q", id, got)
		}
		if again, err := workflow.NormalizeORCID(got); err != nil || again != got {
			t.Fatalf("%q: normalising again gives %q, %v", got, again, err)
		}
	})
}
