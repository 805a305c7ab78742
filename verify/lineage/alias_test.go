package lineage_test

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"os/exec"
	"slices"
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/lineage"
)

// TestDigestAlgorithms adds, to the pipeline, a build that names the model by sha256 and
// sha512 and publishes a report named by sha512 alone, and an SBOM about the report: the
// model stays one node, the report is keyed by sha512, and the SBOM adds no edge.
func TestDigestAlgorithms(t *testing.T) {
	p := newPipeline(t)
	results, failed := p.verifyAll(t, "ingest", "clean", "train")
	if len(failed) > 0 {
		t.Fatal(failed)
	}
	model512 := digest.NewDigestFromEncoded(digest.SHA512, strings.Repeat("ab", 64))
	sum := sha512.Sum512([]byte("report"))
	report := digest.NewDigestFromEncoded(digest.SHA512, hex.EncodeToString(sum[:]))
	reportRD := []*intoto.ResourceDescriptor{{Name: "report.pdf", Digest: map[string]string{"sha512": report.Encoded()}}}

	st, err := (&provenance.Build{
		BuildType:          "https://example.com/report/v1",
		ExternalParameters: map[string]any{"template": "paper"},
		ResolvedDependencies: []*intoto.ResourceDescriptor{
			{Name: "model", Digest: map[string]string{"sha256": p.model.Encoded(), "sha512": model512.Encoded()}},
			{Name: "no digest", Uri: "https://example.com/fonts"},
			{Name: "bad digest", Digest: map[string]string{"sha256!": "zz"}},
		},
		BuilderID: "https://ci.example/runners/docs",
	}).Statement(reportRD)
	if err != nil {
		t.Fatal(err)
	}
	sbom, err := provenance.NewStatement(reportRD, provenance.PredicateSPDX, map[string]any{"spdxVersion": "SPDX-2.3"})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []*intoto.Statement{st, sbom} {
		res, err := p.verifier.Verify(context.Background(), signStatement(t, p.alice, st), report, p.identity)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	g, err := lineage.New(results)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Nodes()) != 10 || len(g.Activities()) != 5 || len(g.Edges()) != 11 {
		t.Fatalf("%v", g)
	}
	n, ok := g.Node(model512)
	if !ok || n.Digest != p.model || !slices.Equal(n.Digests, []digest.Digest{p.model, model512}) || !slices.Equal(n.Names, []string{"model", "model.json"}) {
		t.Fatalf("model node %+v", n)
	}
	up, err := g.Upstream(report)
	if err != nil {
		t.Fatal(err)
	}
	if len(up) != 8 || !slices.Contains(up, p.survey) {
		t.Fatalf("upstream of report %v", up)
	}
	down, err := g.Downstream(model512)
	if err != nil || !slices.Equal(down, []digest.Digest{report}) {
		t.Fatalf("downstream of model by sha512: %v %v", down, err)
	}
	path, err := g.Path(p.raw, report)
	if err != nil || len(path) != 3 || path[2].Step != "https://example.com/report/v1" {
		t.Fatalf("path %v %v", path, err)
	}
	for _, a := range g.Activities() {
		if a.PredicateType == provenance.PredicateSPDX && (a.Name != provenance.PredicateSPDX || len(a.Inputs) != 0 || !slices.Equal(a.Outputs, []digest.Digest{report})) {
			t.Errorf("SBOM activity %+v", a)
		}
	}
}

func TestSignerLabel(t *testing.T) {
	if got := lineage.SignerLabel(verify.Signer{KeyID: "release"}); got != "key:release" {
		t.Error(got)
	}
	cert := verify.Signer{Certificate: &verify.CertificateIdentity{Issuer: "https://accounts.example", SubjectAlternativeName: "ana@lab.example"}}
	if got := lineage.SignerLabel(cert); got != "ana@lab.example (https://accounts.example)" {
		t.Error(got)
	}
}

// TestDOTRenders runs Graphviz on the DOT output when it is installed.
func TestDOTRenders(t *testing.T) {
	dot := testenv.Dot(t)
	_, g := pipelineGraph(t)
	var in, out, stderr bytes.Buffer
	if err := g.WriteDOT(&in); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dot, "-Tsvg")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = &in, &out, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("dot: %v\n%s", err, stderr.String())
	}
	if !bytes.Contains(out.Bytes(), []byte("<svg")) || !bytes.Contains(out.Bytes(), []byte("model.json")) {
		t.Fatalf("svg: %.200s", out.String())
	}
}
