package rerun_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	orasgo "oras.land/oras-go/v2"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/rerun"
)

// Re-run a recorded "upper" step that upper-cases a text file, from its verified record. The
// command runs through a Runner written in Go here, as a container runtime would be plugged
// in; the default runner chroots into the image, which needs root.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "rerun-example-")
	defer os.RemoveAll(dir)
	store, _ := oras.NewLayout(ctx, filepath.Join(dir, "store"))

	// The image the step ran in: one layer holding its (here symbolic) program.
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	_ = tw.WriteHeader(&tar.Header{Name: "bin/upper", Mode: 0o755, Size: 3, ModTime: time.Unix(0, 0)})
	_, _ = tw.Write([]byte("elf"))
	_ = tw.Close()
	layerDesc, _ := orasgo.PushBytes(ctx, store.Target(), ocispec.MediaTypeImageLayer, layer.Bytes())
	config, _ := json.Marshal(ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}})
	configDesc, _ := orasgo.PushBytes(ctx, store.Target(), ocispec.MediaTypeImageConfig, config)
	manifest, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: configDesc, Layers: []ocispec.Descriptor{layerDesc}})
	image, _ := orasgo.PushBytes(ctx, store.Target(), ocispec.MediaTypeImageManifest, manifest)

	// The original run: notes.txt in, NOTES.TXT out, both stored with PushFile.
	in, out := filepath.Join(dir, "notes.txt"), filepath.Join(dir, "NOTES.TXT")
	_ = os.WriteFile(in, []byte("reproduce me\n"), 0o644)
	_ = os.WriteFile(out, []byte("REPRODUCE ME\n"), 0o644)
	_, inFile, _ := store.PushFile(ctx, in, "")
	outManifest, outFile, _ := store.PushFile(ctx, out, "")
	inRD, _ := provenance.SubjectFromFile(in)
	outRD, _ := provenance.SubjectFromFile(out)
	st, _ := (&workflow.Step{
		Name: "upper", Image: "registry.example/tools/upper@" + image.Digest.String(),
		Command: []string{"upper", "notes.txt", "NOTES.TXT"},
		Inputs:  []*intoto.ResourceDescriptor{inRD}, Outputs: []*intoto.ResourceDescriptor{outRD},
		BuilderID: "https://lab.example/workstation",
	}).Statement()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := sign.NewKeySigner(key)
	bundle, _ := signer.Sign(ctx, st)
	_, _ = store.Attach(ctx, outManifest, bundle)

	// Later, anyone holding the record and the lab's key verifies it and re-runs the step.
	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "lab", Key: key.Public()})
	verifier, _ := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	record, err := verifier.Verify(ctx, bundle, outFile.Digest, verify.KeyIDs("lab"))
	if err != nil {
		fmt.Println("record does not verify:", err)
		return
	}
	upper := rerun.RunnerFunc(func(_ context.Context, c *rerun.Command) error {
		work := filepath.Join(c.Root, c.Dir)
		data, err := os.ReadFile(filepath.Join(work, c.Args[1]))
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%s %s -> %s\n", c.Args[0], c.Args[1], c.Args[2])
		return os.WriteFile(filepath.Join(work, c.Args[2]), []byte(strings.ToUpper(string(data))), 0o644)
	})
	res, err := rerun.Run(ctx, record, store, store.Target(), rerun.WithRunner(upper), rerun.WithDir(dir),
		rerun.WithClock(provenance.FixedClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))))
	if err != nil {
		fmt.Println("cannot re-run:", err)
		return
	}
	fmt.Print(string(res.Stdout))
	fmt.Println(res.Inputs[1].GetDigest()["sha256"] == inFile.Digest.Encoded())
	fmt.Println(res.Rebuild.Outcome)
	fmt.Println(res.Rebuild.Summary())
	// Output:
	// upper notes.txt -> NOTES.TXT
	// true
	// match
	// rebuilt from the same inputs, and every output matched; outputs compared: 1 file by sha256; inputs compared: 2, each fetched by its digest and used
}
