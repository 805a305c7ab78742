package provenance_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance"
)

var hex64 = strings.Repeat("ab", 32)

func TestNormalizeDigest(t *testing.T) {
	tests := []struct {
		name, alg, value string
		want             digest.Digest
	}{
		{"sha256", "sha256", hex64, digest.Digest("sha256:" + hex64)},
		{"upper-case hex", "sha256", strings.ToUpper(hex64), digest.Digest("sha256:" + hex64)},
		{"sha512", "sha512", hex64 + hex64, digest.Digest("sha512:" + hex64 + hex64)},
		{"blake2b-512", "blake2b", hex64 + hex64, digest.Digest("blake2b:" + hex64 + hex64)},
		{"blake2s-256", "blake2s", hex64, digest.Digest("blake2s:" + hex64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := provenance.NormalizeDigest(tt.alg, tt.value)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNormalizeDigestRefuses(t *testing.T) {
	tests := []struct{ name, alg, value string }{
		{"md5", "md5", strings.Repeat("a", 32)},
		{"sha1", "sha1", strings.Repeat("a", 40)},
		{"git commit", "gitCommit", strings.Repeat("a", 40)},
		{"made-up algorithm", "mine", hex64},
		{"upper-case algorithm", "SHA256", hex64},
		{"short", "sha256", hex64[:63]},
		{"long", "sha256", hex64 + "a"},
		{"not hex", "sha256", strings.Repeat("g", 64)},
		{"blake2b of any value", "blake2b", "x"},
		{"blake2s of the wrong length", "blake2s", hex64 + hex64},
		{"empty", "sha256", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := provenance.NormalizeDigest(tt.alg, tt.value)
			require.ErrorIs(t, err, provenance.ErrInvalidDigest)
			var de *provenance.DigestError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.alg, de.Algorithm)
		})
	}
}

func TestIdentifyingDigests(t *testing.T) {
	got, err := provenance.IdentifyingDigests(map[string]string{
		"sha256": strings.ToUpper(hex64),
		"md5":    strings.Repeat("0", 32),
		"mine":   "anything",
	})
	require.NoError(t, err)
	assert.Equal(t, []digest.Digest{digest.Digest("sha256:" + hex64)}, got)

	none, err := provenance.IdentifyingDigests(map[string]string{"md5": strings.Repeat("0", 32)})
	require.NoError(t, err)
	assert.Empty(t, none)

	_, err = provenance.IdentifyingDigests(map[string]string{"sha256": "short"})
	require.ErrorIs(t, err, provenance.ErrInvalidDigest)
}

func TestHasDigest(t *testing.T) {
	d := digest.Digest("sha256:" + hex64)
	assert.True(t, provenance.HasDigest(map[string]string{"sha256": strings.ToUpper(hex64)}, d))
	assert.True(t, provenance.HasDigest(map[string]string{"sha256": hex64}, digest.Digest("sha256:"+strings.ToUpper(hex64))))
	assert.False(t, provenance.HasDigest(map[string]string{"sha512": hex64 + hex64}, d))
	assert.False(t, provenance.HasDigest(map[string]string{"md5": strings.Repeat("0", 32)}, digest.Digest("md5:"+strings.Repeat("0", 32))))
	assert.False(t, provenance.HasDigest(map[string]string{"sha256": hex64[:10]}, digest.Digest("sha256:"+hex64[:10])))
}

func TestRepositoryID(t *testing.T) {
	same := []string{
		"https://github.com/org/repo",
		"https://github.com/org/repo.git",
		"https://github.com/org/repo/",
		"https://GitHub.com/Org/Repo",
		"https://x-access-token:ghs_secret@github.com/org/repo.git",
		"git+https://github.com/org/repo@refs/heads/main",
		"git+https://github.com/org/repo.git@refs/tags/v1.0.0",
		"http://github.com/org/repo",
		"https://github.com:443/org/repo",
		"ssh://git@github.com/org/repo.git",
		"ssh://git@github.com:22/org/repo",
		"git+ssh://git@github.com/org/repo.git@main",
		"git://github.com/org/repo",
		"git@github.com:org/repo.git",
		"git@github.com:org/repo",
		"git+git@github.com:org/repo.git@refs/heads/main",
		"github.com/org/repo",
		"github.com/org/repo.git",
	}
	for _, uri := range same {
		t.Run(uri, func(t *testing.T) {
			got, err := provenance.RepositoryID(uri)
			require.NoError(t, err)
			assert.Equal(t, "github.com/org/repo", got)
		})
	}

	different := map[string]string{
		"https://gitlab.example/Group/Sub/Project.git":       "gitlab.example/Group/Sub/Project",
		"https://github.com/org/repo-other":                  "github.com/org/repo-other",
		"https://github.com/evil/repo@github.com/org/repo":   "github.com/evil/repo",
		"git+https://github.com/evil/x@/github.com/org/repo": "github.com/evil/x",
		"https://github.com.evil.example/org/repo":           "github.com.evil.example/org/repo",
	}
	for uri, want := range different {
		t.Run(uri, func(t *testing.T) {
			got, err := provenance.RepositoryID(uri)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

func TestRepositoryIDRefuses(t *testing.T) {
	for _, uri := range []string{
		"",
		"https://github.com",
		"https://github.com/",
		"https:///org/repo",
		"https://github.com/org/repo?ref=main",
		"https://github.com/org/repo#main",
		"https://github.com/org/../other",
		"https://github.com/org//repo",
		"file:///src/repo",
		"https://github.com/org/repo\n",
		"https://github.com/org/re po",
		"https://gith\u202eub.com/org/repo",
		"ssh://git@github.com:org/repo",
	} {
		t.Run(uri, func(t *testing.T) {
			_, err := provenance.RepositoryID(uri)
			require.ErrorIs(t, err, provenance.ErrInvalidRepository)
			var re *provenance.RepositoryError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, uri, re.URI)
		})
	}
}

func FuzzRepositoryID(f *testing.F) {
	for _, s := range []string{
		"https://github.com/org/repo", "git@github.com:org/repo.git", "git+ssh://git@host:2222/a/b.git@v1",
		"ssh://[::1]:22/a/b", "host/a", "https://u:p@h/a/b/", "git+https://h/a@b@c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		id, err := provenance.RepositoryID(uri)
		if err != nil {
			if !errors.Is(err, provenance.ErrInvalidRepository) {
				t.Fatalf("error %v does not wrap ErrInvalidRepository", err)
			}
			return
		}
		// The identity is a fixed point, and so are the URL forms written from it.
		for _, again := range []string{id, "https://" + id, "https://" + id + ".git"} {
			got, err := provenance.RepositoryID(again)
			if err != nil || got != id {
				t.Fatalf("RepositoryID(%q) = %q, %v; want %q (from %q)", again, got, err, id, uri)
			}
		}
	})
}

func FuzzNormalizeDigest(f *testing.F) {
	f.Add("sha256", hex64)
	f.Add("blake2b", "x")
	f.Add("sha512", strings.ToUpper(hex64+hex64))
	f.Fuzz(func(t *testing.T, alg, value string) {
		d, err := provenance.NormalizeDigest(alg, value)
		if err != nil {
			if !errors.Is(err, provenance.ErrInvalidDigest) {
				t.Fatalf("error %v does not wrap ErrInvalidDigest", err)
			}
			return
		}
		again, err := provenance.ParseDigest(string(d))
		if err != nil || again != d {
			t.Fatalf("ParseDigest(%q) = %q, %v", d, again, err)
		}
		if !provenance.HasDigest(map[string]string{alg: value}, d) {
			t.Fatalf("HasDigest of its own set is false for %q", d)
		}
	})
}
