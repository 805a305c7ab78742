// Command lineage records a three-step science pipeline (raw survey data → cleaned data → model)
// as signed provenance in an OCI image layout, then answers questions from the verified record
// alone: what the model was made from, what a dataset fed, who signed each step. It indexes the
// record in SQLite, rebuilds the model from the stored data and checks that the rebuild matches
// (signing that result too), shows that a rebuild with another parameter does not, and exports
// the run as RO-Crate metadata and a static HTML report with the graph drawn by Graphviz.
//
//	go run ./examples/lineage [-dir DIR]
//
// Everything is written to DIR (default: a new temporary folder): the OCI layout in DIR/layout,
// the index in DIR/lineage.db, and DIR/ro-crate-metadata.json and DIR/report.html.
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	orasgo "oras.land/oras-go/v2"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/rebuild"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/lineage"
	"github.com/provkit/provkit/verify/lineage/index"
)

const (
	workflowName = "https://science.example/workflows/survey-model"
	builderID    = "https://science.example/runners/lab-1"
	rebuilderID  = "https://rebuild.example/runners/independent"
	surveyURI    = "https://data.example/surveys/2026/export.csv"
	// ridge is the model's published L2 penalty.
	ridge = 0.25
)

func main() {
	dir := flag.String("dir", "", "folder to write the layout, index and reports to (default: a new temporary folder)")
	flag.Parse()
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "provkit-lineage-")
		if err != nil {
			_ = textout.New(os.Stderr).Printf("lineage: %s\n", err)
			os.Exit(1)
		}
		*dir = tmp
	}
	// A registry that stalls cannot keep the program for ever.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, *dir, ""); err != nil {
		_ = textout.New(os.Stderr).Printf("lineage: %s\n", err)
		os.Exit(1)
	}
}

// lab holds the pipeline's signers and the store its record goes to.
type lab struct {
	store   *oras.Store
	signers map[string]sign.Signer // by key id
	keys    []verify.PublicKey
	out     io.Writer
}

// artifact is a file a step wrote, as stored: its manifest in the layout and its descriptor.
type artifact struct {
	path     string
	manifest ocispec.Descriptor
	subject  *intoto.ResourceDescriptor
}

// run runs the whole example in dir. dot is the Graphviz program; "" looks it up on PATH.
func run(ctx context.Context, out io.Writer, dir, dot string) error {
	p := textout.New(out)
	step := func(n int, title string) { p.Printf("\n%d. %s\n", n, title) }
	say := func(format string, args ...any) { p.Printf("   "+format+"\n", args...) }

	// A fixed clock: the same run on any day records the same times and stores the same bytes.
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	store, err := oras.NewLayout(ctx, filepath.Join(dir, "layout"), oras.WithClock(provenance.FixedClock(start)))
	if err != nil {
		return err
	}
	l := &lab{store: store, signers: map[string]sign.Signer{}, out: out}
	for _, id := range []string{"data-team", "ml-team", "rebuilder"} {
		if err := l.newSigner(id); err != nil {
			return err
		}
	}

	step(1, "Run the pipeline: each step's outputs stored as OCI artifacts, its provenance signed and attached")
	work := filepath.Join(dir, "run")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	run, err := l.runPipeline(ctx, work, ridge, "data-team", "ml-team", start)
	if err != nil {
		return err
	}

	step(2, "Collect the verified record from the layout")
	trusted, err := verify.TrustedKeys(l.keys...)
	if err != nil {
		return err
	}
	// Offline there is no transparency log or timestamp authority; a lab would use both when
	// signing and keep the verifier's defaults.
	verifier, err := verify.New(trusted, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	if err != nil {
		return err
	}
	identity := verify.KeyIDs("data-team", "ml-team", "rebuilder")
	var stored []lineage.Stored
	for _, a := range []artifact{run.raw, run.clean, run.model} {
		stored = append(stored, lineage.Stored{Subject: a.manifest, Artifact: subjectDigest(a.subject)})
	}
	collected, err := lineage.Collect(ctx, store, verifier, identity, stored...)
	if err != nil {
		return err
	}
	say("%d attestations verified, %d rejected", len(collected.Results), len(collected.Rejected))
	graph, err := lineage.New(collected.Results)
	if err != nil {
		return err
	}

	step(3, "Ask the graph: what was model.json made from, and who signed each step?")
	model := subjectDigest(run.model.subject)
	upstream, err := graph.Upstream(model)
	if err != nil {
		return err
	}
	for _, d := range upstream {
		n, _ := graph.Node(d)
		name, _, _ := strings.Cut(n.Label(), "@") // images are named REPOSITORY@DIGEST
		say("%-30s %s", name, short(d))
	}
	path, err := graph.Path(subjectDigest(run.survey), model)
	if err != nil {
		return err
	}
	for _, e := range path {
		from, _ := graph.Node(e.From)
		to, _ := graph.Node(e.To)
		say("%s -[%s, signed by %s]-> %s", from.Label(), e.Step, strings.Join(e.Signers, ", "), to.Label())
	}

	step(4, "Index the record in SQLite and search it: what was made from raw.csv?")
	ix, err := index.OpenSQLite(ctx, filepath.Join(dir, "lineage.db"))
	if err != nil {
		return err
	}
	defer ix.Close()
	if err := ix.Add(ctx, collected.Results...); err != nil {
		return err
	}
	found, err := ix.Find(ctx, index.Query{Material: subjectDigest(run.raw.subject)})
	if err != nil {
		return err
	}
	for _, a := range found {
		say("%-12s %s (statement %s)", a.Name, short(a.Digest), short(a.Statement))
	}

	step(5, "Rebuild clean.csv and model.json from the stored raw data, and check the rebuild")
	original, err := resultFor(collected.Results, model)
	if err != nil {
		return err
	}
	result, err := l.rebuildCheck(ctx, filepath.Join(dir, "rebuild"), run, original, ridge, start.Add(24*time.Hour))
	if err != nil {
		return err
	}
	if err := result.Err(); err != nil {
		return fmt.Errorf("the rebuild did not match: %w", err)
	}
	say("matched: the same subjects, byte for byte, from the same materials and parameters")
	st, err := result.Statement()
	if err != nil {
		return err
	}
	b, err := l.signers["rebuilder"].Sign(ctx, st)
	if err != nil {
		return err
	}
	if _, err := store.Attach(ctx, run.model.manifest, b); err != nil {
		return err
	}
	say("signed the %s statement as rebuilder and attached it to model.json", rebuild.PredicateType)

	step(6, "Rebuild with another ridge penalty: the check names what differs")
	changed, err := l.rebuildCheck(ctx, filepath.Join(dir, "rebuild-ridge"), run, original, 2.0, start.Add(25*time.Hour))
	if err != nil {
		return err
	}
	var mismatch *rebuild.MismatchError
	if err := changed.Err(); !errors.As(err, &mismatch) {
		return fmt.Errorf("a rebuild with another parameter was not reported as a mismatch: %v", err)
	}
	for _, c := range mismatch.Differences {
		say("%-8s %-36s %s -> %s", c.Kind, c.Field, shortValue(c.Baseline), shortValue(c.Current))
	}

	step(7, "Export the run: RO-Crate metadata and an HTML report")
	if err := writeFile(filepath.Join(dir, "ro-crate-metadata.json"), func(w io.Writer) error {
		return graph.WriteROCrate(w, lineage.Crate{Name: "Survey model run", License: "CC-BY-4.0", Workflow: workflowName})
	}); err != nil {
		return err
	}
	say("wrote %s", filepath.Join(dir, "ro-crate-metadata.json"))
	err = writeFile(filepath.Join(dir, "report.html"), func(w io.Writer) error {
		return graph.WriteHTML(ctx, w, lineage.Report{Title: "Survey model run", Rejected: collected.Rejected, Dot: dot})
	})
	switch {
	case errors.Is(err, lineage.ErrGraphviz):
		say("no report: %v", err)
	case err != nil:
		return err
	default:
		say("wrote %s", filepath.Join(dir, "report.html"))
	}
	return p.Literal("\nDone: recorded, signed, stored, collected, queried, indexed, rebuilt, checked and exported.\n")
}

// pipelineRun is what one run of the pipeline stored.
type pipelineRun struct {
	survey            *intoto.ResourceDescriptor
	raw, clean, model artifact
	metrics           artifact
	images            map[string]string // step -> pinned image reference
}

// runPipeline runs ingest, clean and train in work, stores every output in the layout and
// attaches each step's signed provenance to what it wrote.
func (l *lab) runPipeline(ctx context.Context, work string, ridge float64, dataSigner, modelSigner string, start time.Time) (*pipelineRun, error) {
	r := &pipelineRun{images: map[string]string{}}
	for _, name := range []string{"ingest", "clean", "train"} {
		ref, err := l.toolImage(ctx, name)
		if err != nil {
			return nil, err
		}
		r.images[name] = ref
	}
	survey, err := provenance.SubjectFromReader("survey-export.csv", strings.NewReader(surveyExport))
	if err != nil {
		return nil, err
	}
	survey.Uri = surveyURI
	r.survey = survey

	at := func(i int) (time.Time, time.Time) {
		return start.Add(time.Duration(i) * 10 * time.Minute), start.Add(time.Duration(i)*10*time.Minute + 5*time.Minute)
	}
	rawPath := filepath.Join(work, "raw.csv")
	if err := ingest([]byte(surveyExport), rawPath); err != nil {
		return nil, err
	}
	if r.raw, err = l.store1(ctx, rawPath, "raw"); err != nil {
		return nil, err
	}
	s, f := at(0)
	if err := l.record(ctx, dataSigner, &workflow.Step{
		Name: "ingest", Image: r.images["ingest"], Command: []string{"ingest", surveyURI, "-o", "raw.csv"},
		Inputs: []*intoto.ResourceDescriptor{survey}, Outputs: []*intoto.ResourceDescriptor{r.raw.subject},
		StartedOn: s, FinishedOn: f,
	}, r.raw); err != nil {
		return nil, err
	}

	if r.clean, err = l.cleanStep(ctx, work, r, dataSigner, start); err != nil {
		return nil, err
	}
	if r.model, r.metrics, err = l.trainStep(ctx, work, r, ridge, modelSigner, start); err != nil {
		return nil, err
	}
	return r, nil
}

// cleanStep runs clean on r.raw in work and records it.
func (l *lab) cleanStep(ctx context.Context, work string, r *pipelineRun, signer string, start time.Time) (artifact, error) {
	path := filepath.Join(work, "clean.csv")
	if err := clean(r.raw.path, path); err != nil {
		return artifact{}, err
	}
	a, err := l.store1(ctx, path, "clean")
	if err != nil {
		return artifact{}, err
	}
	return a, l.record(ctx, signer, &workflow.Step{
		Name: "clean", Image: r.images["clean"], Command: []string{"clean", "--drop-incomplete", "raw.csv", "-o", "clean.csv"},
		Parameters: map[string]any{"dropIncomplete": true},
		Inputs:     []*intoto.ResourceDescriptor{r.raw.subject}, Outputs: []*intoto.ResourceDescriptor{a.subject},
		StartedOn: start.Add(10 * time.Minute), FinishedOn: start.Add(15 * time.Minute),
	}, a)
}

// trainStep runs train on r.clean in work and records it.
func (l *lab) trainStep(ctx context.Context, work string, r *pipelineRun, ridge float64, signer string, start time.Time) (model, metrics artifact, err error) {
	modelPath, metricsPath := filepath.Join(work, "model.json"), filepath.Join(work, "metrics.json")
	if err := train(r.clean.path, ridge, modelPath, metricsPath); err != nil {
		return model, metrics, err
	}
	if model, err = l.store1(ctx, modelPath, "model"); err != nil {
		return model, metrics, err
	}
	if metrics, err = l.store1(ctx, metricsPath, "metrics"); err != nil {
		return model, metrics, err
	}
	return model, metrics, l.record(ctx, signer, trainStep(r, ridge, model, metrics, start), model)
}

// trainStep is the record of the train step.
func trainStep(r *pipelineRun, ridge float64, model, metrics artifact, start time.Time) *workflow.Step {
	return &workflow.Step{
		Name: "train", Image: r.images["train"], Command: []string{"train", "--ridge", fmt.Sprint(ridge), "clean.csv"},
		Parameters: map[string]any{"ridge": ridge, "feature": "hours", "target": "score"},
		Inputs:     []*intoto.ResourceDescriptor{r.clean.subject},
		Outputs:    []*intoto.ResourceDescriptor{model.subject, metrics.subject},
		StartedOn:  start.Add(20 * time.Minute), FinishedOn: start.Add(25 * time.Minute),
	}
}

// rebuildCheck runs clean and train again in work from the raw data stored in the layout, and
// checks the result against the original train step's verified provenance.
func (l *lab) rebuildCheck(ctx context.Context, work string, r *pipelineRun, original *verify.Result, ridge float64, on time.Time) (*rebuild.Result, error) {
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	rawPath := filepath.Join(work, "raw.csv")
	if err := fetchFile(ctx, l.store, r.raw, rawPath); err != nil {
		return nil, err
	}
	cleanPath := filepath.Join(work, "clean.csv")
	if err := clean(rawPath, cleanPath); err != nil {
		return nil, err
	}
	modelPath, metricsPath := filepath.Join(work, "model.json"), filepath.Join(work, "metrics.json")
	if err := train(cleanPath, ridge, modelPath, metricsPath); err != nil {
		return nil, err
	}
	var rebuilt []*intoto.ResourceDescriptor
	for _, p := range []string{modelPath, metricsPath} {
		rd, err := provenance.SubjectFromFile(p)
		if err != nil {
			return nil, err
		}
		rebuilt = append(rebuilt, rd)
	}
	cleaned, err := provenance.SubjectFromFile(cleanPath)
	if err != nil {
		return nil, err
	}
	cleaned.Name = "clean.csv"
	again := &pipelineRun{images: r.images, clean: artifact{subject: cleaned}}
	// The rebuild ran on another builder: an independent rebuild is the point of the check.
	retrain := trainStep(again, ridge, artifact{subject: rebuilt[0]}, artifact{subject: rebuilt[1]}, on)
	retrain.Workflow, retrain.BuilderID = workflowName, rebuilderID
	own, err := retrain.Statement()
	if err != nil {
		return nil, err
	}
	return rebuild.Check(rebuild.Input{
		Original:   original.Statement(),
		Rebuilt:    rebuilt,
		Provenance: own,
		CheckedOn:  on,
	})
}

// store1 stores the file at path in the layout as an OCI artifact tagged tag.
func (l *lab) store1(ctx context.Context, path, tag string) (artifact, error) {
	manifest, file, err := l.store.PushFile(ctx, path, tag)
	if err != nil {
		return artifact{}, err
	}
	return artifact{
		path:     path,
		manifest: manifest,
		subject:  &intoto.ResourceDescriptor{Name: filepath.Base(path), Digest: map[string]string{"sha256": file.Digest.Encoded()}},
	}, nil
}

// record signs step's provenance with signer and attaches it to the manifest of its first output.
func (l *lab) record(ctx context.Context, signer string, step *workflow.Step, first artifact) error {
	step.Workflow, step.BuilderID, step.RunID = workflowName, builderID, "run-2026-11-02"
	st, err := step.Statement()
	if err != nil {
		return err
	}
	b, err := l.signers[signer].Sign(ctx, st)
	if err != nil {
		return err
	}
	if _, err := l.store.Attach(ctx, first.manifest, b); err != nil {
		return err
	}
	return textout.New(l.out).Printf("   %-7s %-13s %s  signed by %s\n", step.Name, first.subject.GetName(), short(subjectDigest(first.subject)), signer)
}

// newSigner makes an ephemeral P-256 key for id and trusts it.
func (l *lab) newSigner(id string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	s, err := sign.NewKeySigner(key)
	if err != nil {
		return err
	}
	l.signers[id] = s
	l.keys = append(l.keys, verify.PublicKey{ID: id, Key: key.Public()})
	return nil
}

// toolImage stores a one-layer container image for a pipeline step and returns its reference,
// pinned by digest, as workflow.Step.Image takes it.
func (l *lab) toolImage(ctx context.Context, step string) (string, error) {
	target := l.store.Target()
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	script := []byte("#!/bin/sh\nexec /usr/local/bin/" + step + " \"$@\"\n")
	if err := tw.WriteHeader(&tar.Header{Name: "entrypoint.sh", Mode: 0o755, Size: int64(len(script)), ModTime: time.Unix(0, 0)}); err != nil {
		return "", err
	}
	if _, err := tw.Write(script); err != nil {
		return "", err
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	layerDesc, err := orasgo.PushBytes(ctx, target, ocispec.MediaTypeImageLayer, layer.Bytes())
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		return "", err
	}
	config, err := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layerDesc.Digest}},
		Config:   ocispec.ImageConfig{Entrypoint: []string{"/entrypoint.sh"}, User: "science"},
	})
	if err != nil {
		return "", err
	}
	configDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(config), Size: int64(len(config))}
	if err := target.Push(ctx, configDesc, bytes.NewReader(config)); err != nil && !strings.Contains(err.Error(), "already exists") {
		return "", err
	}
	desc, err := orasgo.PackManifest(ctx, target, orasgo.PackManifestVersion1_1, "", orasgo.PackManifestOptions{
		ConfigDescriptor: &configDesc, Layers: []ocispec.Descriptor{layerDesc},
		ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2026-11-01T00:00:00Z"},
	})
	if err != nil {
		return "", err
	}
	return "science.example/tools/" + step + "@" + desc.Digest.String(), nil
}

// fetchFile writes the file a stored artifact holds to path, verifying its digest.
func fetchFile(ctx context.Context, store *oras.Store, a artifact, path string) error {
	_, data, err := orasgo.FetchBytes(ctx, store.Target(), subjectDigest(a.subject).String(), orasgo.DefaultFetchBytesOptions)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// resultFor returns the verified result whose statement names d as a subject and is a
// workflow step.
func resultFor(results []*verify.Result, d digest.Digest) (*verify.Result, error) {
	for _, r := range results {
		if r.PredicateType() != provenance.PredicateSLSAProvenanceV1 {
			continue
		}
		for _, s := range r.Statement().GetSubject() {
			if s.GetDigest()[d.Algorithm().String()] == d.Encoded() {
				return r, nil
			}
		}
	}
	return nil, fmt.Errorf("no verified provenance names %s", d)
}

func subjectDigest(rd *intoto.ResourceDescriptor) digest.Digest {
	return digest.NewDigestFromEncoded(digest.SHA256, rd.GetDigest()["sha256"])
}

func writeFile(path string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// shortValue shortens a digest value for display; other values are printed whole.
func shortValue(v string) string {
	if d, err := digest.Parse(v); err == nil {
		return short(d)
	}
	return v
}

func short(d digest.Digest) string {
	if len(d.Encoded()) > 12 {
		return d.Algorithm().String() + ":" + d.Encoded()[:12]
	}
	return d.String()
}
