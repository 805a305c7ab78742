package testenv

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigstore/rekor-tiles/v2/pkg/note"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// EnvRekorV2 holds the absolute path of a Rekor v2 server binary with POSIX storage
// (github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix).
const EnvRekorV2 = "PROVKIT_TEST_REKOR_V2"

// Rekor is a running Rekor v2 server.
type Rekor struct {
	// URL is the write API's base URL, http://127.0.0.1:PORT.
	URL string
	// Tiles is the folder holding the log's checkpoint, tiles and entry bundles (C2SP
	// tlog-tiles), the server's read side.
	Tiles string
	// Origin is the origin line of the log's checkpoints.
	Origin string
	// Key is the log's signing key.
	Key *ecdsa.PrivateKey
	// Log is the log's entry in a Sigstore trusted root.
	Log *root.TransparencyLog
}

// StartRekorV2 runs the real Rekor v2 server on loopback over a temporary POSIX tile store,
// signing checkpoints under origin with a new P-256 key, and stops it when the test ends. It
// skips unless EnvRekorV2 is set.
func StartRekorV2(t testing.TB, origin string) *Rekor {
	t.Helper()
	bin := Lookup(t, EnvRekorV2)
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "log.pem")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	tiles := filepath.Join(dir, "tiles")
	if err := os.Mkdir(tiles, 0o700); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	cmd := exec.Command(bin, "serve", "--hostname", origin, "--storage-dir", tiles, "--signer-filepath", keyPath,
		"--http-address", "127.0.0.1", "--http-port", port, "--grpc-address", "127.0.0.1", "--grpc-port", FreePort(t),
		"--http-metrics-port", FreePort(t), "--batch-max-age", "50ms", "--checkpoint-interval", "200ms")
	url := "http://127.0.0.1:" + port
	StartServer(t, "rekor", cmd, url+"/healthz")
	_, logID, err := note.KeyHash(origin, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &Rekor{URL: url, Tiles: tiles, Origin: origin, Key: key, Log: &root.TransparencyLog{
		BaseURL:             "https://" + origin,
		ID:                  logID,
		ValidityPeriodStart: time.Now().Add(-time.Hour),
		HashFunc:            crypto.SHA256,
		PublicKey:           key.Public(),
		SignatureHashFunc:   crypto.SHA256,
	}}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return port
}
