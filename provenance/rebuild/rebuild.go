package rebuild

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	v02 "github.com/in-toto/attestation/go/predicates/provenance/v02"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/diff"
)

// PredicateType is the predicate type of a rebuild statement; the package documentation
// describes the predicate field by field.
const PredicateType = "https://provkit.dev/rebuild/v1"

// Outcome is the verdict of a rebuild check.
type Outcome string

// The outcomes.
const (
	// Match: the rebuild found no difference.
	Match Outcome = "match"
	// Mismatch: the rebuild found at least one difference.
	Mismatch Outcome = "mismatch"
)

// What a check compared, as listed in Result.Compared.
const (
	// ComparedSubjects: the original statement's subjects with the rebuilt artifacts.
	ComparedSubjects = "subjects"
	// ComparedInputs: the original's resolved dependencies with the inputs the rebuild
	// fetched by their digests and used (Input.Inputs).
	ComparedInputs = "inputs"
	// ComparedMaterials: the original's resolved dependencies with the rebuild's.
	ComparedMaterials = "materials"
	// ComparedParameters: the original's build type and external parameters with the rebuild's.
	ComparedParameters = "parameters"
	// ComparedImage: the original image's manifest and configuration with the rebuilt one's.
	ComparedImage = "image"
)

// Input is what a rebuild check compares. Original, Rebuilt and CheckedOn are required.
type Input struct {
	// Original is the provenance of the original artifact, as verified: its subjects, each with
	// a name or URI, are what the rebuild must reproduce.
	Original *intoto.Statement
	// Rebuilt are the rebuilt artifacts, hashed by the caller with provenance.SubjectFromFile
	// (a file), provenance.SubjectsFromDir (a directory: one subject per file, named by its
	// relative path) or provenance.SubjectFromDescriptor (an image). Hash them with the
	// algorithms of the original's subjects.
	Rebuilt []*intoto.ResourceDescriptor
	// Inputs are the inputs the rebuild used (optional): each fetched by the digest the
	// original names and hashed while it was read, named as the original names it (its URI or
	// name). When set, they are compared with the original's resolved dependencies (SLSA v1)
	// or materials (v0.2), so a match says the artifacts were rebuilt from the same inputs.
	// Give every input the rebuild read, its container image included: a dependency of the
	// original that is not among them is a difference.
	Inputs []*intoto.ResourceDescriptor
	// Provenance is the rebuild's own SLSA provenance (optional): it must name every rebuilt
	// artifact as a subject. When set, its resolved dependencies, build type and external
	// parameters are compared with the original's, and its builder is recorded, not compared:
	// an independent rebuild runs on another builder by design.
	Provenance *intoto.Statement
	// OriginalImage and RebuiltImage are the original and rebuilt images (optional, both or
	// neither): when set, their layers, configuration and annotations are compared with
	// diff.Images, so a mismatch says which layer or configuration field differs. Each must be
	// the image its side names: OriginalImage's descriptor digest a subject of Original,
	// RebuiltImage's one of Rebuilt.
	OriginalImage, RebuiltImage *diff.Image
	// CheckedOn is when the check ran: take it from the caller's provenance.Clock.
	CheckedOn time.Time
}

// Original identifies the provenance a rebuild was checked against.
type Original struct {
	// Statement is the sha256 digest of the original statement in canonical form
	// (provenance.Marshal).
	Statement digest.Digest
	// PredicateType is the original statement's predicate type.
	PredicateType string
	// Subjects are the original statement's subjects: name, URI and digest of each.
	Subjects []*intoto.ResourceDescriptor
}

// Result is the outcome of a rebuild check: the rebuild predicate. Its fields are the
// predicate's, described in the package documentation. A Result is a plain value: safe for
// concurrent use while not modified.
type Result struct {
	// Outcome is Match when Differences is empty, else Mismatch.
	Outcome Outcome
	// Original identifies the original provenance.
	Original Original
	// Rebuilt are the rebuilt artifacts: name, URI and digest of each. They are the rebuild
	// statement's subjects.
	Rebuilt []*intoto.ResourceDescriptor
	// Inputs are the inputs the rebuild used (Input.Inputs): name, URI and digest of each;
	// empty when they were not compared.
	Inputs []*intoto.ResourceDescriptor
	// RebuilderID is the builder.id of the rebuild's provenance, when it was given.
	RebuilderID string
	// Compared lists what was compared: ComparedSubjects, then ComparedInputs,
	// ComparedMaterials and ComparedParameters (together) and ComparedImage when they were.
	Compared []string
	// Differences are every difference found, sorted by Field: "subjects[NAME]",
	// "inputs[NAME]", "materials[URI]" and, for images, "image.FIELD" with the fields of
	// diff.Images.
	Differences []diff.Change
	// CheckedOn is when the check ran, in UTC.
	CheckedOn time.Time
}

// Check compares a rebuilt artifact with the provenance of the original and returns the
// result. An error means the input could not be checked (an *InputError wrapping
// ErrInvalidInput); a rebuild that differs is not an error but a Result whose Err says so.
//
// Every subject of the original must be matched by a rebuilt one, by name, with equal digests
// on the algorithms both have; a rebuilt artifact with no original is a difference too. When
// both sides have exactly one subject, the two are compared whatever their names, so an image
// pushed to another repository or a file renamed on the way is still compared.
func Check(in Input) (*Result, error) {
	if in.Original == nil {
		return nil, &InputError{Field: "Original", Reason: "required"}
	}
	if len(in.Rebuilt) == 0 {
		return nil, &InputError{Field: "Rebuilt", Reason: "required"}
	}
	if in.CheckedOn.IsZero() {
		return nil, &InputError{Field: "CheckedOn", Reason: "required"}
	}
	if (in.OriginalImage == nil) != (in.RebuiltImage == nil) {
		field := "RebuiltImage"
		if in.OriginalImage == nil {
			field = "OriginalImage"
		}
		return nil, &InputError{Field: field, Reason: "OriginalImage and RebuiltImage go together"}
	}
	if in.OriginalImage != nil {
		if !names(in.Original.GetSubject(), in.OriginalImage.Descriptor.Digest) {
			return nil, &InputError{Field: "OriginalImage", Reason: fmt.Sprintf("%s is not a subject of Original", in.OriginalImage.Descriptor.Digest)}
		}
		if !names(in.Rebuilt, in.RebuiltImage.Descriptor.Digest) {
			return nil, &InputError{Field: "RebuiltImage", Reason: fmt.Sprintf("%s is not among Rebuilt", in.RebuiltImage.Descriptor.Digest)}
		}
	}
	canonical, err := provenance.Marshal(in.Original)
	if err != nil {
		return nil, &InputError{Field: "Original", Reason: "invalid statement", Err: err}
	}
	for i, rd := range in.Original.GetSubject() {
		if err := checkDescriptor(rd); err != nil {
			return nil, &InputError{Field: "Original", Reason: fmt.Sprintf("subject [%d]: %s", i, err)}
		}
	}
	for i, rd := range in.Rebuilt {
		if err := checkDescriptor(rd); err != nil {
			return nil, &InputError{Field: "Rebuilt", Reason: fmt.Sprintf("[%d]: %s", i, err)}
		}
		if in.Provenance != nil && !about(in.Provenance, rd) {
			return nil, &InputError{Field: "Provenance", Reason: fmt.Sprintf("is not about the rebuilt artifact [%d] %s", i, label(rd))}
		}
	}
	res := &Result{
		Original: Original{
			Statement:     digest.NewDigestFromBytes(digest.SHA256, sha256Sum(canonical)),
			PredicateType: in.Original.GetPredicateType(),
			Subjects:      plain(in.Original.GetSubject()),
		},
		Rebuilt:   plain(in.Rebuilt),
		Compared:  []string{ComparedSubjects},
		CheckedOn: in.CheckedOn.UTC(),
	}

	original, rebuilt := res.Original.Subjects, res.Rebuilt
	if len(original) == 1 && len(rebuilt) == 1 {
		rebuilt = []*intoto.ResourceDescriptor{{Name: original[0].GetName(), Uri: original[0].GetUri(), Digest: rebuilt[0].GetDigest()}}
	}
	changes, err := diff.Subjects(original, rebuilt)
	if err != nil {
		field := "Rebuilt"
		if de := (*diff.DescriptorError)(nil); errors.As(err, &de) && de.Side == "baseline" {
			field = "Original"
		}
		return nil, &InputError{Field: field, Reason: "subjects cannot be matched", Err: err}
	}
	res.Differences = append(res.Differences, changes...)

	if len(in.Inputs) > 0 {
		for i, rd := range in.Inputs {
			if err := checkDescriptor(rd); err != nil {
				return nil, &InputError{Field: "Inputs", Reason: fmt.Sprintf("[%d]: %s", i, err)}
			}
		}
		if err := checkSLSA(in.Original); err != nil {
			return nil, &InputError{Field: "Original", Reason: "inputs cannot be compared", Err: err}
		}
		deps, err := dependencies(in.Original)
		if err != nil {
			return nil, &InputError{Field: "Original", Reason: "inputs cannot be read", Err: err}
		}
		changes, err := diff.Subjects(plain(deps), plain(in.Inputs))
		if err != nil {
			field := "Inputs"
			if de := (*diff.DescriptorError)(nil); errors.As(err, &de) && de.Side == "baseline" {
				field = "Original"
			}
			return nil, &InputError{Field: field, Reason: "inputs cannot be matched", Err: err}
		}
		for _, c := range changes {
			c.Field = "inputs" + strings.TrimPrefix(c.Field, "subjects")
			res.Differences = append(res.Differences, c)
		}
		res.Inputs = plain(in.Inputs)
		res.Compared = append(res.Compared, ComparedInputs)
	}

	if in.Provenance != nil {
		if err := checkSLSA(in.Original); err != nil {
			return nil, &InputError{Field: "Original", Reason: "materials cannot be compared", Err: err}
		}
		if err := checkSLSA(in.Provenance); err != nil {
			return nil, &InputError{Field: "Provenance", Reason: "materials cannot be compared", Err: err}
		}
		if _, err := provenance.Marshal(in.Provenance); err != nil {
			return nil, &InputError{Field: "Provenance", Reason: "invalid statement", Err: err}
		}
		changes, err := diff.Provenance(in.Original, in.Provenance)
		if err != nil {
			return nil, &InputError{Field: "Provenance", Reason: "materials cannot be compared", Err: err}
		}
		for _, c := range changes {
			if strings.HasPrefix(c.Field, "materials[") || c.Field == "buildType" ||
				c.Field == "externalParameters" || strings.HasPrefix(c.Field, "externalParameters.") {
				res.Differences = append(res.Differences, c)
			}
		}
		if res.RebuilderID, err = builderID(in.Provenance); err != nil {
			return nil, &InputError{Field: "Provenance", Reason: "builder cannot be read", Err: err}
		}
		res.Compared = append(res.Compared, ComparedMaterials, ComparedParameters)
	}
	if in.OriginalImage != nil {
		for _, c := range diff.Images(*in.OriginalImage, *in.RebuiltImage) {
			c.Field = "image." + c.Field
			res.Differences = append(res.Differences, c)
		}
		res.Compared = append(res.Compared, ComparedImage)
	}
	diff.Sort(res.Differences)
	res.Outcome = Match
	if len(res.Differences) > 0 {
		res.Outcome = Mismatch
	}
	return res, nil
}

// Summary says in one line what the check compared and what it found, in words a reader of
// a report can take literally:
//
//	rebuilt from the same inputs, and every output matched; outputs compared: 2 files by sha256; inputs compared: 3, each fetched by its digest and used
//	every output matched, but the inputs were not compared; outputs compared: 1 file by sha256; inputs not compared
//	did not match: 1 difference; outputs compared: 2 files by sha256; inputs not compared
//
// "Rebuilt from the same inputs" is said only when the inputs were compared (Input.Inputs, or
// the rebuild's own provenance) and no input, material or parameter differed.
func (r *Result) Summary() string {
	var b strings.Builder
	inputsCompared := slices.Contains(r.Compared, ComparedInputs) || slices.Contains(r.Compared, ComparedMaterials)
	switch {
	case r.Matched() && inputsCompared:
		b.WriteString("rebuilt from the same inputs, and every output matched")
	case r.Matched():
		b.WriteString("every output matched, but the inputs were not compared")
	default:
		fmt.Fprintf(&b, "did not match: %d difference%s", len(r.Differences), plural(len(r.Differences)))
	}
	n := len(r.Original.Subjects)
	kind := "file"
	if slices.Contains(r.Compared, ComparedImage) {
		kind = "image"
	}
	fmt.Fprintf(&b, "; outputs compared: %d %s%s", n, kind, plural(n))
	if algs := commonAlgorithms(r.Original.Subjects, r.Rebuilt); len(algs) > 0 {
		fmt.Fprintf(&b, " by %s", strings.Join(algs, " and "))
	}
	if kind == "image" {
		b.WriteString(", layer by layer and configuration field by field")
	}
	switch {
	case slices.Contains(r.Compared, ComparedInputs):
		fmt.Fprintf(&b, "; inputs compared: %d, each fetched by its digest and used", len(r.Inputs))
	case slices.Contains(r.Compared, ComparedMaterials):
		b.WriteString("; inputs compared: the rebuild's own provenance names the same resolved dependencies")
	default:
		b.WriteString("; inputs not compared")
	}
	if slices.Contains(r.Compared, ComparedParameters) {
		b.WriteString("; build type and parameters compared")
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// commonAlgorithms returns the digest algorithms that some original and some rebuilt subject
// both have, sorted.
func commonAlgorithms(original, rebuilt []*intoto.ResourceDescriptor) []string {
	have := map[string]bool{}
	for _, rd := range rebuilt {
		for alg := range rd.GetDigest() {
			have[alg] = true
		}
	}
	var out []string
	for _, rd := range original {
		for alg := range rd.GetDigest() {
			if have[alg] && !slices.Contains(out, alg) {
				out = append(out, alg)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Matched reports whether the rebuild matched the original.
func (r *Result) Matched() bool { return r.Outcome == Match && len(r.Differences) == 0 }

// Err returns nil when the rebuild matched, and otherwise a *MismatchError wrapping ErrMismatch
// that lists the differences.
func (r *Result) Err() error {
	if r.Matched() {
		return nil
	}
	return &MismatchError{Differences: r.Differences}
}

// names reports whether one of rds has digest d.
func names(rds []*intoto.ResourceDescriptor, d digest.Digest) bool {
	for _, rd := range rds {
		if d.Validate() == nil && rd.GetDigest()[d.Algorithm().String()] == d.Encoded() {
			return true
		}
	}
	return false
}

// about reports whether st names rd as a subject: by any digest they share.
func about(st *intoto.Statement, rd *intoto.ResourceDescriptor) bool {
	for alg, hex := range rd.GetDigest() {
		if names(st.GetSubject(), digest.NewDigestFromEncoded(digest.Algorithm(alg), hex)) {
			return true
		}
	}
	return false
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// checkDescriptor requires a name or URI and valid digests.
func checkDescriptor(rd *intoto.ResourceDescriptor) error {
	switch {
	case rd == nil:
		return fmt.Errorf("nil descriptor")
	case rd.GetName() == "" && rd.GetUri() == "":
		return fmt.Errorf("neither name nor URI")
	case len(rd.GetDigest()) == 0:
		return fmt.Errorf("%q has no digest", label(rd))
	}
	if err := rd.Validate(); err != nil {
		return fmt.Errorf("%q: %v", label(rd), err)
	}
	for alg, hex := range rd.GetDigest() {
		if alg == "" || hex == "" {
			return fmt.Errorf("%q: empty digest", label(rd))
		}
	}
	return nil
}

func label(rd *intoto.ResourceDescriptor) string {
	if rd.GetName() != "" {
		return rd.GetName()
	}
	return rd.GetUri()
}

// plain returns the name, URI and digest of each descriptor, the parts a rebuild predicate
// records.
func plain(rds []*intoto.ResourceDescriptor) []*intoto.ResourceDescriptor {
	out := make([]*intoto.ResourceDescriptor, len(rds))
	for i, rd := range rds {
		out[i] = &intoto.ResourceDescriptor{Name: rd.GetName(), Uri: rd.GetUri(), Digest: maps.Clone(rd.GetDigest())}
	}
	return out
}

func checkSLSA(st *intoto.Statement) error {
	switch t := st.GetPredicateType(); t {
	case provenance.PredicateSLSAProvenanceV1, provenance.PredicateSLSAProvenanceV02:
		return nil
	default:
		return fmt.Errorf("predicate type %q is not SLSA Provenance v1 or v0.2", t)
	}
}

// dependencies reads the resolved dependencies of a SLSA Provenance v1 statement, or the
// materials of a v0.2 one.
func dependencies(st *intoto.Statement) ([]*intoto.ResourceDescriptor, error) {
	if st.GetPredicateType() == provenance.PredicateSLSAProvenanceV1 {
		p, err := provenance.SLSAProvenance(st)
		return p.GetBuildDefinition().GetResolvedDependencies(), err
	}
	p := &v02.Provenance{}
	if err := provenance.DecodePredicate(st, p); err != nil {
		return nil, err
	}
	out := make([]*intoto.ResourceDescriptor, 0, len(p.GetMaterials()))
	for _, m := range p.GetMaterials() {
		out = append(out, &intoto.ResourceDescriptor{Uri: m.GetUri(), Digest: m.GetDigest()})
	}
	return out, nil
}

// builderID reads the builder of a SLSA Provenance v1 or v0.2 statement.
func builderID(st *intoto.Statement) (string, error) {
	if st.GetPredicateType() == provenance.PredicateSLSAProvenanceV1 {
		p, err := provenance.SLSAProvenance(st)
		return p.GetRunDetails().GetBuilder().GetId(), err
	}
	p := &v02.Provenance{}
	err := provenance.DecodePredicate(st, p)
	return p.GetBuilder().GetId(), err
}
