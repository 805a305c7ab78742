package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/sign"
)

func TestQuickstartRunsTheWholePath(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, dir, ""), out.String())
	text := out.String()
	for _, want := range []string{
		"image    quickstart/hello@sha256:",
		"bundle   sha256:",
		"application/vnd.dev.sigstore.bundle.v0.3+json",
		"verified https://slsa.dev/provenance/v1 signed by key ",
		`verdict  allow for environment "dev"`,
		"denied   signature check failed",
	} {
		assert.Contains(t, text, want)
	}
	assert.FileExists(t, filepath.Join(dir, "index.json"), "the layout stays where -dir put it")
}

func TestQuickstartSignsWithAKeyFile(t *testing.T) {
	pair, err := sign.GenerateKeyPair(0, []byte("pw"))
	require.NoError(t, err)
	keyPath := filepath.Join(t.TempDir(), "cosign.key")
	require.NoError(t, os.WriteFile(keyPath, pair.PrivatePEM, 0o600))
	t.Setenv("PROVKIT_PASSWORD", "pw")

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, t.TempDir(), keyPath), out.String())
	assert.True(t, strings.Contains(out.String(), `verdict  allow`))

	t.Setenv("PROVKIT_PASSWORD", "wrong")
	err = run(context.Background(), &out, t.TempDir(), keyPath)
	assert.ErrorIs(t, err, sign.ErrWrongPassword)
}
