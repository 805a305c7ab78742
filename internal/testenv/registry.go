package testenv

import (
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/olareg/olareg"
	"github.com/olareg/olareg/config"
)

// OlaregServer starts an olareg registry in memory, with the referrers
// API and deletes enabled, and returns its host:port. It is closed when
// the test ends. Clients talk plain HTTP to it.
func OlaregServer(t testing.TB) string {
	t.Helper()
	enabled := true
	reg := olareg.New(config.Config{
		Storage: config.ConfigStorage{
			StoreType: config.StoreMem,
		},
		API: config.ConfigAPI{
			DeleteEnabled: &enabled,
			Blob:          config.ConfigAPIBlob{DeleteEnabled: &enabled},
			Referrer:      config.ConfigAPIReferrer{Enabled: &enabled},
		},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	srv := httptest.NewServer(reg)
	t.Cleanup(func() {
		srv.Close()
		_ = reg.Close()
	})
	return hostPort(srv)
}

// GGCRServer starts go-containerregistry's in-memory registry with its
// default options and returns its host:port. It has no referrers API, so
// clients fall back to the referrers tag schema. It is closed when the
// test ends. Clients talk plain HTTP to it.
func GGCRServer(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return hostPort(srv)
}

func hostPort(srv *httptest.Server) string {
	return strings.TrimPrefix(srv.URL, "http://")
}
