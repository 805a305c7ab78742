package setup_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/provkit/provkit/examples/internal/setup"
)

func TestSplitReference(t *testing.T) {
	tests := []struct{ in, repo, ref string }{
		{"127.0.0.1:5000/team/app:v1", "127.0.0.1:5000/team/app", "v1"},
		{"127.0.0.1:5000/team/app", "127.0.0.1:5000/team/app", "latest"},
		{"reg.example/app@sha256:abcd", "reg.example/app", "sha256:abcd"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			repo, ref, err := setup.SplitReference(tt.in)
			assert.NoError(t, err)
			assert.Equal(t, tt.repo, repo)
			assert.Equal(t, tt.ref, ref)
		})
	}
	for _, bad := range []string{"app:v1", "reg.example/app@", "reg.example/app:"} {
		_, _, err := setup.SplitReference(bad)
		assert.ErrorContains(t, err, "want host[:port]/repo", bad)
	}
}
