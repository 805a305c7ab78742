package workflow

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
)

// BuildType is the SLSA buildType of a workflow step; the package documentation describes its
// parameters field by field.
const BuildType = "https://provkit.dev/workflow/step/v1"

// Annotation key and roles written on the step's resolved dependencies. They are the values of
// provenance.AnnotationRole, provenance.RoleToolchain and provenance.RoleMaterial.
const (
	// AnnotationRole says what part a resolved dependency played in the step.
	AnnotationRole = provenance.AnnotationRole
	// RoleImage marks the container image the step ran in.
	RoleImage = provenance.RoleToolchain
	// RoleInput marks an input file or dataset.
	RoleInput = provenance.RoleMaterial
)

// Step is one run of one step of a workflow. Name, Image, Outputs and BuilderID are required.
type Step struct {
	// Name is the step's name, unique within its workflow, such as "clean" or "train".
	Name string
	// Workflow names the workflow the step belongs to (a name or URI); optional.
	Workflow string
	// Image is the container image the step ran in, pinned by digest:
	// "registry.example/tools/clean@sha256:…" (a tag before the "@" is kept but not trusted).
	Image string
	// Command is the command line the step ran, program first.
	Command []string
	// Parameters are the step's parameters: any values encoding/json can represent as JSON.
	Parameters map[string]any
	// Environment holds the environment variables the step ran with that are worth recording.
	// Never put secrets here: provenance is published.
	Environment map[string]string
	// Inputs are the files and datasets the step read, each with a digest and a URI (or a name).
	Inputs []*intoto.ResourceDescriptor
	// Outputs are what the step wrote: the statement's subjects, each with a digest.
	Outputs []*intoto.ResourceDescriptor

	// BuilderID is the URI of the platform that ran the step, such as a CI runner pool.
	BuilderID string
	// RunID identifies the workflow run the step was part of; every step of one run shares it.
	RunID string
	// StartedOn and FinishedOn bound the step; zero times are left out.
	StartedOn, FinishedOn time.Time
}

// Image splits a container image reference pinned by digest, "REPOSITORY[:TAG]@DIGEST",
// into its repository (without the tag) and digest. A reference without a valid digest fails
// with an *UnpinnedImageError.
func Image(ref string) (repository string, dgst digest.Digest, err error) {
	name, d, ok := strings.Cut(ref, "@")
	if !ok || name == "" || strings.ContainsAny(ref, " \t\r\n") {
		return "", "", &UnpinnedImageError{Image: ref}
	}
	dgst, err = digest.Parse(d)
	if err != nil {
		return "", "", &UnpinnedImageError{Image: ref, Err: err}
	}
	// A ":" after the last "/" starts a tag; one before it is a registry port.
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name = name[:i]
	}
	if name == "" {
		return "", "", &UnpinnedImageError{Image: ref}
	}
	return name, dgst, nil
}

// Predicate returns the step's SLSA Provenance v1 predicate with buildType BuildType, validated.
func (s *Step) Predicate() (*slsa.Provenance, error) {
	switch {
	case s.Name == "":
		return nil, &MissingFieldError{Field: "Name"}
	case s.Image == "":
		return nil, &MissingFieldError{Field: "Image"}
	case len(s.Outputs) == 0:
		return nil, &MissingFieldError{Field: "Outputs"}
	case s.BuilderID == "":
		return nil, &MissingFieldError{Field: "BuilderID"}
	}
	repo, imageDigest, err := Image(s.Image)
	if err != nil {
		return nil, err
	}
	if err := checkArtifacts("Outputs", s.Outputs); err != nil {
		return nil, err
	}
	if err := checkArtifacts("Inputs", s.Inputs); err != nil {
		return nil, err
	}

	external := map[string]any{"name": s.Name, "image": s.Image}
	if s.Workflow != "" {
		external["workflow"] = s.Workflow
	}
	if len(s.Command) > 0 {
		external["command"] = s.Command
	}
	if len(s.Parameters) > 0 {
		params, err := jsonObject(s.Parameters)
		if err != nil {
			return nil, fmt.Errorf("%w: parameters: %v", ErrInvalidParameters, err)
		}
		external["parameters"] = params
	}
	deps := make([]*intoto.ResourceDescriptor, 0, 1+len(s.Inputs))
	deps = append(deps, &intoto.ResourceDescriptor{
		Uri:         "oci://" + repo,
		Name:        s.Image,
		Digest:      map[string]string{imageDigest.Algorithm().String(): imageDigest.Encoded()},
		Annotations: mustStruct(map[string]any{AnnotationRole: RoleImage}),
	})
	if len(s.Inputs) > 0 {
		uris := make([]string, len(s.Inputs))
		for i, in := range s.Inputs {
			uris[i] = in.GetUri()
			if uris[i] == "" {
				uris[i] = in.GetName()
			}
			deps = append(deps, withRole(in, RoleInput))
		}
		external["inputs"] = uris
	}
	build := &provenance.Build{
		BuildType:            BuildType,
		ExternalParameters:   external,
		ResolvedDependencies: deps,
		BuilderID:            s.BuilderID,
		InvocationID:         s.RunID,
		StartedOn:            s.StartedOn,
		FinishedOn:           s.FinishedOn,
	}
	if len(s.Environment) > 0 {
		build.InternalParameters = map[string]any{"environment": s.Environment}
	}
	p, err := build.Predicate()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidParameters, err)
	}
	return p, nil
}

// Statement returns a validated in-toto Statement v1 about the step's outputs, holding its
// SLSA Provenance v1 predicate. Sign it as it is: marshal it with provenance.Marshal and pass it
// to a sign.Signer.
func (s *Step) Statement() (*intoto.Statement, error) {
	p, err := s.Predicate()
	if err != nil {
		return nil, err
	}
	st, err := provenance.NewStatement(s.Outputs, provenance.PredicateSLSAProvenanceV1, p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArtifact, err)
	}
	return st, nil
}

// checkArtifacts requires each artifact to have a URI or name and at least one valid digest.
func checkArtifacts(field string, rds []*intoto.ResourceDescriptor) error {
	for i, rd := range rds {
		switch {
		case rd == nil:
			return &ArtifactError{Field: field, Index: i, Reason: "nil descriptor"}
		case rd.GetUri() == "" && rd.GetName() == "":
			return &ArtifactError{Field: field, Index: i, Reason: "neither URI nor name"}
		case len(rd.GetDigest()) == 0:
			return &ArtifactError{Field: field, Index: i, Reason: fmt.Sprintf("%q has no digest", label(rd))}
		}
		if err := rd.Validate(); err != nil {
			return &ArtifactError{Field: field, Index: i, Reason: fmt.Sprintf("%q: %v", label(rd), err)}
		}
		algs := make([]string, 0, len(rd.GetDigest()))
		for alg := range rd.GetDigest() {
			algs = append(algs, alg)
		}
		sort.Strings(algs)
		for _, alg := range algs {
			if rd.GetDigest()[alg] == "" {
				return &ArtifactError{Field: field, Index: i, Reason: fmt.Sprintf("%q: empty %s digest", label(rd), alg)}
			}
		}
	}
	return nil
}

func label(rd *intoto.ResourceDescriptor) string {
	if rd.GetUri() != "" {
		return rd.GetUri()
	}
	return rd.GetName()
}

// withRole returns rd with the role annotation set, unless it already has one. rd itself is not
// modified.
func withRole(rd *intoto.ResourceDescriptor, role string) *intoto.ResourceDescriptor {
	if rd.GetAnnotations().GetFields()[AnnotationRole].GetStringValue() != "" {
		return rd
	}
	fields := map[string]*structpb.Value{AnnotationRole: structpb.NewStringValue(role)}
	for k, v := range rd.GetAnnotations().GetFields() {
		if k != AnnotationRole {
			fields[k] = v
		}
	}
	return &intoto.ResourceDescriptor{
		Uri:              rd.GetUri(),
		Name:             rd.GetName(),
		Digest:           rd.GetDigest(),
		Content:          rd.GetContent(),
		DownloadLocation: rd.GetDownloadLocation(),
		MediaType:        rd.GetMediaType(),
		Annotations:      &structpb.Struct{Fields: fields},
	}
}

// jsonObject turns any value encoding/json can encode as an object into the generic form
// structpb takes (maps, slices, float64, string, bool, nil).
func jsonObject(v map[string]any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// mustStruct builds a Struct from values known to be representable.
func mustStruct(m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	if err != nil {
		panic(err)
	}
	return s
}
