//go:build unix

package provenance_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/provkit/provkit/provenance"
)

// mkfifo makes a FIFO at path, which nothing ever writes to.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// within fails the test when fn has not returned after 10 s, as a read of a FIFO would not.
func within(t *testing.T, fn func() error) error {
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

// TestSubjectFromFileFIFO: a FIFO is refused at once with ErrNotRegular, not waited on.
func TestSubjectFromFileFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	mkfifo(t, fifo)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, link, dir} {
		err := within(t, func() error { _, err := provenance.SubjectFromFile(p); return err })
		var pe *provenance.PathError
		if !errors.Is(err, provenance.ErrNotRegular) || !errors.As(err, &pe) {
			t.Fatalf("SubjectFromFile(%s) error = %v, want a *PathError wrapping ErrNotRegular", p, err)
		}
		f, err := provenance.OpenRegular(p)
		if !errors.Is(err, provenance.ErrNotRegular) {
			f.Close()
			t.Fatalf("OpenRegular(%s) error = %v, want ErrNotRegular", p, err)
		}
	}
}

// TestSubjectsFromDirFIFO: FIFOs in a tree, and links to them, are skipped without blocking.
func TestSubjectsFromDirFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	mkfifo(t, filepath.Join(dir, "pipe"))
	if err := os.Symlink("pipe", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	var subjects int
	err := within(t, func() error {
		s, err := provenance.SubjectsFromDir(t.Context(), dir)
		subjects = len(s)
		return err
	})
	if err != nil || subjects != 1 {
		t.Fatalf("SubjectsFromDir = %d subjects, %v; want 1", subjects, err)
	}
}
