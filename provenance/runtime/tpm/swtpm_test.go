package tpm_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/provkit/provkit/provenance/runtime/tpm"
)

// swtpm is a software TPM 2.0 process on loopback ports, with its state in a temporary
// directory. It is killed when the test ends.
type swtpm struct {
	addr string
	dir  string
}

// startSWTPM starts `swtpm socket --tpm2` on free loopback ports. It skips only when the
// binary is missing and the run is -short; otherwise a missing swtpm fails the test.
func startSWTPM(tb testing.TB) *swtpm {
	tb.Helper()
	bin, err := exec.LookPath("swtpm")
	if err != nil {
		if testing.Short() {
			tb.Skip("swtpm is not installed (skipped in -short mode): run `make test`, or apt-get install swtpm swtpm-tools")
		}
		tb.Fatal("swtpm is not installed: run `make test` (internal/tools/install.sh installs it), or apt-get install swtpm swtpm-tools")
	}
	var lastErr error
	for range 3 {
		s, err := trySWTPM(tb, bin)
		if err == nil {
			return s
		}
		lastErr = err
	}
	tb.Fatalf("start swtpm: %v", lastErr)
	return nil
}

func trySWTPM(tb testing.TB, bin string) (*swtpm, error) {
	tb.Helper()
	port, ctrl := freePort(tb), freePort(tb)
	dir := tb.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "socket", "--tpm2",
		"--server", "type=tcp,port="+strconv.Itoa(port)+",bindaddr=127.0.0.1",
		"--ctrl", "type=tcp,port="+strconv.Itoa(ctrl)+",bindaddr=127.0.0.1",
		"--tpmstate", "dir="+dir,
		"--flags", "not-need-init,startup-clear",
		"--log", "file="+filepath.Join(dir, "swtpm.log"),
	)
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cancel()
		<-exited
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case werr := <-exited:
			cancel()
			log, _ := os.ReadFile(filepath.Join(dir, "swtpm.log"))
			return nil, fmt.Errorf("swtpm exited (%v): %s", werr, log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("swtpm did not listen on %s within 10s", addr)
		}
	}
	tb.Cleanup(stop)
	return &swtpm{addr: addr, dir: dir}, nil
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// dial connects to the software TPM's command port.
func (s *swtpm) dial(tb testing.TB) net.Conn {
	tb.Helper()
	var c net.Conn
	var err error
	for range 50 {
		if c, err = net.DialTimeout("tcp", s.addr, 2*time.Second); err == nil {
			return c
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("dial swtpm %s: %v", s.addr, err)
	return nil
}

// open starts a fresh software TPM and opens it.
func openTPM(tb testing.TB) (*tpm.TPM, *swtpm) {
	tb.Helper()
	s := startSWTPM(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t, err := tpm.Open(ctx, s.dial(tb))
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
