package collect

import (
	"sync"
	// Register the algorithms go-digest checks image digests with.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"fmt"
	"path/filepath"
	"regexp"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"google.golang.org/protobuf/types/known/structpb"
)

// ImageReference is a parsed container image reference.
type ImageReference struct {
	// Repository is the registry host (when given) and repository path, such as
	// "registry.example:5000/team/app" or "alpine". It is not normalised: "alpine" stays "alpine".
	Repository string
	// Tag is the tag, or "".
	Tag string
	// Digest is the manifest digest, or "" when the reference names the image by tag only.
	Digest digest.Digest
}

// maxReferenceLength bounds a reference, as registries do for repository names plus tag and digest.
const maxReferenceLength = 4096

// referencePattern is the grammar of the distribution project's reference package:
// [host[:port]/]path-component[/path-component...][:tag][@digest].
var referencePattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^` +
		`((?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*` +
		`|\[[a-fA-F0-9:]+\])(?::[0-9]+)?/)?` +
		`([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)` +
		`(?::([\w][\w.-]{0,127}))?` +
		`(?:@([A-Za-z0-9_+.-]+:[A-Za-z0-9=_-]+))?$`)
})

// ParseImageReference parses ref, of the form [registry[:port]/]repository[:tag][@algorithm:hex].
// A reference with a digest must have a valid digest of an available algorithm (sha256, sha512);
// one without is accepted and reports Digest "". Malformed input yields an error wrapping
// ErrInvalidReference.
func ParseImageReference(ref string) (ImageReference, error) {
	if len(ref) > maxReferenceLength {
		return ImageReference{}, fmt.Errorf("%w: %d bytes long, over %d", ErrInvalidReference, len(ref), maxReferenceLength)
	}
	m := referencePattern().FindStringSubmatch(ref)
	if m == nil {
		return ImageReference{}, fmt.Errorf("%w: %q", ErrInvalidReference, ref)
	}
	repo := m[1] + m[2]
	if len(repo) > 255 {
		return ImageReference{}, fmt.Errorf("%w: repository name over 255 bytes", ErrInvalidReference)
	}
	out := ImageReference{Repository: repo, Tag: m[3]}
	if m[4] != "" {
		d, err := digest.Parse(m[4])
		if err != nil {
			return ImageReference{}, fmt.Errorf("%w: %q: digest: %v", ErrInvalidReference, ref, err)
		}
		out.Digest = d
	}
	return out, nil
}

// String returns the reference in its usual form.
func (r ImageReference) String() string {
	s := r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest.String()
	}
	return s
}

// Pinned reports whether the reference names the image by digest.
func (r ImageReference) Pinned() bool { return r.Digest != "" }

// Dependency returns the image as a resolved dependency with the given role (such as
// provenance.RoleBaseImage or provenance.RoleMaterial): named "repository[:tag]", with the
// digest from the reference. A reference by tag alone has no digest and carries
// provenance.AnnotationUnpinned = "true", so policy can reject it.
func (r ImageReference) Dependency(role string) *intoto.ResourceDescriptor {
	name := r.Repository
	if r.Tag != "" {
		name += ":" + r.Tag
	}
	rd := &intoto.ResourceDescriptor{
		Name:        name,
		Annotations: annotations(provenance.AnnotationRole, role),
	}
	if r.Digest != "" {
		rd.Digest = map[string]string{r.Digest.Algorithm().String(): r.Digest.Encoded()}
	} else {
		rd.Annotations.Fields[provenance.AnnotationUnpinned] = structpb.NewStringValue("true")
	}
	return rd
}

// ImageMaterial parses ref and returns it as a resolved dependency with the given role; see
// ImageReference.Dependency. A malformed reference yields a *MaterialError wrapping
// ErrInvalidReference.
func ImageMaterial(ref, role string) (*intoto.ResourceDescriptor, error) {
	r, err := ParseImageReference(ref)
	if err != nil {
		return nil, &MaterialError{Kind: "image", Name: ref, Err: err}
	}
	return r.Dependency(role), nil
}

// FileMaterial hashes the file at path (SHA-256, streamed) and returns it as a resolved
// dependency with role provenance.RoleMaterial, named by path as given with forward slashes. Pass
// a relative path for output that does not depend on where the build ran. A file that cannot be
// read yields a *MaterialError; errors.Is(err, fs.ErrNotExist) tells a missing one.
func FileMaterial(path string) (*intoto.ResourceDescriptor, error) {
	return fileMaterial("", path)
}

// fileMaterial resolves a relative path against dir.
func fileMaterial(dir, path string) (*intoto.ResourceDescriptor, error) {
	if path == "" {
		return nil, &MaterialError{Kind: "file", Name: path, Err: fmt.Errorf("empty path")}
	}
	full := path
	if dir != "" && !filepath.IsAbs(path) {
		full = filepath.Join(dir, path)
	}
	rd, err := provenance.SubjectFromFile(full)
	if err != nil {
		return nil, &MaterialError{Kind: "file", Name: path, Err: err}
	}
	rd.Name = filepath.ToSlash(filepath.Clean(path))
	rd.Annotations = annotations(provenance.AnnotationRole, provenance.RoleMaterial)
	return rd, nil
}
