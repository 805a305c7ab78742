package tpm_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/provenance/runtime/tpm"
)

// open starts a fresh software TPM and opens it.
func openTPM(tb testing.TB) (*tpm.TPM, *testenv.SWTPM) {
	tb.Helper()
	s := testenv.StartSWTPM(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t, err := tpm.Open(ctx, s.Dial(tb))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := t.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			tb.Errorf("Close: %v", err)
		}
	})
	return t, s
}
