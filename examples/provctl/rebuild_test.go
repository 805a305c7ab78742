package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance/rebuild"
)

// TestRebuildCheckSignedMismatchVerifies signs a rebuild that differs and one that matches,
// both attached to the original image, and verifies each as a statement about that image:
// the differing rebuild is evidence about the artifact, not "subject not in statement".
func TestRebuildCheckSignedMismatchVerifies(t *testing.T) {
	s := newSupplyChain(t)
	store, err := oras.NewLayout(context.Background(), s.layout)
	require.NoError(t, err)
	require.NoError(t, store.Target().Tag(context.Background(), s.app, "app-rebuilt"))
	testenv.PushImage(t, store.Target(), "app-drifted", "app v1 with a patch\n")

	r := mustRun(t, 1, s.env, append([]string{"rebuild-check"}, s.trust("--image", s.layout+":app-drifted", "--sign-key", s.key, s.appRf)...)...)
	assert.Contains(t, r.stdout, "mismatch ")
	assert.Contains(t, r.stdout, "outputs compared: 1 image by sha256, layer by layer and configuration field by field; inputs not compared")
	r = mustRun(t, 0, s.env, append([]string{"verify"}, s.trust("--type", rebuild.PredicateType, s.appRf)...)...)
	assert.NotContains(t, r.stdout+r.stderr, "not in statement")

	r = mustRun(t, 0, s.env, append([]string{"rebuild-check"}, s.trust("--image", s.layout+":app-rebuilt", "--sign-key", s.key, s.appRf)...)...)
	assert.Contains(t, r.stdout, "every output matched, but the inputs were not compared")
	assert.NotContains(t, r.stdout, "rebuilt from the same inputs", "only outputs were compared")
	r = mustRun(t, 0, s.env, append([]string{"verify", "--output", "json"}, s.trust("--type", rebuild.PredicateType, s.appRf)...)...)
	assert.Contains(t, r.stdout, `"reason": "2 of 2 attestations verified"`, "the differing and the matching rebuild both verify")
}
