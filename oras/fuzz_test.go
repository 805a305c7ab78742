package oras

import (
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
)

// FuzzParseDocument feeds untrusted manifest and index bytes to the parser Discover and Fetch
// use. It must never panic, and whatever it accepts must hold only well-formed descriptors.
func FuzzParseDocument(f *testing.F) {
	seeds := []string{
		`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"annotations":{"dev.sigstore.bundle.predicateType":"https://slsa.dev/provenance/v1"}}`,
		`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"platform":{"os":"unknown","architecture":"unknown"},"annotations":{"vnd.docker.reference.type":"attestation-manifest"}}]}`,
		`{"layers":[{"digest":"sha256:zz","size":-1}]}`,
		`{"manifests":null}`,
		`[]`,
		``,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := parseDocument(digest.FromBytes(data), data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, provenance.ErrTooLarge) {
				t.Fatalf("error %v wraps neither ErrMalformed nor ErrTooLarge", err)
			}
			return
		}
		for _, d := range slices.Concat(doc.Layers, doc.Manifests) {
			if d.Digest.Validate() != nil || d.Size < 0 {
				t.Fatalf("accepted a malformed descriptor %q size %d", d.Digest, d.Size)
			}
		}
		if doc.Subject != nil && doc.Subject.Digest.Validate() != nil {
			t.Fatalf("accepted a malformed subject %q", doc.Subject.Digest)
		}
	})
}

// FuzzBundleHint feeds untrusted listed annotations to the parser FetchAttestation and Attach
// use. Whatever it accepts must be a fetchable blob descriptor: a valid digest, a positive
// size, and a media type that is not a manifest's.
func FuzzBundleHint(f *testing.F) {
	f.Add("application/vnd.dev.sigstore.bundle.v0.3+json", "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "2")
	f.Add("application/vnd.oci.image.manifest.v1+json", "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "2")
	f.Add("application/json", "sha256:zz", "+2")
	f.Add("application/json", "sha512:44136fa3", "-1")
	f.Add("", "", "99999999999999999999")
	f.Fuzz(func(t *testing.T, artifactType, dgst, size string) {
		d, ok := bundleHint(ocispec.Descriptor{ArtifactType: artifactType,
			Annotations: map[string]string{AnnotationBundleDigest: dgst, AnnotationBundleSize: size}})
		if !ok {
			return
		}
		if d.Digest.Validate() != nil || d.Size <= 0 || d.MediaType != artifactType || isManifest(d.MediaType) || isIndex(d.MediaType) {
			t.Fatalf("accepted %q %q %q as %+v", artifactType, dgst, size, d)
		}
		if d.Digest.String() != dgst || strconv.FormatInt(d.Size, 10) != size {
			t.Fatalf("%q %q read as %s %d", dgst, size, d.Digest, d.Size)
		}
	})
}

// FuzzDecodeImage feeds untrusted manifest, index and image configuration bytes to the
// decoders Image uses. They must never panic, fail only with ErrMalformed or ErrTooLarge, and
// return exactly one of Index and Manifest, matching the descriptor's media type, with a
// well-formed config descriptor for a manifest.
func FuzzDecodeImage(f *testing.F) {
	seeds := []string{
		`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`,
		`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`,
		`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"platform":{"os":"linux","architecture":"amd64"}}]}`,
		`{"architecture":"amd64","os":"linux","config":{"User":"1000","Env":["A=b"],"Labels":{"k":"v"}},"rootfs":{"type":"layers","diff_ids":[]}}`,
		`{"schemaVersion":1}`,
		`{"config":{"User":7}}`,
		`null`,
		` [1]`,
		``,
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, index bool) {
		desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(data), Size: int64(len(data))}
		if index {
			desc.MediaType = ocispec.MediaTypeImageIndex
		}
		img, err := decodeImage(desc, data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, provenance.ErrTooLarge) {
				t.Fatalf("decodeImage error %v wraps neither ErrMalformed nor ErrTooLarge", err)
			}
		} else {
			if (img.Index != nil) != index || (img.Manifest != nil) == index || img.Config != nil {
				t.Fatalf("decoded %s as index %v manifest %v config %v", desc.MediaType, img.Index != nil, img.Manifest != nil, img.Config != nil)
			}
			if img.Manifest != nil && (img.Manifest.Config.Digest.Validate() != nil || img.Manifest.Config.Size < 0) {
				t.Fatalf("accepted a malformed config descriptor %+v", img.Manifest.Config)
			}
		}
		if _, err := decodeConfig(desc.Digest, desc.Digest, data); err != nil &&
			!errors.Is(err, ErrMalformed) && !errors.Is(err, provenance.ErrTooLarge) {
			t.Fatalf("decodeConfig error %v wraps neither ErrMalformed nor ErrTooLarge", err)
		}
	})
}
