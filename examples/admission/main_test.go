package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/sign"
)

// pushImage pushes a one-layer image with body to host/repo:v1 and returns its store and descriptor.
func pushImage(t *testing.T, host, repo, body string) (*oras.Store, ocispec.Descriptor) {
	t.Helper()
	s, err := oras.NewRemote(host+"/"+repo, oras.WithPlainHTTPUnsafe())
	require.NoError(t, err)
	desc := testenv.PushImage(t, s.Target(), "v1", body)
	return s, desc
}

func TestAdmissionBatch(t *testing.T) {
	host := testenv.OlaregServer(t)
	trusted, err := sign.GenerateKeyPair(0, nil)
	require.NoError(t, err)
	other, err := sign.GenerateKeyPair(0, nil)
	require.NoError(t, err)
	pub := filepath.Join(t.TempDir(), "cosign.pub")
	require.NoError(t, os.WriteFile(pub, trusted.PublicPEM, 0o644))

	s, img := pushImage(t, host, "team/good", "good")
	testenv.AttestSLSA(t, s, host+"/team/good", img, trusted.Signer, "https://ci.example/builder")
	s, img = pushImage(t, host, "team/laptop", "laptop")
	testenv.AttestSLSA(t, s, host+"/team/laptop", img, trusted.Signer, "https://laptop.example/alice")
	s, img = pushImage(t, host, "team/forged", "forged")
	testenv.AttestSLSA(t, s, host+"/team/forged", img, other.Signer, "https://ci.example/builder")
	pushImage(t, host, "team/bare", "bare")

	images := []string{host + "/team/good:v1", host + "/team/laptop:v1", host + "/team/forged:v1", host + "/team/bare:v1", host + "/team/missing:v1"}
	o := options{policyPath: filepath.Join("testdata", "policy.yaml"), env: "prod", keyPath: pub, insecureIgnoreTlog: true, plainHTTP: true, images: images}

	var out bytes.Buffer
	err = run(context.Background(), &out, o)
	require.ErrorIs(t, err, policy.ErrDenied, out.String())
	assert.Contains(t, err.Error(), "4 of 5 images denied for prod")
	text := out.String()
	for _, want := range []string{
		`(?m)^IMAGE +DIGEST +VERIFIED +VERDICT +REASON$`,
		`(?m)team/good:v1 +sha256:[0-9a-f]{12} +1/1 +allow +every enforced rule passed$`,
		`(?m)team/laptop:v1 +sha256:[0-9a-f]{12} +1/1 +deny +built-by-ci: `,
		`(?m)team/forged:v1 +sha256:[0-9a-f]{12} +0/1 +deny +no verified attestations`,
		`(?m)team/bare:v1 +sha256:[0-9a-f]{12} +0/0 +deny +no attestations attached`,
		`(?m)team/missing:v1 +- +0/0 +deny +error: `,
		`(?m)^1 of 5 images allowed for prod$`,
	} {
		assert.Regexp(t, regexp.MustCompile(want), text)
	}

	// In staging the builder rule only warns: the laptop build is admitted with a warning.
	o.env, o.images = "staging", images[:2]
	out.Reset()
	require.NoError(t, run(context.Background(), &out, o), out.String())
	assert.Regexp(t, `(?m)team/laptop:v1 .* allow +warn: built-by-ci: `, out.String())
}
