package lineage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/lineage"
)

// storeFixture is a memory store holding an image built from a dataset that is stored as an OCI
// artifact, each with its provenance attached, and with attestations that must not enter the
// graph: a forgery signed by an untrusted key, a statement about another artifact, and an
// unsigned statement.
type storeFixture struct {
	store                  *oras.Store
	image, datasetManifest ocispec.Descriptor
	dataset, survey        digest.Digest // the dataset file and the survey it was made from
	poisoned, other        digest.Digest // inputs named only by rejected statements
	forged, wrongSubject   ocispec.Descriptor
	unsigned               ocispec.Descriptor
	verifier               *verify.Verifier
	identity               verify.Identity
}

// pushFile stores data as a one-layer OCI artifact, as oras.Store.PushFile does, and returns the
// manifest and the file's digest.
func pushFile(t *testing.T, s *oras.Store, name string, data []byte) (ocispec.Descriptor, digest.Digest) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	m, file, err := s.PushFile(context.Background(), path, "")
	if err != nil {
		t.Fatal(err)
	}
	return m, file.Digest
}

func attach(t *testing.T, s *oras.Store, subject ocispec.Descriptor, b provenance.Bundle) ocispec.Descriptor {
	t.Helper()
	d, err := s.Attach(context.Background(), subject, b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func buildStatement(t *testing.T, subject *intoto.ResourceDescriptor, builder string, inputs ...*intoto.ResourceDescriptor) *intoto.Statement {
	t.Helper()
	b := &provenance.Build{BuildType: "https://provkit.dev/build/v1", BuilderID: builder,
		ExternalParameters: map[string]any{"step": builder}, ResolvedDependencies: inputs}
	st, err := b.Statement([]*intoto.ResourceDescriptor{subject})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// stores are the Store backends Collect is tested on.
var stores = []struct {
	name string
	open func(t *testing.T) (*oras.Store, error)
}{
	{"memory", func(*testing.T) (*oras.Store, error) { return oras.NewMemory() }},
	{"layout", func(t *testing.T) (*oras.Store, error) { return oras.NewLayout(t.Context(), t.TempDir()) }},
	{"registry", func(t *testing.T) (*oras.Store, error) {
		repo := fmt.Sprintf("%s/lineage/collect-%d", testenv.Olareg(t), time.Now().UnixNano())
		return oras.NewRemote(repo, oras.WithPlainHTTPUnsafe())
	}},
}

func newStoreFixture(t *testing.T) *storeFixture {
	t.Helper()
	return newStoreFixtureIn(t, func(*testing.T) (*oras.Store, error) { return oras.NewMemory() })
}

func newStoreFixtureIn(t *testing.T, open func(*testing.T) (*oras.Store, error)) *storeFixture {
	t.Helper()
	alice, mallory := ecdsaKey(t), ecdsaKey(t)
	s, err := open(t)
	if err != nil {
		t.Fatal(err)
	}
	f := &storeFixture{store: s, survey: digest.FromString("survey export"), poisoned: digest.FromString("poisoned"),
		other: digest.FromString("another artifact")}
	f.image = testenv.PushImage(t, s.Target(), "app", "model server")
	f.datasetManifest, f.dataset = pushFile(t, s, "data.csv", []byte("id,score\n1,7.5\n"))

	// The dataset's provenance, attached to its artifact manifest, names the file's digest.
	attach(t, s, f.datasetManifest, signStatement(t, alice, buildStatement(t, rd("data.csv", f.dataset), "ingest", rd("survey.csv", f.survey))))
	// The image's provenance names the image and the dataset it was built from.
	imageRD, err := provenance.SubjectFromDescriptor("registry.example/app", f.image)
	if err != nil {
		t.Fatal(err)
	}
	attach(t, s, f.image, signStatement(t, alice, buildStatement(t, imageRD, "train", rd("data.csv", f.dataset))))
	// A forgery: the image made from a poisoned dataset, signed by a key nobody trusts.
	f.forged = attach(t, s, f.image, signStatement(t, mallory, buildStatement(t, imageRD, "train", rd("poisoned.csv", f.poisoned))))
	// A genuine statement about another artifact, attached to the image.
	f.wrongSubject = attach(t, s, f.image, signStatement(t, alice, buildStatement(t, rd("other", f.other), "other", rd("poisoned.csv", f.poisoned))))
	// An unsigned statement, as BuildKit stores them.
	unsigned, err := provenance.Marshal(buildStatement(t, imageRD, "train", rd("poisoned.csv", f.poisoned)))
	if err != nil {
		t.Fatal(err)
	}
	f.unsigned = attach(t, s, f.image, provenance.Bundle{MediaType: provenance.MediaTypeInToto, Data: unsigned})

	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "alice", Key: alice.Public()})
	if err != nil {
		t.Fatal(err)
	}
	if f.verifier, err = verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe()); err != nil {
		t.Fatal(err)
	}
	f.identity = verify.KeyIDs("alice")
	return f
}

func (f *storeFixture) stored() []lineage.Stored {
	return []lineage.Stored{{Subject: f.image}, {Subject: f.datasetManifest, Artifact: f.dataset}}
}

func TestCollect(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) { testCollect(t, newStoreFixtureIn(t, st.open)) })
	}
}

func testCollect(t *testing.T, f *storeFixture) {
	c, err := lineage.Collect(t.Context(), f.store, f.verifier, f.identity, f.stored()...)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Results) != 2 {
		t.Fatalf("%d results, want 2", len(c.Results))
	}
	if c.Results[0].Subject() != f.image.Digest || c.Results[1].Subject() != f.dataset {
		t.Errorf("results about %s, %s; want the image, then the dataset", c.Results[0].Subject(), c.Results[1].Subject())
	}

	rejected := map[digest.Digest]lineage.Rejected{}
	for _, r := range c.Rejected {
		if r.Subject.Digest != f.image.Digest {
			t.Errorf("rejected attestation of %s", r.Subject.Digest)
		}
		rejected[r.Attestation.Digest] = r
	}
	if len(rejected) != 3 || len(c.Rejected) != 3 {
		t.Fatalf("rejected %v, want the forged, wrong-subject and unsigned attestations", c.Rejected)
	}
	var ve *verify.VerificationError
	if err := rejected[f.forged.Digest].Err; !errors.Is(err, verify.ErrVerification) || !errors.As(err, &ve) ||
		ve.Check != verify.CheckSignature && ve.Check != verify.CheckKey {
		t.Errorf("forged: %v, want a signature or key verification failure", err)
	}
	var se *verify.SubjectError
	if err := rejected[f.wrongSubject.Digest].Err; !errors.Is(err, verify.ErrVerification) || !errors.As(err, &se) || se.Expected != f.image.Digest {
		t.Errorf("wrong subject: %v, want a *verify.SubjectError about the image", err)
	}
	var ne *lineage.NotAttestationError
	if err := rejected[f.unsigned.Digest].Err; !errors.Is(err, lineage.ErrNotAttestation) || !errors.Is(err, verify.ErrUnsupportedMediaType) ||
		!errors.As(err, &ne) || ne.MediaType != provenance.MediaTypeInToto {
		t.Errorf("unsigned: %v, want a *NotAttestationError for %s", err, provenance.MediaTypeInToto)
	}

	g, err := lineage.New(c.Results)
	if err != nil {
		t.Fatal(err)
	}
	up, err := g.Upstream(f.image.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if want := sorted(f.dataset, f.survey); !slices.Equal(up, want) {
		t.Errorf("upstream of the image %v, want %v", up, want)
	}
	for _, d := range []digest.Digest{f.poisoned, f.other} {
		if _, ok := g.Node(d); ok {
			t.Errorf("%s, named only by rejected statements, is in the graph", d)
		}
	}
	path, err := g.Path(f.survey, f.image.Digest)
	if err != nil || len(path) != 2 || path[0].To != f.dataset || path[1].To != f.image.Digest {
		t.Errorf("path survey -> image: %v, %v", path, err)
	}

	// The same store, asked again and with the subjects repeated, gives the same answer.
	again, err := lineage.Collect(t.Context(), f.store, f.verifier, f.identity, append(f.stored(), f.stored()...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(again.Rejected, c.Rejected, func(x, y lineage.Rejected) bool { return x.Attestation.Digest == y.Attestation.Digest }) ||
		len(again.Results) != len(c.Results) {
		t.Errorf("second collection differs: %v", again)
	}

	t.Run("json", func(t *testing.T) {
		b, err := json.Marshal(rejected[f.wrongSubject.Digest])
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Subject, Attestation ocispec.Descriptor
			Reason               string
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.Subject.Digest != f.image.Digest || got.Attestation.Digest != f.wrongSubject.Digest || !strings.Contains(got.Reason, "not in statement") {
			t.Errorf("JSON %s", b)
		}
	})
}

// faultySource injects failures into a real store.
type faultySource struct {
	lineage.Source
	fetchErr error
	extra    []ocispec.Descriptor // listed after the store's referrers
}

func (s faultySource) Referrers(ctx context.Context, subject ocispec.Descriptor, artifactType string) ([]ocispec.Descriptor, error) {
	refs, err := s.Source.Referrers(ctx, subject, artifactType)
	return append(refs, s.extra...), err
}

func (s faultySource) Fetch(ctx context.Context, d ocispec.Descriptor) (provenance.Bundle, error) {
	if s.fetchErr != nil {
		return provenance.Bundle{}, s.fetchErr
	}
	return s.Source.Fetch(ctx, d)
}

func TestCollectErrors(t *testing.T) {
	f := newStoreFixture(t)
	unknown := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("not stored"), Size: 10}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		src    lineage.Source
		id     verify.Identity
		stored []lineage.Stored
		op     string
		want   error
	}{
		{"unknown subject", t.Context(), f.store, f.identity, []lineage.Stored{{Subject: unknown}}, "list", provenance.ErrNotFound},
		{"sha384 artifact", t.Context(), f.store, f.identity,
			[]lineage.Stored{{Subject: f.image, Artifact: digest.SHA384.FromString("x")}}, "check", verify.ErrInvalidSubject},
		{"malformed subject", t.Context(), f.store, f.identity, []lineage.Stored{{Subject: ocispec.Descriptor{Digest: "sha256:zz"}}}, "check", verify.ErrInvalidSubject},
		{"zero identity", t.Context(), f.store, verify.Identity{}, f.stored(), "check", verify.ErrInvalidIdentity},
		{"fetch fails", t.Context(), faultySource{Source: f.store, fetchErr: errors.New("connection reset")}, f.identity, f.stored(), "fetch", nil},
		{"cancelled", cancelled, f.store, f.identity, f.stored(), "", context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := lineage.Collect(tt.ctx, tt.src, f.verifier, tt.id, tt.stored...)
			var ce *lineage.CollectError
			if c != nil || !errors.Is(err, lineage.ErrCollect) || !errors.As(err, &ce) || tt.op != "" && ce.Op != tt.op {
				t.Fatalf("got %v, %v; want a *CollectError of %q", c, err, tt.op)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want it to wrap %v", err, tt.want)
			}
			if errors.Is(err, verify.ErrVerification) {
				t.Fatalf("%v is a verdict on the evidence", err)
			}
			if ce.Subject.Digest != "" && !strings.Contains(err.Error(), string(ce.Subject.Digest)) {
				t.Errorf("%q does not name the subject", err)
			}
		})
	}

	t.Run("nil source", func(t *testing.T) {
		_, err := lineage.Collect(t.Context(), nil, f.verifier, f.identity, f.stored()...)
		if !errors.Is(err, lineage.ErrCollect) || err.Error() != "lineage: check: nil source or verifier" {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("oversized bundle rejected", func(t *testing.T) {
		src := faultySource{Source: f.store, fetchErr: &provenance.SizeError{What: "bundle", Limit: provenance.MaxBundleBytes, Size: -1}}
		c, err := lineage.Collect(t.Context(), src, f.verifier, f.identity, f.stored()...)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Results) != 0 || len(c.Rejected) != 5 {
			t.Fatalf("%d results, %d rejected", len(c.Results), len(c.Rejected))
		}
		for _, r := range c.Rejected {
			if !errors.Is(r.Err, verify.ErrVerification) || !errors.Is(r.Err, provenance.ErrTooLarge) {
				t.Errorf("%v", r.Err)
			}
		}
	})
	t.Run("index referrer rejected", func(t *testing.T) {
		index := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromString("an index"), Size: 2}
		c, err := lineage.Collect(t.Context(), faultySource{Source: f.store, extra: []ocispec.Descriptor{index}}, f.verifier, f.identity, lineage.Stored{Subject: f.datasetManifest, Artifact: f.dataset})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Results) != 1 || len(c.Rejected) != 1 || c.Rejected[0].Attestation.Digest != index.Digest || !errors.Is(c.Rejected[0].Err, lineage.ErrNotAttestation) {
			t.Fatalf("results %d, rejected %v", len(c.Results), c.Rejected)
		}
	})
}

// BenchmarkCollect lists, fetches and verifies 64 key-signed attestations of one image in a
// memory store.
func BenchmarkCollect(b *testing.B) {
	const n = 64
	ctx := b.Context()
	key := ecdsaKey(b)
	s, err := oras.NewMemory()
	if err != nil {
		b.Fatal(err)
	}
	image := testenv.PushImage(b, s.Target(), "app", "bench")
	imageRD, err := provenance.SubjectFromDescriptor("registry.example/app", image)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		build := &provenance.Build{BuildType: "https://provkit.dev/build/v1", BuilderID: "https://ci.example/runner",
			ExternalParameters: map[string]any{"run": i}, ResolvedDependencies: []*intoto.ResourceDescriptor{rd("input", digest.FromString(fmt.Sprint(i)))}}
		st, err := build.Statement([]*intoto.ResourceDescriptor{imageRD})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Attach(ctx, image, signStatement(b, key, st)); err != nil {
			b.Fatal(err)
		}
	}
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "ci", Key: key.Public()})
	if err != nil {
		b.Fatal(err)
	}
	v, err := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		c, err := lineage.Collect(ctx, s, v, verify.KeyIDs("ci"), lineage.Stored{Subject: image})
		if err != nil || len(c.Results) != n {
			b.Fatalf("%v, %v", c, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/attestation")
}

// TestCollectUpstream starts from an app image only, and finds its base image's provenance
// because the app's names the base image, which the store holds; and the base's own source
// beyond it. A dependency the store does not hold ends the walk; a forged statement on the base
// image is rejected as Collect rejects it.
func TestCollectUpstream(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			alice, mallory := ecdsaKey(t), ecdsaKey(t)
			s, err := st.open(t)
			if err != nil {
				t.Fatal(err)
			}
			base := testenv.PushImage(t, s.Target(), "base", "base layer")
			app := testenv.PushImage(t, s.Target(), "app", "app layer")
			baseRD, err := provenance.SubjectFromDescriptor("registry.example/base", base)
			if err != nil {
				t.Fatal(err)
			}
			appRD, err := provenance.SubjectFromDescriptor("registry.example/app", app)
			if err != nil {
				t.Fatal(err)
			}
			source := digest.FromString("base source")
			absent := digest.FromString("a module the store does not hold")
			attach(t, s, base, signStatement(t, alice, buildStatement(t, baseRD, "base", rd("base.git", source))))
			attach(t, s, base, signStatement(t, mallory, buildStatement(t, baseRD, "base", rd("evil.git", digest.FromString("evil")))))
			attach(t, s, app, signStatement(t, alice, buildStatement(t, appRD, "app", baseRD, rd("module", absent))))
			keys, err := verify.TrustedKeys(verify.PublicKey{ID: "alice", Key: alice.Public()})
			if err != nil {
				t.Fatal(err)
			}
			v, err := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
			if err != nil {
				t.Fatal(err)
			}

			// The app image is resolved by tag: a memory store finds manifests by tag only.
			appDesc, err := s.Resolve(t.Context(), "app")
			if err != nil {
				t.Fatal(err)
			}
			c, err := lineage.CollectUpstream(t.Context(), s, v, verify.KeyIDs("alice"), lineage.Stored{Subject: appDesc})
			if err != nil {
				t.Fatal(err)
			}
			if st.name == "memory" {
				// A memory store does not resolve by digest, so the walk cannot leave the app.
				if len(c.Results) != 1 {
					t.Fatalf("%d results, want the app's only", len(c.Results))
				}
				return
			}
			if len(c.Results) != 2 || len(c.Rejected) != 1 || c.Rejected[0].Subject.Digest != base.Digest {
				t.Fatalf("%d results, rejected %v; want the app's and the base's, and the base's forgery rejected", len(c.Results), c.Rejected)
			}
			g, err := lineage.New(c.Results)
			if err != nil {
				t.Fatal(err)
			}
			up, err := g.Upstream(app.Digest)
			if err != nil {
				t.Fatal(err)
			}
			want := []digest.Digest{base.Digest, source, absent}
			slices.Sort(want)
			if !slices.Equal(up, want) {
				t.Fatalf("upstream of the app = %v, want %v", up, want)
			}
		})
	}
}
