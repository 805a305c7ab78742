package oras

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/registry"
)

// LayoutPrefix starts a reference to an OCI image layout: "oci-layout:PATH[:tag|@digest]".
const LayoutPrefix = "oci-layout:"

// Reference is what a user writes to name content: a registry repository
// ("host[:port]/repo[:tag|@digest]", "host/repo:tag@digest") or an OCI image layout, written
// "oci-layout:PATH[:tag|@digest]" or as a plain path (see ParseReference). Exactly one of
// Repository and Layout is set. Make one with ParseReference.
type Reference struct {
	// Registry is the registry's "host[:port]"; empty for a layout.
	Registry string
	// Repository is the repository's name within Registry; empty for a layout.
	Repository string
	// Layout is the path of the layout's directory, or of a tar archive of one; empty for a
	// registry.
	Layout string
	// Tag is the tag named, or "".
	Tag string
	// Digest is the digest named, or "". When both are named the digest is what counts.
	Digest digest.Digest
}

// ParseReference parses a reference as users write them:
//
//   - "oci-layout:PATH[:tag|@digest]" names the OCI layout at PATH, a directory or a tar
//     archive of one. As oras's --oci-layout flag splits it, the last "@" starts a digest;
//     without one, a ":" after the last path separator starts a tag.
//   - A plain path names a layout too, split the same way: one that starts with "/", "./" or
//     "../" (or is "." or ".."), or whose path part is a directory holding an oci-layout or
//     index.json file. ParseReference looks at the file system only for the latter.
//   - Anything else is a registry reference, "host[:port]/repo[:tag|@digest]" or
//     "host/repo:tag@digest", parsed by oras-go's registry.ParseReference; a tag given with a
//     digest is validated and kept.
//
// A reference that is none of these fails with a *ReferenceError wrapping ErrInvalidReference
// (and oras-go's or go-digest's cause). A registry reference without tag or digest names a
// repository only.
func ParseReference(s string) (Reference, error) {
	fail := func(reason string, err error) (Reference, error) {
		return Reference{}, &ReferenceError{Reference: s, Reason: reason, Err: err}
	}
	if s == "" {
		return fail("is empty", nil)
	}
	if rest, ok := strings.CutPrefix(s, LayoutPrefix); ok {
		return parseLayoutReference(s, rest)
	}
	if looksLikePath(s) {
		return parseLayoutReference(s, s)
	}
	if p, _, _, err := splitLayoutReference(s); err == nil && holdsLayout(p) {
		return parseLayoutReference(s, s)
	}
	return parseRemote(s, "is not a registry reference (host[:port]/repository[:tag|@digest]) nor a layout")
}

// ParseRemoteReference parses a registry reference, "host[:port]/repo[:tag|@digest]" or
// "host/repo:tag@digest", as ParseReference does, but never as a layout and without looking
// at the file system: for references that come from elsewhere, such as the images of a Pod
// spec, which must name a registry whatever files the reader has. A reference that is not a
// registry reference fails with a *ReferenceError wrapping ErrInvalidReference.
func ParseRemoteReference(s string) (Reference, error) {
	if s == "" {
		return Reference{}, &ReferenceError{Reference: s, Reason: "is empty"}
	}
	if looksLikePath(s) {
		return Reference{}, &ReferenceError{Reference: s, Reason: "is a path, not a registry reference (host[:port]/repository[:tag|@digest])"}
	}
	return parseRemote(s, "is not a registry reference (host[:port]/repository[:tag|@digest])")
}

// parseRemote parses s as a registry reference; notRemote is the reason given when it is not.
func parseRemote(s, notRemote string) (Reference, error) {
	fail := func(reason string, err error) (Reference, error) {
		return Reference{}, &ReferenceError{Reference: s, Reason: reason, Err: err}
	}
	if strings.HasSuffix(s, "@") || strings.HasSuffix(s, ":") {
		// oras-go reads "repo@" and "repo:" as the bare repository; a cut reference is an error.
		return fail("ends with an empty tag or digest", nil)
	}
	ref, err := registry.ParseReference(s)
	if err != nil {
		return fail(notRemote, err)
	}
	r := Reference{Registry: ref.Registry, Repository: ref.Repository}
	if ref.Reference == "" {
		return r, nil
	}
	if d, err := ref.Digest(); err == nil {
		r.Digest = d
		// oras-go drops the tag of "repo:tag@digest"; parse what precedes the digest to keep it.
		if before, _, _ := strings.Cut(s, "@"); before != s {
			tagged, err := registry.ParseReference(before)
			if err != nil {
				return fail("has an invalid tag before its digest", err)
			}
			r.Tag = tagged.Reference
		}
		return r, nil
	}
	r.Tag = ref.Reference
	return r, nil
}

// parseLayoutReference parses rest, the part of s after any LayoutPrefix.
func parseLayoutReference(s, rest string) (Reference, error) {
	fail := func(reason string, err error) (Reference, error) {
		return Reference{}, &ReferenceError{Reference: s, Reason: reason, Err: err}
	}
	p, tag, dg, err := splitLayoutReference(rest)
	if err != nil {
		return fail(err.Error(), nil)
	}
	r := Reference{Layout: p, Tag: tag}
	if dg != "" {
		d, err := digest.Parse(dg)
		if err != nil {
			return fail(fmt.Sprintf("digest %q is invalid", dg), err)
		}
		r.Digest = d
	}
	if tag != "" {
		if err := (registry.Reference{Reference: tag}).ValidateReferenceAsTag(); err != nil {
			return fail(fmt.Sprintf("tag %q is invalid", tag), err)
		}
	}
	return r, nil
}

// splitLayoutReference splits "PATH[:tag|@digest]" as oras's --oci-layout flag does.
func splitLayoutReference(s string) (p, tag, dg string, err error) {
	if i := strings.LastIndex(s, "@"); i >= 0 {
		p, dg = s[:i], s[i+1:]
		if dg == "" {
			return "", "", "", errors.New("has an empty digest after the last @")
		}
	} else {
		p = s
		sep := strings.LastIndexAny(s, `/`+string(filepath.Separator))
		if i := strings.LastIndex(s, ":"); i > sep {
			p, tag = s[:i], s[i+1:]
			if tag == "" {
				return "", "", "", errors.New("has an empty tag after the last colon")
			}
		}
	}
	if p == "" {
		return "", "", "", errors.New("names no layout path")
	}
	return p, tag, dg, nil
}

// looksLikePath reports whether s is written as a file path rather than a registry reference.
func looksLikePath(s string) bool {
	for _, prefix := range []string{"/", "./", "../", "." + string(filepath.Separator), ".." + string(filepath.Separator)} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	p, _, _, _ := splitLayoutReference(s)
	return p == "." || p == ".." || filepath.IsAbs(p)
}

// holdsLayout reports whether dir is a directory holding an oci-layout or index.json file.
func holdsLayout(dir string) bool {
	for _, name := range []string{"oci-layout", "index.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// TagOrDigest returns what to pass to (*Store).Resolve: the digest when one is named, else the
// tag, else "".
func (r Reference) TagOrDigest() string {
	if r.Digest != "" {
		return r.Digest.String()
	}
	return r.Tag
}

// String returns the reference in the form ParseReference reads: "host/repo:tag@digest", or
// "oci-layout:PATH:tag" or "oci-layout:PATH@digest" (a layout reference keeps the digest only
// when it has both, as oras's --oci-layout flag reads it).
func (r Reference) String() string {
	var b strings.Builder
	if r.Layout != "" {
		b.WriteString(LayoutPrefix + r.Layout)
		if r.Digest != "" {
			b.WriteString("@" + r.Digest.String())
		} else if r.Tag != "" {
			b.WriteString(":" + r.Tag)
		}
		return b.String()
	}
	b.WriteString(r.Registry + "/" + r.Repository)
	if r.Tag != "" {
		b.WriteString(":" + r.Tag)
	}
	if r.Digest != "" {
		b.WriteString("@" + r.Digest.String())
	}
	return b.String()
}

// Open opens the Store the reference names for reading: for a registry repository what
// NewRemote returns, with opts; for a layout a read-only Store (OpenLayoutTar when Layout is
// a regular file, OpenLayout otherwise) that creates nothing and fails with a *LayoutError
// wrapping provenance.ErrNotFound when the layout does not exist. Resolve the content with
// store.Resolve(ctx, ref.TagOrDigest()).
func (r Reference) Open(ctx context.Context, opts ...Option) (*Store, error) {
	if r.Layout == "" {
		return r.openRemote(opts)
	}
	if fi, err := os.Stat(r.Layout); err == nil && fi.Mode().IsRegular() {
		return OpenLayoutTar(ctx, r.Layout, opts...)
	} else if err == nil && !fi.IsDir() {
		return nil, &LayoutError{Path: r.Layout, Err: &fs.PathError{Op: "open", Path: r.Layout, Err: errors.New("neither a directory nor a tar archive")}}
	}
	return OpenLayout(ctx, r.Layout, opts...)
}

// OpenWritable opens the Store the reference names for writing, as an Attach or Copy
// destination: for a registry repository what NewRemote returns; for a layout directory what
// NewLayout returns, creating the layout when the directory holds none.
func (r Reference) OpenWritable(ctx context.Context, opts ...Option) (*Store, error) {
	if r.Layout == "" {
		return r.openRemote(opts)
	}
	return NewLayout(ctx, r.Layout, opts...)
}

func (r Reference) openRemote(opts []Option) (*Store, error) {
	if r.Repository == "" {
		return nil, &InputError{What: "reference", Reason: "names neither a repository nor a layout"}
	}
	return NewRemote(r.Registry+"/"+r.Repository, opts...)
}
