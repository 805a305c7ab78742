package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
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
	// Agents are the people who ran the step, each named by an ORCID iD or an email address.
	// They are recorded in internalParameters.agents (see the package documentation), so they
	// are signed with the step, and are checked by Predicate: a malformed ORCID iD (or one whose
	// check digit is wrong) or email address fails with an *AgentError.
	Agents []Agent
	// ToolVersions maps the tools the step ran to their versions ("python": "3.12.1"); recorded
	// as runDetails.builder.version.
	ToolVersions map[string]string
}

// Agent is a person who ran a step. ORCID or Email (or both) is required; Name is optional.
type Agent struct {
	// Name is the person's name, as they give it.
	Name string
	// ORCID is the person's ORCID iD: "0000-0002-1825-0097" or "https://orcid.org/0000-0002-1825-0097".
	// Predicate records it as the https://orcid.org/ URL.
	ORCID string
	// Email is the person's email address, "name@example.org", without a display name.
	Email string
}

// ID returns the IRI that names the agent in linked data: the ORCID URL when the agent has an
// ORCID iD, else "mailto:" and the email address. It is empty for an agent with neither.
func (a Agent) ID() string {
	if a.ORCID != "" {
		if id, err := NormalizeORCID(a.ORCID); err == nil {
			return id
		}
		return a.ORCID
	}
	if a.Email != "" {
		return "mailto:" + a.Email
	}
	return ""
}

// orcidPrefix is the form ORCID iDs are recorded in.
const orcidPrefix = "https://orcid.org/"

// NormalizeORCID checks an ORCID iD and returns it as its URL, "https://orcid.org/XXXX-XXXX-XXXX-XXXX".
// It takes the bare iD or its URL (http or https, with or without "www."). The iD must be four
// groups of four characters separated by hyphens, digits except for the last, which may be "X",
// and the last must be the ISO 7064 MOD 11-2 check digit of the others. Otherwise the error is an
// *AgentError wrapping ErrInvalidAgent.
func NormalizeORCID(id string) (string, error) {
	bare := id
	for _, p := range []string{"https://orcid.org/", "http://orcid.org/", "https://www.orcid.org/", "http://www.orcid.org/"} {
		if strings.HasPrefix(bare, p) {
			bare = strings.TrimPrefix(bare, p)
			break
		}
	}
	bad := func(reason string) error { return &AgentError{Index: -1, Field: "ORCID", Value: id, Reason: reason} }
	if len(bare) != 19 {
		return "", bad("want four groups of four digits, such as 0000-0002-1825-0097")
	}
	digits := make([]byte, 0, 16)
	for i := 0; i < len(bare); i++ {
		c := bare[i]
		switch {
		case i%5 == 4:
			if c != '-' {
				return "", bad("want four groups of four digits, such as 0000-0002-1825-0097")
			}
		case c >= '0' && c <= '9', c == 'X' && i == len(bare)-1:
			digits = append(digits, c)
		default:
			return "", bad("want four groups of four digits, such as 0000-0002-1825-0097")
		}
	}
	total := 0
	for _, c := range digits[:15] {
		total = (total + int(c-'0')) * 2
	}
	check := (12 - total%11) % 11
	want := byte('0' + check)
	if check == 10 {
		want = 'X'
	}
	if digits[15] != want {
		return "", bad(fmt.Sprintf("check digit is %c, want %c", digits[15], want))
	}
	return orcidPrefix + bare, nil
}

// checkEmail accepts a bare address as net/mail parses it: local part, "@", and a domain with a
// dot, without a display name, angle brackets or spaces.
func checkEmail(addr string) error {
	a, err := mail.ParseAddress(addr)
	switch {
	case err != nil:
		return err
	case a.Address != addr || a.Name != "":
		return errors.New("want a bare address such as name@example.org")
	}
	_, domain, _ := strings.Cut(addr, "@")
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return errors.New("the domain has no dot")
	}
	return nil
}

// agentValues checks the agents and returns them in the form internalParameters records.
func agentValues(agents []Agent) ([]any, error) {
	out := make([]any, 0, len(agents))
	for i, a := range agents {
		if a.ORCID == "" && a.Email == "" {
			return nil, &AgentError{Index: i, Field: "ORCID", Reason: "an ORCID iD or an email address is required"}
		}
		v := map[string]any{}
		if a.Name != "" {
			v["name"] = a.Name
		}
		if a.ORCID != "" {
			id, err := NormalizeORCID(a.ORCID)
			if err != nil {
				e := err.(*AgentError)
				e.Index = i
				return nil, e
			}
			v["orcid"] = id
		}
		if a.Email != "" {
			if err := checkEmail(a.Email); err != nil {
				return nil, &AgentError{Index: i, Field: "Email", Value: a.Email, Reason: err.Error()}
			}
			v["email"] = a.Email
		}
		out = append(out, v)
	}
	return out, nil
}

// AgentsOf reads the agents a step recorded in its predicate's internalParameters (as
// Predicate writes them), in the order recorded. Statements recorded before agents were
// recorded, and entries that are not objects, give none; values are returned as recorded,
// without checking them again.
func AgentsOf(internal map[string]any) []Agent {
	list, _ := internal["agents"].([]any)
	var out []Agent
	for _, v := range list {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		orcid, _ := m["orcid"].(string)
		email, _ := m["email"].(string)
		if orcid == "" && email == "" {
			continue
		}
		out = append(out, Agent{Name: name, ORCID: orcid, Email: email})
	}
	return out
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
	agents, err := agentValues(s.Agents)
	if err != nil {
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
		BuilderVersion:       s.ToolVersions,
		InvocationID:         s.RunID,
		StartedOn:            s.StartedOn,
		FinishedOn:           s.FinishedOn,
	}
	internal := map[string]any{}
	if len(s.Environment) > 0 {
		internal["environment"] = s.Environment
	}
	if len(agents) > 0 {
		internal["agents"] = agents
	}
	if len(internal) > 0 {
		build.InternalParameters = internal
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
