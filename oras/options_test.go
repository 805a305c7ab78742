package oras_test

import (
	"errors"
	"github.com/provkit/provkit/internal/testenv"
	"os"
	"path/filepath"
	"testing"

	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

func TestOptionsRejected(t *testing.T) {
	tests := []struct {
		name string
		make func() error
		want error
	}{
		{"PageSizeZero", func() error { _, err := provoras.NewMemory(provoras.WithPageSize(0)); return err }, provoras.ErrInvalidOption},
		{"MaxReferrersAboveLimit", func() error {
			_, err := provoras.NewMemory(provoras.WithMaxReferrers(provenance.MaxReferrers + 1))
			return err
		}, provoras.ErrInvalidOption},
		{"ConcurrencyZero", func() error { _, err := provoras.NewMemory(provoras.WithConcurrency(0)); return err }, provoras.ErrInvalidOption},
		{"AttemptsZero", func() error { _, err := provoras.NewMemory(provoras.WithAttempts(0)); return err }, provoras.ErrInvalidOption},
		{"NilClock", func() error { _, err := provoras.NewMemory(provoras.WithClock(nil)); return err }, provoras.ErrInvalidOption},
		{"NilLogger", func() error { _, err := provoras.NewMemory(provoras.WithLogger(nil)); return err }, provoras.ErrInvalidOption},
		{"RemoteOptionOnMemory", func() error { _, err := provoras.NewMemory(provoras.WithPlainHTTPUnsafe()); return err }, provoras.ErrInvalidOption},
		{"RemoteOptionOnLayout", func() error {
			_, err := provoras.NewLayout(t.Context(), t.TempDir(), provoras.WithReferrersAPI(true))
			return err
		}, provoras.ErrInvalidOption},
		{"TwoCredentialSources", func() error {
			_, err := provoras.NewRemote("localhost:5000/x", provoras.WithDockerConfig(filepath.Join(t.TempDir(), "c.json")),
				provoras.WithCredentials(credentials.NewMemoryStore()))
			return err
		}, provoras.ErrInvalidOption},
		{"EmptyDockerConfigPath", func() error {
			_, err := provoras.NewRemote("localhost:5000/x", provoras.WithDockerConfig(""))
			return err
		}, provoras.ErrInvalidOption},
		{"RepositoryWithTag", func() error { _, err := provoras.NewRemote("localhost:5000/x:v1"); return err }, provoras.ErrInvalidInput},
		{"BadRepository", func() error { _, err := provoras.NewRemote("not a reference"); return err }, provoras.ErrInvalidInput},
		{"NilTarget", func() error { _, err := provoras.New(nil); return err }, provoras.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.make(); !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestDockerConfigCredentials checks that credentials named in a Docker config file reach the
// registry: olareg is not configured for auth, so this checks the config is read and usable.
func TestDockerConfigCredentials(t *testing.T) {
	host := testenv.OlaregServer(t)
	cfg := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfg, []byte(`{"auths":{"`+host+`":{"auth":"dXNlcjpwYXNz"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := remoteStore(t, host, "creds/img", provoras.WithDockerConfig(cfg))
	subject := pushImage(t, s.Target(), "img", "v1")
	if _, err := s.Referrers(t.Context(), subject, ""); err != nil {
		t.Fatalf("Referrers with credentials configured: %v", err)
	}
}
