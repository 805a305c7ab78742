package rerun_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	orasgo "oras.land/oras-go/v2"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

// stepSource is the program the test image runs: "step --min N IN OUT" keeps the rows of the
// CSV file IN whose fields are all set and whose score is at least N, and writes them to OUT
// with the value of CLEAN_MODE, so the output depends on the command line, the input and the
// environment.
const stepSource = `package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 5 || os.Args[1] != "--min" {
		fmt.Fprintln(os.Stderr, "usage: step --min N IN OUT")
		os.Exit(2)
	}
	min, err := strconv.ParseFloat(os.Args[2], 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	out := []string{lines[0]}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 2 || f[1] == "" {
			continue
		}
		if v, err := strconv.ParseFloat(f[1], 64); err == nil && v >= min {
			out = append(out, l)
		}
	}
	out = append(out, "# mode="+os.Getenv("CLEAN_MODE"))
	if err := os.WriteFile(os.Args[4], []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("kept", len(out)-2, "rows")
}
`

var (
	buildOnce sync.Once
	stepBin   []byte
	buildErr  error
)

// stepProgram builds stepSource as a static linux binary (CGO_ENABLED=0) and returns it.
func stepProgram(t testing.TB) []byte {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rerun-step-src-")
		if err != nil {
			buildErr = err
			return
		}
		defer os.RemoveAll(dir)
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module step\n\ngo 1.22\n"), 0o644); err != nil {
			buildErr = err
			return
		}
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(stepSource), 0o644); err != nil {
			buildErr = err
			return
		}
		bin := filepath.Join(dir, "step")
		cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOTOOLCHAIN=local", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = &exec.Error{Name: "go build: " + string(out), Err: err}
			return
		}
		stepBin, buildErr = os.ReadFile(bin)
	})
	if buildErr != nil {
		t.Fatalf("build the step program: %v", buildErr)
	}
	return stepBin
}

// layerEntry is one entry of a test layer.
type layerEntry struct {
	hdr  tar.Header
	body []byte
}

func tarLayer(t testing.TB, entries ...layerEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == tar.TypeReg || h.Typeflag == 0 {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		}
		h.ModTime = time.Unix(0, 0)
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if len(e.body) > 0 {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pushStepImage pushes an image whose single layer holds the step program at /bin/step and
// returns its manifest. Its configuration sets PATH and a non-root user.
func pushStepImage(t testing.TB, target orasgo.Target) ocispec.Descriptor {
	t.Helper()
	layer := gzipped(t, tarLayer(t,
		layerEntry{hdr: tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755}},
		layerEntry{hdr: tar.Header{Name: "bin/step", Mode: 0o755}, body: stepProgram(t)},
		layerEntry{hdr: tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777}},
	))
	return pushImage(t, target, ocispec.ImageConfig{Env: []string{"PATH=/bin", "CLEAN_MODE=image-default"}, User: "1000:1000"},
		ocispec.MediaTypeImageLayerGzip, layer)
}

// pushImage pushes an image of one layer with the given configuration and returns its manifest.
func pushImage(t testing.TB, target orasgo.Target, cfg ocispec.ImageConfig, layerType string, layer []byte) ocispec.Descriptor {
	t.Helper()
	layerDesc := push(t, target, layerType, layer)
	config, err := json.Marshal(ocispec.Image{Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"}, Config: cfg,
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layerDesc.Digest}}})
	if err != nil {
		t.Fatal(err)
	}
	configDesc := push(t, target, ocispec.MediaTypeImageConfig, config)
	manifest, err := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: configDesc, Layers: []ocispec.Descriptor{layerDesc}})
	if err != nil {
		t.Fatal(err)
	}
	desc := push(t, target, ocispec.MediaTypeImageManifest, manifest)
	if err := target.Tag(context.Background(), desc, "clean-tool"); err != nil {
		t.Fatal(err)
	}
	return desc
}

// push stores data in target unless it is there, and returns its descriptor.
func push(t testing.TB, target orasgo.Target, mediaType string, data []byte) ocispec.Descriptor {
	t.Helper()
	desc := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
	ok, err := target.Exists(context.Background(), desc)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		if err := target.Push(context.Background(), desc, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	return desc
}

// recorded is a step run once for real, recorded, signed, attached and verified.
type recorded struct {
	store    *oras.Store
	image    ocispec.Descriptor
	raw      digest.Digest
	output   digest.Digest // what the step wrote
	bundle   provenance.Bundle
	verifier *verify.Verifier
	result   *verify.Result
	step     *workflow.Step
}

// recordStep runs the step program on the host on raw.csv, stores raw.csv and the output with
// PushFile, records the run with provenance/workflow (claiming claimed as the output when it
// is set), signs it with an in-memory key, attaches it to the output's manifest and verifies it.
func recordStep(t testing.TB, s *oras.Store, claimed []byte) *recorded {
	t.Helper()
	ctx := t.Context()
	r := &recorded{store: s, image: pushStepImage(t, s.Target())}
	dir := t.TempDir()
	rawPath := filepath.Join(dir, "raw.csv")
	if err := os.WriteFile(rawPath, []byte("id,score\n1,7.5\n2,\n3,-50\n4,8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "step")
	if err := os.WriteFile(bin, stepProgram(t), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--min", "-40", "raw.csv", "clean.csv")
	cmd.Dir, cmd.Env = dir, []string{"CLEAN_MODE=strict"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("step on the host: %v: %s", err, out)
	}
	outPath := filepath.Join(dir, "clean.csv")
	if claimed != nil {
		if err := os.WriteFile(outPath, claimed, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, rawFile, err := s.PushFile(ctx, rawPath, "")
	if err != nil {
		t.Fatal(err)
	}
	outManifest, outFile, err := s.PushFile(ctx, outPath, "")
	if err != nil {
		t.Fatal(err)
	}
	r.raw, r.output = rawFile.Digest, outFile.Digest
	rawRD, err := provenance.SubjectFromFile(rawPath)
	if err != nil {
		t.Fatal(err)
	}
	outRD, err := provenance.SubjectFromFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	r.step = &workflow.Step{
		Name: "clean", Workflow: "survey", RunID: "run-1",
		Image:       "registry.example/tools/clean:1.0@" + r.image.Digest.String(),
		Command:     []string{"step", "--min", "-40", "raw.csv", "clean.csv"},
		Parameters:  map[string]any{"min": -40},
		Environment: map[string]string{"CLEAN_MODE": "strict"},
		Inputs:      []*intoto.ResourceDescriptor{rawRD},
		Outputs:     []*intoto.ResourceDescriptor{outRD},
		BuilderID:   "https://ci.example/runners/science", StartedOn: start, FinishedOn: start.Add(time.Minute),
	}
	r.sign(t, s, outManifest)
	return r
}

func (r *recorded) sign(t testing.TB, s *oras.Store, subject ocispec.Descriptor) {
	t.Helper()
	ctx := t.Context()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := sign.NewKeySigner(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.step.Statement()
	if err != nil {
		t.Fatal(err)
	}
	if r.bundle, err = signer.Sign(ctx, st); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Attach(ctx, subject, r.bundle); err != nil {
		t.Fatal(err)
	}
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "lab", Key: key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	if r.verifier, err = verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe()); err != nil {
		t.Fatal(err)
	}
	if r.result, err = r.verifier.Verify(ctx, r.bundle, r.output, verify.KeyIDs("lab")); err != nil {
		t.Fatal(err)
	}
}

// orasgoTarget is what oras.Store.Target returns.
type orasgoTarget = orasgo.GraphTarget
