//go:build unix

package oras_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/provkit/provkit/internal/storetest"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
)

// notBlocked runs fn and fails the test when it is still running after 10 s.
func notBlocked(t *testing.T, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("still blocked after 10 s")
		return nil
	}
}

func wantNotRegular(t *testing.T, what string, err error) {
	t.Helper()
	var pe *provenance.PathError
	if !errors.Is(err, provenance.ErrNotRegular) || !errors.As(err, &pe) {
		t.Fatalf("%s error = %v, want a *provenance.PathError wrapping ErrNotRegular", what, err)
	}
}

// TestPushFileFIFO: PushFile refuses a FIFO at once.
func TestPushFileFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	s, err := provoras.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	err = notBlocked(t, func() error { _, _, err := s.PushFile(t.Context(), fifo, ""); return err })
	wantNotRegular(t, "PushFile", err)
}

// TestLayoutBlobFIFO: a layout whose bundle blob is a FIFO fails Fetch at once.
func TestLayoutBlobFIFO(t *testing.T) {
	dir := t.TempDir()
	s, err := provoras.NewLayout(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	subject := pushImage(t, s.Target(), "img", "v1")
	b := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 1)
	m, err := s.Attach(t.Context(), subject, b)
	if err != nil {
		t.Fatal(err)
	}
	d := b.Descriptor().Digest
	blob := filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded())
	if err := os.Remove(blob); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(blob, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	err = notBlocked(t, func() error { _, err := s.Fetch(t.Context(), m); return err })
	wantNotRegular(t, "Fetch", err)
	as, err := s.Discover(t.Context(), subject, provoras.Query{})
	if err != nil {
		t.Fatal(err)
	}
	err = notBlocked(t, func() error { _, err := s.FetchAll(t.Context(), as); return err })
	wantNotRegular(t, "FetchAll", err)
}
