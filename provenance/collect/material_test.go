package collect_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/collect"
)

var (
	hex256 = strings.Repeat("a1", 32)
	hex512 = strings.Repeat("b2", 64)
)

func TestParseImageReference(t *testing.T) {
	tests := []struct {
		in   string
		want collect.ImageReference
	}{
		{"alpine", collect.ImageReference{Repository: "alpine"}},
		{"alpine:3.20", collect.ImageReference{Repository: "alpine", Tag: "3.20"}},
		{"library/alpine:latest", collect.ImageReference{Repository: "library/alpine", Tag: "latest"}},
		{"docker.io/library/golang:1.26-bookworm", collect.ImageReference{Repository: "docker.io/library/golang", Tag: "1.26-bookworm"}},
		{"localhost:5000/team/app", collect.ImageReference{Repository: "localhost:5000/team/app"}},
		{"localhost:5000/team/app:v1", collect.ImageReference{Repository: "localhost:5000/team/app", Tag: "v1"}},
		{"127.0.0.1:5000/app@sha256:" + hex256, collect.ImageReference{Repository: "127.0.0.1:5000/app", Digest: digest.Digest("sha256:" + hex256)}},
		{"[::1]:5000/app:v1", collect.ImageReference{Repository: "[::1]:5000/app", Tag: "v1"}},
		{"ghcr.io/org/app:v1@sha256:" + hex256, collect.ImageReference{Repository: "ghcr.io/org/app", Tag: "v1", Digest: digest.Digest("sha256:" + hex256)}},
		{"registry.example.test/a/b/c@sha512:" + hex512, collect.ImageReference{Repository: "registry.example.test/a/b/c", Digest: digest.Digest("sha512:" + hex512)}},
		{"a__b/c-d.e:Tag_1.0", collect.ImageReference{Repository: "a__b/c-d.e", Tag: "Tag_1.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := collect.ParseImageReference(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
			if got.Pinned() != (tt.want.Digest != "") {
				t.Errorf("Pinned() = %v", got.Pinned())
			}
		})
	}
}

func TestParseImageReferenceErrors(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"upper-case repository", "Alpine:3"},
		{"space", "alpine 3"},
		{"empty tag", "alpine:"},
		{"tag too long", "alpine:" + strings.Repeat("t", 129)},
		{"leading slash", "/alpine"},
		{"double slash", "a//b"},
		{"short digest", "alpine@sha256:abc"},
		{"unknown algorithm", "alpine@md5:" + strings.Repeat("a", 32)},
		{"upper-case hex", "alpine@sha256:" + strings.ToUpper(hex256)},
		{"digest only", "@sha256:" + hex256},
		{"scheme", "https://registry/app"},
		{"huge", strings.Repeat("a", 5000)},
		{"repository over 255 bytes", strings.Repeat("a", 256)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := collect.ParseImageReference(tt.in)
			if !errors.Is(err, collect.ErrInvalidReference) {
				t.Errorf("ParseImageReference(%q) err = %v, want ErrInvalidReference", tt.in, err)
			}
		})
	}
}

func TestImageMaterial(t *testing.T) {
	tests := []struct {
		name, ref, role, wantName string
		wantDigest                map[string]string
	}{
		{"pinned base image", "golang:1.26@sha256:" + hex256, provenance.RoleBaseImage, "golang:1.26", map[string]string{"sha256": hex256}},
		{"pinned without tag", "ghcr.io/org/tool@sha256:" + hex256, provenance.RoleMaterial, "ghcr.io/org/tool", map[string]string{"sha256": hex256}},
		{"sha512", "tool@sha512:" + hex512, provenance.RoleMaterial, "tool", map[string]string{"sha512": hex512}},
		{"tag only is unpinned", "alpine:3.20", provenance.RoleBaseImage, "alpine:3.20", nil},
		{"bare name is unpinned", "alpine", provenance.RoleMaterial, "alpine", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := collect.ImageMaterial(tt.ref, tt.role)
			if err != nil {
				t.Fatal(err)
			}
			if rd.GetName() != tt.wantName {
				t.Errorf("name = %q, want %q", rd.GetName(), tt.wantName)
			}
			if provenance.Role(rd) != tt.role {
				t.Errorf("role = %q, want %q", provenance.Role(rd), tt.role)
			}
			_, unpinned := rd.GetAnnotations().GetFields()[provenance.AnnotationUnpinned]
			if unpinned != (tt.wantDigest == nil) {
				t.Errorf("unpinned annotation = %v, want %v", unpinned, tt.wantDigest == nil)
			}
			if len(rd.GetDigest()) != len(tt.wantDigest) {
				t.Errorf("digest = %v, want %v", rd.GetDigest(), tt.wantDigest)
			}
			for k, v := range tt.wantDigest {
				if rd.GetDigest()[k] != v {
					t.Errorf("digest[%s] = %q, want %q", k, rd.GetDigest()[k], v)
				}
			}
			if err := rd.Validate(); err != nil {
				t.Error(err)
			}
		})
	}

	_, err := collect.ImageMaterial("Not A Reference", provenance.RoleMaterial)
	var merr *collect.MaterialError
	if !errors.Is(err, collect.ErrMaterial) || !errors.Is(err, collect.ErrInvalidReference) || !errors.As(err, &merr) || merr.Kind != "image" {
		t.Errorf("bad reference err = %v, want *MaterialError wrapping ErrMaterial and ErrInvalidReference", err)
	}
}

func TestFileMaterial(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "deps/lib.tar", "library bytes")
	sum := sha256.Sum256([]byte("library bytes"))

	rd, err := collect.FileMaterial(filepath.Join(dir, "deps", "lib.tar"))
	if err != nil {
		t.Fatal(err)
	}
	if rd.GetDigest()["sha256"] != hex.EncodeToString(sum[:]) {
		t.Errorf("digest = %v", rd.GetDigest())
	}
	if rd.GetName() != filepath.ToSlash(filepath.Join(dir, "deps", "lib.tar")) {
		t.Errorf("name = %q", rd.GetName())
	}
	if provenance.Role(rd) != provenance.RoleMaterial {
		t.Errorf("role = %q", provenance.Role(rd))
	}

	tests := []struct {
		name string
		path string
		also error
	}{
		{"missing file", filepath.Join(dir, "missing"), fs.ErrNotExist},
		{"directory", filepath.Join(dir, "deps"), nil},
		{"empty path", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := collect.FileMaterial(tt.path)
			var merr *collect.MaterialError
			if !errors.Is(err, collect.ErrMaterial) || !errors.As(err, &merr) || merr.Kind != "file" || merr.Name != tt.path {
				t.Fatalf("err = %v, want *MaterialError for %q", err, tt.path)
			}
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.also)
			}
		})
	}
}
