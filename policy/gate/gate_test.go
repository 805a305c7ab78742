package gate_test

import (
	"archive/tar"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

const builder = "https://ci.example/builders/release"

// backend is a store kind the tests run on; repo is the name statements give the image.
type backend struct {
	name string
	open func(t *testing.T) (store *oras.Store, repo string)
}

func remote(host func(testing.TB) string) func(t *testing.T) (*oras.Store, string) {
	return func(t *testing.T) (*oras.Store, string) {
		// A registry program outlives the test run: each test gets a repository of its own.
		repo := host(t) + "/gate/" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")) + "-" + rand.Text()[:8]
		repo = strings.ToLower(repo)
		s, err := oras.NewRemote(repo, oras.WithPlainHTTPUnsafe())
		if err != nil {
			t.Fatal(err)
		}
		return s, repo
	}
}

var backends = []backend{
	{"memory", func(t *testing.T) (*oras.Store, string) {
		s, err := oras.NewMemory()
		if err != nil {
			t.Fatal(err)
		}
		return s, "memory.example/app"
	}},
	{"layout", func(t *testing.T) (*oras.Store, string) {
		s, err := oras.NewLayout(t.Context(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s, "layout.example/app"
	}},
	{"olareg", remote(testenv.OlaregServer)},
	{"distribution", remote(testenv.Distribution)},
}

// keys is a trusted and an untrusted signing key, and a verifier trusting the first.
type keys struct {
	trusted, other *ecdsa.PrivateKey
	verifier       *verify.Verifier
}

func newKeys(t testing.TB) *keys {
	t.Helper()
	k := &keys{}
	var err error
	for _, p := range []**ecdsa.PrivateKey{&k.trusted, &k.other} {
		if *p, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	ks, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: k.trusted.Public()})
	if err != nil {
		t.Fatal(err)
	}
	// Offline: no log and no timestamp authority vouch for the signing time.
	if k.verifier, err = verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe()); err != nil {
		t.Fatal(err)
	}
	return k
}

func checker(t testing.TB, k *keys, opts ...gate.Option) *gate.Checker {
	t.Helper()
	c, err := gate.New(k.verifier, verify.KeyIDs("release"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// prodPolicy allows in prod only what the release builder built.
func prodPolicy(t testing.TB, builderID string) *policy.Policy {
	t.Helper()
	p, err := policy.Load(strings.NewReader(`apiVersion: provkit.dev/policy/v1
kind: Policy
metadata:
  name: release
rules:
  - name: built-by-release
    slsa:
      builders: [{id: "` + builderID + `"}]
environments:
  prod:
    defaultMode: enforce
`))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckOnEveryBackend(t *testing.T) {
	k := newKeys(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store, repo := b.open(t)
			image := testenv.PushImage(t, store.Target(), "v1", "app v1\n")
			good := testenv.AttestSLSA(t, store, repo, image, k.trusted, builder)
			forged := testenv.AttestSLSA(t, store, repo, image, k.other, builder)

			var seen []gate.Progress
			c := checker(t, k, gate.WithPolicy(prodPolicy(t, builder)), gate.WithEnvironment("prod"),
				gate.WithProgress(func(p gate.Progress) { seen = append(seen, p) }))
			report, err := c.Check(t.Context(), store, image)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if len(report.Verified) != 1 || report.Verified[0].Found.Manifest.Digest != good.Digest {
				t.Fatalf("verified %+v, want the attestation %s", report.Verified, good.Digest)
			}
			if len(report.Rejected) != 1 || report.Rejected[0].Found.Manifest.Digest != forged.Digest || !errors.Is(report.Rejected[0].Err, verify.ErrVerification) {
				t.Fatalf("rejected %+v, want %s for bad evidence", report.Rejected, forged.Digest)
			}
			if report.Decision == nil || report.Decision.Verdict != policy.VerdictAllow || report.Decision.Environment != "prod" {
				t.Fatalf("decision %+v", report.Decision)
			}
			if report.Artifact != image.Digest {
				t.Errorf("artifact %s, want the image %s", report.Artifact, image.Digest)
			}
			last := seen[len(seen)-1]
			if len(seen) != 4 || last.Stage != gate.StageVerified || last.Done != 2 || last.Total != 2 {
				t.Errorf("progress %+v", seen)
			}
		})
	}
}

// TestOutcomes: each outcome class is told apart by errors.Is and errors.As alone.
func TestOutcomes(t *testing.T) {
	k := newKeys(t)
	ctx := t.Context()
	store, err := oras.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	const repo = "memory.example/app"
	bare := testenv.PushImage(t, store.Target(), "bare", "nothing attached\n")
	testenv.AttestSLSA(t, store, repo, testenv.PushImage(t, store.Target(), "forged", "forged\n"), k.other, builder)
	forgedImage, err := store.Resolve(ctx, "forged")
	if err != nil {
		t.Fatal(err)
	}
	otherBuilder := testenv.PushImage(t, store.Target(), "other", "built elsewhere\n")
	testenv.AttestSLSA(t, store, repo, otherBuilder, k.trusted, "https://ci.example/builders/laptop")
	c := checker(t, k, gate.WithPolicy(prodPolicy(t, builder)), gate.WithEnvironment("prod"))

	t.Run("no attestations", func(t *testing.T) {
		_, err := c.Check(ctx, store, bare)
		var nae *gate.NoAttestationsError
		if !errors.As(err, &nae) || !errors.Is(err, gate.ErrNoAttestations) || !errors.Is(err, policy.ErrDenied) || errors.Is(err, gate.ErrNoneVerified) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("none verified", func(t *testing.T) {
		report, err := c.Check(ctx, store, forgedImage)
		var nve *gate.NoneVerifiedError
		if !errors.As(err, &nve) || !errors.Is(err, gate.ErrNoneVerified) || !errors.Is(err, policy.ErrDenied) || errors.Is(err, gate.ErrNoAttestations) {
			t.Fatalf("err = %v", err)
		}
		if len(nve.Rejected) != 1 || !errors.Is(nve.Rejected[0].Err, verify.ErrVerification) || report == nil || report.Decision != nil {
			t.Fatalf("rejected %+v, report %+v", nve.Rejected, report)
		}
	})
	t.Run("denied by policy", func(t *testing.T) {
		report, err := c.Check(ctx, store, otherBuilder)
		var de *policy.DeniedError
		if !errors.As(err, &de) || errors.Is(err, gate.ErrNoneVerified) || errors.Is(err, gate.ErrNotChecked) {
			t.Fatalf("err = %v", err)
		}
		if len(report.Verified) != 1 || report.Decision != de.Decision {
			t.Fatalf("report %+v", report)
		}
	})
	t.Run("subject not in the store", func(t *testing.T) {
		missing := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("absent"), Size: 10}
		_, err := c.Check(ctx, store, missing)
		var ce *gate.CheckError
		if !errors.As(err, &ce) || !errors.Is(err, gate.ErrNotChecked) || !errors.Is(err, provenance.ErrNotFound) || errors.Is(err, policy.ErrDenied) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unreachable registry", func(t *testing.T) {
		s, err := oras.NewRemote("127.0.0.1:1/gate/app", oras.WithPlainHTTPUnsafe())
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Check(ctx, s, bare)
		if !errors.Is(err, gate.ErrNotChecked) || errors.Is(err, policy.ErrDenied) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("without a policy one verified attestation passes", func(t *testing.T) {
		report, err := checker(t, k).Check(ctx, store, otherBuilder)
		if err != nil || len(report.Results()) != 1 || report.Decision != nil {
			t.Fatalf("report %+v, err %v", report, err)
		}
	})
}

func TestNewRefusesContradictions(t *testing.T) {
	k := newKeys(t)
	pol := prodPolicy(t, builder)
	for name, tc := range map[string]struct {
		id   verify.Identity
		opts []gate.Option
	}{
		"zero identity":             {verify.Identity{}, nil},
		"environment, no policy":    {verify.KeyIDs("release"), []gate.Option{gate.WithEnvironment("prod")}},
		"environment not in policy": {verify.KeyIDs("release"), []gate.Option{gate.WithPolicy(pol), gate.WithEnvironment("staging")}},
		"concurrency 0":             {verify.KeyIDs("release"), []gate.Option{gate.WithConcurrency(0)}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := gate.New(k.verifier, tc.id, tc.opts...); !errors.Is(err, gate.ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

// TestFileStoredWithPushFile: the statements about a file name the file, and Check finds
// them through the manifest PushFile wrote.
func TestFileStoredWithPushFile(t *testing.T) {
	k := newKeys(t)
	ctx := t.Context()
	store, err := oras.NewLayout(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.bin")
	if err := os.WriteFile(path, []byte("weights\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	manifest, file, err := store.PushFile(ctx, path, "model")
	if err != nil {
		t.Fatal(err)
	}
	subject, err := provenance.SubjectFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := (&provenance.Build{BuildType: "https://example.com/train/v1", BuilderID: builder,
		ExternalParameters: map[string]any{"epochs": 3}}).Statement([]*intoto.ResourceDescriptor{subject})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := sign.NewKeySigner(k.trusted)
	if err != nil {
		t.Fatal(err)
	}
	b, err := signer.Sign(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Attach(ctx, manifest, b); err != nil {
		t.Fatal(err)
	}
	resolved, err := store.Resolve(ctx, "model")
	if err != nil {
		t.Fatal(err)
	}
	report, err := checker(t, k).Check(ctx, store, resolved)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if report.Artifact != file.Digest || len(report.Verified) != 1 {
		t.Fatalf("artifact %s (want the file %s), verified %d", report.Artifact, file.Digest, len(report.Verified))
	}
}

// TestCosignWrittenAttestations: what cosign attests, in its bundle format and as a legacy
// ".att" tag, Check verifies against the cosign key.
func TestCosignWrittenAttestations(t *testing.T) {
	cosign := testenv.Cosign(t)
	for _, b := range backends[2:] {
		t.Run(b.name, func(t *testing.T) {
			store, repo := b.open(t)
			dir := t.TempDir()
			env := append(os.Environ(), "COSIGN_PASSWORD=", "HOME="+dir, "TUF_ROOT="+filepath.Join(dir, "tuf"))
			run := func(args ...string) {
				t.Helper()
				cmd := exec.CommandContext(t.Context(), cosign, args...)
				cmd.Env = env
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Run(); err != nil {
					t.Fatalf("cosign %v: %v\n%s", args, err, out.String())
				}
			}
			run("generate-key-pair", "--output-key-prefix", filepath.Join(dir, "cosign"))
			run("signing-config", "create", "--out", filepath.Join(dir, "sc.json"))
			pred := filepath.Join(dir, "pred.json")
			if err := os.WriteFile(pred, []byte(`{"buildDefinition":{"buildType":"https://example.com/b","externalParameters":{"ref":"main"}},"runDetails":{"builder":{"id":"`+builder+`"}}}`), 0o600); err != nil {
				t.Fatal(err)
			}
			pemKey, err := os.ReadFile(filepath.Join(dir, "cosign.pub"))
			if err != nil {
				t.Fatal(err)
			}
			pub, err := verify.ParsePublicKeyPEM("cosign", pemKey)
			if err != nil {
				t.Fatal(err)
			}
			ks, err := verify.TrustedKeys(pub)
			if err != nil {
				t.Fatal(err)
			}
			v, err := verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
			if err != nil {
				t.Fatal(err)
			}
			c, err := gate.New(v, verify.KeyIDs("cosign"), gate.WithPolicy(prodPolicy(t, builder)), gate.WithEnvironment("prod"))
			if err != nil {
				t.Fatal(err)
			}
			for _, format := range []struct {
				name  string
				flags []string
				want  oras.Source
			}{
				{"bundle", []string{"--signing-config", filepath.Join(dir, "sc.json")}, ""},
				{"legacy", []string{"--new-bundle-format=false", "--tlog-upload=false", "--use-signing-config=false"}, oras.SourceCosignAttTag},
			} {
				t.Run(format.name, func(t *testing.T) {
					image := testenv.PushImage(t, store.Target(), format.name, format.name+"\n")
					args := append([]string{"attest", "--key", filepath.Join(dir, "cosign.key"), "--type", "slsaprovenance1", "--predicate", pred},
						format.flags...)
					run(append(args, "--allow-http-registry", "-y", repo+"@"+image.Digest.String())...)
					report, err := c.Check(t.Context(), store, image)
					if err != nil {
						t.Fatalf("Check: %v", err)
					}
					if len(report.Verified) != 1 || (format.want != "" && report.Verified[0].Found.Source != format.want) {
						t.Fatalf("verified %+v", report.Verified)
					}
				})
			}
		})
	}
}

// TestEvidencePack: an OCI layout written at release time, carried as a tar archive and opened
// read-only, is checked offline as the layout itself was.
func TestEvidencePack(t *testing.T) {
	k := newKeys(t)
	ctx := t.Context()
	dir := t.TempDir()
	store, err := oras.NewLayout(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	image := testenv.PushImage(t, store.Target(), "v1", "released\n")
	testenv.AttestSLSA(t, store, "layout.example/app", image, k.trusted, builder)

	pack := filepath.Join(t.TempDir(), "evidence.tar")
	f, err := os.Create(pack)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(tw.Close(), f.Close()); err != nil {
		t.Fatal(err)
	}
	packed, err := oras.OpenLayoutTar(ctx, pack)
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := packed.Resolve(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	report, err := checker(t, k, gate.WithPolicy(prodPolicy(t, builder)), gate.WithEnvironment("prod")).Check(ctx, packed, resolved)
	if err != nil || len(report.Verified) != 1 || report.Decision.Verdict != policy.VerdictAllow {
		t.Fatalf("report %+v, err %v", report, err)
	}
}
