package setup_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/provkit/provkit/examples/internal/setup"
	"github.com/provkit/provkit/oras"
)

func TestSplitReference(t *testing.T) {
	tests := []struct{ in, repo, ref string }{
		{"127.0.0.1:5000/team/app:v1", "127.0.0.1:5000/team/app", "v1"},
		{"127.0.0.1:5000/team/app", "127.0.0.1:5000/team/app", "latest"},
		{"reg.example/app@sha256:" + strings.Repeat("ab", 32), "reg.example/app", "sha256:" + strings.Repeat("ab", 32)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			repo, ref, err := setup.SplitReference(tt.in)
			assert.NoError(t, err)
			assert.Equal(t, tt.repo, repo)
			assert.Equal(t, tt.ref, ref)
		})
	}
	for _, bad := range []string{"reg.example/app@", "reg.example/app:", "reg.example/App:v1", "reg.example/app@sha256:abcd"} {
		_, _, err := setup.SplitReference(bad)
		assert.ErrorIs(t, err, oras.ErrInvalidReference, bad)
	}
	_, _, err := setup.SplitReference("oci-layout:/tmp/layout:v1")
	assert.ErrorContains(t, err, "not a layout")
}
