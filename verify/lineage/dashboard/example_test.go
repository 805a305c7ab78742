package dashboard_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/lineage/dashboard"
	"github.com/provkit/provkit/verify/lineage/index"
)

// A workflow step is signed, verified, indexed, and its output's page served: what produced
// it and who signed it, in words.
func Example() {
	ctx := context.Background()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	output := digest.FromString("figure.png")
	st, _ := (&workflow.Step{
		Name: "plot", Image: "registry.example/tools/plot@" + digest.FromString("plot image").String(),
		Command: []string{"plot", "--dpi=300", "model.bin"}, BuilderID: "https://ci.example/runners/lab",
		Inputs:    []*intoto.ResourceDescriptor{{Name: "model.bin", Digest: map[string]string{"sha256": digest.FromString("model").Encoded()}}},
		Outputs:   []*intoto.ResourceDescriptor{{Name: "figure.png", Digest: map[string]string{"sha256": output.Encoded()}}},
		StartedOn: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), FinishedOn: time.Date(2026, 3, 1, 9, 5, 0, 0, time.UTC),
	}).Statement()
	signer, _ := sign.NewKeySigner(key)
	bundle, _ := signer.Sign(ctx, st)
	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "lab", Key: key.Public()})
	v, _ := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	res, err := v.Verify(ctx, bundle, output, verify.KeyIDs("lab"))
	if err != nil {
		fmt.Println(err)
		return
	}

	dir, _ := os.MkdirTemp("", "dashboard-example")
	defer os.RemoveAll(dir)
	ix, _ := index.OpenSQLite(ctx, filepath.Join(dir, "index.db"))
	defer ix.Close()
	if err := ix.Add(ctx, res); err != nil {
		fmt.Println(err)
		return
	}
	h, err := dashboard.New(ix)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/artifact/" + output.String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status)
	for _, pattern := range []string{`<h1>[^<]*</h1>`, `<h2>Trusted</h2>`, `plot --dpi=300 model.bin`, `key:lab`, `from [^<]* to [^<]*UTC`} {
		fmt.Println(regexp.MustCompile(pattern).FindString(string(page)))
	}
	// Output:
	// 200 OK
	// <h1>figure.png</h1>
	// <h2>Trusted</h2>
	// plot --dpi=300 model.bin
	// key:lab
	// from 2026-03-01 09:00:00 UTC to 2026-03-01 09:05:00 UTC
}
