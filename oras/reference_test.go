package oras_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	provoras "github.com/provkit/provkit/oras"
	"oras.land/oras-go/v2/errdef"
)

var testDigest = digest.Digest("sha256:" + strings.Repeat("ab", 32))

func TestParseReference(t *testing.T) {
	dir := t.TempDir()
	pack := filepath.Join(dir, "pack")
	if err := os.MkdirAll(pack, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pack, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	cases := []struct {
		in   string
		want provoras.Reference
	}{
		{"ghcr.io/org/app:v1", provoras.Reference{Registry: "ghcr.io", Repository: "org/app", Tag: "v1"}},
		{"ghcr.io/org/app", provoras.Reference{Registry: "ghcr.io", Repository: "org/app"}},
		{"registry.example:5000/team/app:1.2.3", provoras.Reference{Registry: "registry.example:5000", Repository: "team/app", Tag: "1.2.3"}},
		{"localhost:5000/app@" + testDigest.String(), provoras.Reference{Registry: "localhost:5000", Repository: "app", Digest: testDigest}},
		{"localhost/app:v1@" + testDigest.String(), provoras.Reference{Registry: "localhost", Repository: "app", Tag: "v1", Digest: testDigest}},
		{"127.0.0.1:5000/a/b/c:latest", provoras.Reference{Registry: "127.0.0.1:5000", Repository: "a/b/c", Tag: "latest"}},
		{"[::1]:5000/app:v1", provoras.Reference{Registry: "[::1]:5000", Repository: "app", Tag: "v1"}},
		{"oci-layout:./pack:v1", provoras.Reference{Layout: "./pack", Tag: "v1"}},
		{"oci-layout:/srv/pack@" + testDigest.String(), provoras.Reference{Layout: "/srv/pack", Digest: testDigest}},
		{"oci-layout:pack", provoras.Reference{Layout: "pack"}},
		{"oci-layout:dir:with:colons/pack:v1", provoras.Reference{Layout: "dir:with:colons/pack", Tag: "v1"}},
		{"oci-layout:a:b@" + testDigest.String(), provoras.Reference{Layout: "a:b", Digest: testDigest}},
		{"oci-layout:C:/packs/p", provoras.Reference{Layout: "C:/packs/p"}},
		{"/srv/pack", provoras.Reference{Layout: "/srv/pack"}},
		{"/srv/pack:v1", provoras.Reference{Layout: "/srv/pack", Tag: "v1"}},
		{"./pack@" + testDigest.String(), provoras.Reference{Layout: "./pack", Digest: testDigest}},
		{"../x/pack.tar:v1", provoras.Reference{Layout: "../x/pack.tar", Tag: "v1"}},
		{".", provoras.Reference{Layout: "."}},
		{"pack", provoras.Reference{Layout: "pack"}},
		{"pack:v1", provoras.Reference{Layout: "pack", Tag: "v1"}},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := provoras.ParseReference(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("ParseReference(%q) = %+v, want %+v", c.in, got, c.want)
			}
			again, err := provoras.ParseReference(got.String())
			if err != nil {
				t.Fatalf("ParseReference(String() = %q): %v", got.String(), err)
			}
			if again.TagOrDigest() != got.TagOrDigest() || again.Layout != got.Layout || again.Repository != got.Repository {
				t.Errorf("String() = %q parses to %+v, not %+v", got.String(), again, got)
			}
		})
	}
}

func TestParseReferenceInvalid(t *testing.T) {
	cases := []struct {
		in    string
		cause error // also wrapped, besides ErrInvalidReference, or nil
	}{
		{"", nil},
		{"ghcr.io/Org/App:v1", errdef.ErrInvalidReference},
		{"ghcr.io/org/app@sha256:abc", errdef.ErrInvalidReference},
		{"ghcr.io/org/app:bad tag", errdef.ErrInvalidReference},
		{"ghcr.io/org/app:-v1@" + testDigest.String(), errdef.ErrInvalidReference},
		{"app:v1", errdef.ErrInvalidReference},
		{"ghcr.io/", errdef.ErrInvalidReference},
		{"ghcr.io/org/app@", nil},
		{"ghcr.io/org/app:", nil},
		{"localhost:5000/app:", nil},
		{"oci-layout:", nil},
		{"oci-layout:pack:", nil},
		{"oci-layout:pack@", nil},
		{"oci-layout:@" + testDigest.String(), nil},
		{"oci-layout:pack@sha256:abc", digest.ErrDigestInvalidLength},
		{"oci-layout:pack@md5:" + strings.Repeat("a", 32), digest.ErrDigestUnsupported},
		{"./pack:-bad", errdef.ErrInvalidReference},
		{"/srv/pack:" + strings.Repeat("t", 129), errdef.ErrInvalidReference},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			_, err := provoras.ParseReference(c.in)
			var re *provoras.ReferenceError
			if !errors.Is(err, provoras.ErrInvalidReference) || !errors.As(err, &re) {
				t.Fatalf("ParseReference(%q) = %v, want a *ReferenceError", c.in, err)
			}
			if re.Reference != c.in || re.Reason == "" {
				t.Errorf("ReferenceError = %+v, want it to name %q and a reason", re, c.in)
			}
			if c.cause != nil && !errors.Is(err, c.cause) {
				t.Errorf("ParseReference(%q) = %v, want it to wrap %v", c.in, err, c.cause)
			}
		})
	}
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"ghcr.io/org/app:v1", "localhost:5000/app@" + testDigest.String(), "localhost/app:v1@" + testDigest.String(),
		"oci-layout:./pack:v1", "oci-layout:/p@" + testDigest.String(), "/srv/pack:v1", "./a@b", "", "oci-layout:", "a:b:c@@d", "[::1]:80/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := provoras.ParseReference(s)
		if err != nil {
			var re *provoras.ReferenceError
			if !errors.As(err, &re) || !errors.Is(err, provoras.ErrInvalidReference) {
				t.Fatalf("ParseReference(%q) = %v, not a *ReferenceError", s, err)
			}
			return
		}
		if (r.Layout == "") == (r.Repository == "") {
			t.Fatalf("ParseReference(%q) = %+v: want exactly one of Layout and Repository", s, r)
		}
		if r.Digest != "" && r.Digest.Validate() != nil {
			t.Fatalf("ParseReference(%q) = %+v: invalid digest", s, r)
		}
		if r.Repository != "" {
			again, err := provoras.ParseReference(r.String())
			if err != nil || again != r {
				t.Fatalf("ParseReference(%q) = %+v; its String %q parses to %+v, %v", s, r, r.String(), again, err)
			}
		}
	})
}

// TestParseRemoteReference: registry references parse as ParseReference parses them; paths,
// layouts and directories holding a layout are never read as layouts, even when one exists.
func TestParseRemoteReference(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "localhost", "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "localhost", "app", "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, in := range []string{"ghcr.io/org/app:v1", "localhost/app:v1@" + testDigest.String(), "[::1]:5000/app:v1", "localhost/app:v1"} {
		got, err := provoras.ParseRemoteReference(in)
		if err != nil {
			t.Fatalf("ParseRemoteReference(%q): %v", in, err)
		}
		if got.Layout != "" || got.Repository == "" {
			t.Errorf("ParseRemoteReference(%q) = %+v, want a registry reference", in, got)
		}
	}
	if got, _ := provoras.ParseReference("localhost/app:v1"); got.Layout == "" {
		t.Fatalf("the fixture should make ParseReference read localhost/app as a layout, got %+v", got)
	}
	for _, in := range []string{"", "oci-layout:pack", "/srv/pack", "./pack:v1", ".", "pack", "app:v1", "ghcr.io/org/app@", "ghcr.io/Org/App"} {
		_, err := provoras.ParseRemoteReference(in)
		var re *provoras.ReferenceError
		if !errors.Is(err, provoras.ErrInvalidReference) || !errors.As(err, &re) || re.Reference != in {
			t.Errorf("ParseRemoteReference(%q) = %v, want a *ReferenceError naming it", in, err)
		}
	}
}
