package testenv_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content/memory"

	"github.com/provkit/provkit/internal/testenv"
)

func TestPushImage(t *testing.T) {
	target := memory.New()
	a := testenv.PushImage(t, target, "a", "one")
	b := testenv.PushImage(t, target, "b", "two")
	assert.NotEqual(t, a.Digest, b.Digest)
	got, err := target.Resolve(context.Background(), "a")
	require.NoError(t, err)
	assert.Equal(t, a.Digest, got.Digest)
	ok, err := target.Exists(context.Background(), b)
	require.NoError(t, err)
	assert.True(t, ok)
}
