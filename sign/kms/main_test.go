package kms_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// pluginScheme is the URI scheme served by the plugin program that the tests build.
const pluginScheme = "provkittest"

var (
	pluginOnce sync.Once
	pluginDir  string
	pluginErr  error
	buildRoot  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildRoot != "" {
		_ = os.RemoveAll(buildRoot)
	}
	os.Exit(code)
}

// buildPlugin builds ./internal/testplugin once per test binary as sigstore-kms-provkittest and
// returns the directory holding it.
func buildPlugin(t testing.TB) string {
	t.Helper()
	pluginOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			pluginErr = fmt.Errorf("finding the go command to build the plugin: %w", err)
			return
		}
		buildRoot, err = os.MkdirTemp("", "provkit-kms-plugin-")
		if err != nil {
			pluginErr = err
			return
		}
		out := filepath.Join(buildRoot, "sigstore-kms-"+pluginScheme)
		cmd := exec.Command(goTool, "build", "-o", out, "github.com/provkit/provkit/sign/kms/internal/testplugin")
		if msg, err := cmd.CombinedOutput(); err != nil {
			pluginErr = fmt.Errorf("building the test plugin: %w\n%s", err, msg)
			return
		}
		// A plugin that answers with bytes that are not a protocol response.
		broken := filepath.Join(buildRoot, "sigstore-kms-"+pluginScheme+"broken")
		if err := os.WriteFile(broken, []byte("#!/bin/sh\necho 'this is not json'\n"), 0o755); err != nil {
			pluginErr = err
			return
		}
		pluginDir = buildRoot
	})
	if pluginErr != nil {
		t.Fatal(pluginErr)
	}
	return pluginDir
}

// usePlugin puts the test plugin on PATH for the rest of the test.
func usePlugin(t testing.TB) {
	t.Helper()
	dir := buildPlugin(t)
	if !strings.Contains(os.Getenv("PATH"), dir) {
		t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
}

// newKeyFile writes a new ECDSA key on curve c to a PEM file and returns the plugin URI that
// names it, with the private key.
func newKeyFile(t testing.TB, c elliptic.Curve) (string, *ecdsa.PrivateKey) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := cryptoutils.MarshalPrivateKeyToPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return pluginScheme + "://" + path, priv
}

// digest hashes msg with h.
func digest(h crypto.Hash, msg []byte) []byte {
	d := h.New()
	d.Write(msg)
	return d.Sum(nil)
}
