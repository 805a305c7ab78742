package testenv

import (
	"io"
	"net/http"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// TSA returns the URL of the timestamp authority's timestamp endpoint, its entry in a Sigstore
// trusted root and its certificate chain in PEM, read from the chain it serves, or skips the
// test.
func TSA(t testing.TB) (string, root.TimestampingAuthority, []byte) {
	t.Helper()
	url := TSAURL(t)
	resp, err := http.Get(url + "/certchain")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/certchain: %s", url, resp.Status)
	}
	chainPEM, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	chain, err := cryptoutils.UnmarshalCertificatesFromPEM(chainPEM)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) < 2 {
		t.Fatalf("timestamp authority chain has %d certificates, want a leaf and a root", len(chain))
	}
	return url, &root.SigstoreTimestampingAuthority{Leaf: chain[0], Intermediates: chain[1 : len(chain)-1],
		Root: chain[len(chain)-1], URI: url}, chainPEM
}
