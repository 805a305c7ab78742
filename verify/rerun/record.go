package rerun

import (
	"fmt"
	"path"
	"slices"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/verify"
)

// Step is a workflow step as its verified record gives it: what Run re-runs.
type Step struct {
	// Name is the step's name.
	Name string
	// Image is the container image reference, pinned by digest.
	Image string
	// ImageDigest is the digest Image pins.
	ImageDigest digest.Digest
	// Command is the command line, program first.
	Command []string
	// Parameters are the recorded parameters, as JSON values.
	Parameters map[string]any
	// Environment holds the recorded environment variables.
	Environment map[string]string
	// Inputs are the step's inputs (resolved dependencies with the material role, or with no
	// role), each with the file name Run gives it in the working folder.
	Inputs []File
	// Outputs are the step's outputs, the statement's subjects, each with its file name.
	Outputs []File
	// ImageDependency is the image's resolved dependency, as recorded.
	ImageDependency *intoto.ResourceDescriptor
}

// File is an input or output of a step, and the name it has in the step's working folder.
type File struct {
	// Descriptor is the record's resource descriptor.
	Descriptor *intoto.ResourceDescriptor
	// Path is the file's slash-separated path relative to the working folder: the recorded
	// name when it is a relative path, else the last element of the URI's path.
	Path string
	// Digest is the sha256 digest the record gives it.
	Digest digest.Digest
}

// StepFromResult reads the workflow step a verified result records: a SLSA Provenance v1
// statement of build type workflow.BuildType (as provenance/workflow writes it). It fails with
// a *RecordError wrapping ErrInvalidRecord when the statement is of another kind, when the
// command is missing, or when an input or output has no sha256 digest or no name that is a
// safe relative path.
func StepFromResult(res *verify.Result) (*Step, error) {
	if res == nil {
		return nil, &RecordError{Field: "result", Reason: "nil"}
	}
	st := res.Statement()
	if st.GetPredicateType() != provenance.PredicateSLSAProvenanceV1 {
		return nil, &RecordError{Field: "predicateType", Reason: fmt.Sprintf("is %q, not SLSA Provenance v1", st.GetPredicateType())}
	}
	p, err := res.SLSAProvenance()
	if err != nil {
		return nil, &RecordError{Field: "predicate", Reason: err.Error()}
	}
	bd := p.GetBuildDefinition()
	if bd.GetBuildType() != workflow.BuildType {
		return nil, &RecordError{Field: "buildType", Reason: fmt.Sprintf("is %q, not %q", bd.GetBuildType(), workflow.BuildType)}
	}
	ext := bd.GetExternalParameters().AsMap()
	s := &Step{}
	s.Name, _ = ext["name"].(string)
	s.Image, _ = ext["image"].(string)
	if s.Name == "" {
		return nil, &RecordError{Field: "externalParameters.name", Reason: "missing"}
	}
	if _, s.ImageDigest, err = workflow.Image(s.Image); err != nil {
		return nil, &RecordError{Field: "externalParameters.image", Reason: err.Error()}
	}
	if s.ImageDigest.Algorithm() != digest.SHA256 {
		return nil, &RecordError{Field: "externalParameters.image", Reason: "is not pinned by a sha256 digest"}
	}
	cmd, ok := ext["command"].([]any)
	if !ok || len(cmd) == 0 {
		return nil, &RecordError{Field: "externalParameters.command", Reason: "missing: the record does not say what ran"}
	}
	for i, a := range cmd {
		arg, ok := a.(string)
		if !ok || strings.IndexByte(arg, 0) >= 0 {
			return nil, &RecordError{Field: fmt.Sprintf("externalParameters.command[%d]", i), Reason: "not a string"}
		}
		s.Command = append(s.Command, arg)
	}
	if params, ok := ext["parameters"].(map[string]any); ok {
		s.Parameters = params
	}
	if env, ok := bd.GetInternalParameters().AsMap()["environment"].(map[string]any); ok {
		s.Environment = map[string]string{}
		for k, v := range env {
			str, ok := v.(string)
			if !ok || k == "" || strings.ContainsAny(k, "=\x00") || strings.IndexByte(str, 0) >= 0 {
				return nil, &RecordError{Field: "internalParameters.environment." + k, Reason: "not a variable name and string value"}
			}
			s.Environment[k] = str
		}
	}
	for i, dep := range bd.GetResolvedDependencies() {
		switch provenance.Role(dep) {
		case workflow.RoleImage:
			if s.ImageDependency == nil && dep.GetDigest()[s.ImageDigest.Algorithm().String()] == s.ImageDigest.Encoded() {
				s.ImageDependency = dep
				continue
			}
			fallthrough
		default:
			f, err := file(dep)
			if err != nil {
				return nil, &RecordError{Field: fmt.Sprintf("resolvedDependencies[%d]", i), Reason: err.Error()}
			}
			s.Inputs = append(s.Inputs, f)
		}
	}
	if s.ImageDependency == nil {
		return nil, &RecordError{Field: "resolvedDependencies", Reason: "no dependency with the toolchain role names the image " + s.ImageDigest.String()}
	}
	for i, out := range st.GetSubject() {
		f, err := file(out)
		if err != nil {
			return nil, &RecordError{Field: fmt.Sprintf("subject[%d]", i), Reason: err.Error()}
		}
		s.Outputs = append(s.Outputs, f)
	}
	var paths []string
	for _, f := range append(slices.Clone(s.Inputs), s.Outputs...) {
		paths = append(paths, f.Path)
	}
	slices.Sort(paths)
	for i := 1; i < len(paths); i++ {
		if paths[i] == paths[i-1] || strings.HasPrefix(paths[i], paths[i-1]+"/") {
			return nil, &RecordError{Field: "files", Reason: fmt.Sprintf("two inputs or outputs at %q", paths[i])}
		}
	}
	return s, nil
}

// file names a recorded input or output in the working folder.
func file(rd *intoto.ResourceDescriptor) (File, error) {
	hex := rd.GetDigest()["sha256"]
	d := digest.NewDigestFromEncoded(digest.SHA256, hex)
	if hex == "" || d.Validate() != nil {
		return File{}, fmt.Errorf("%q has no valid sha256 digest", label(rd))
	}
	name := rd.GetName()
	if name == "" || strings.Contains(name, "://") || strings.Contains(name, "@") {
		name = ""
		if u := rd.GetUri(); u != "" {
			if _, rest, ok := strings.Cut(u, "://"); ok {
				u = rest
			}
			u, _, _ = strings.Cut(u, "?")
			u, _, _ = strings.Cut(u, "#")
			name = path.Base(u)
		}
	}
	if !safeRelative(name) {
		return File{}, fmt.Errorf("%q gives no safe file name (%q)", label(rd), name)
	}
	return File{Descriptor: rd, Path: name, Digest: d}, nil
}

// safeRelative reports whether name is a clean, relative, slash-separated path that stays
// below the folder it is relative to.
func safeRelative(name string) bool {
	return name != "" && name != "." && name != "/" && !strings.HasPrefix(name, "/") && path.Clean(name) == name &&
		name != ".." && !strings.HasPrefix(name, "../") && !strings.ContainsAny(name, "\\\x00")
}

func label(rd *intoto.ResourceDescriptor) string {
	if rd.GetName() != "" {
		return rd.GetName()
	}
	return rd.GetUri()
}
