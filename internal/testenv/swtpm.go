package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// SWTPM is a software TPM 2.0 process on loopback ports, with its state in a temporary
// directory. It is killed when the test ends.
type SWTPM struct {
	// Addr is the loopback address of its command port, which takes raw TPM 2.0 commands.
	Addr string
}

// StartSWTPM starts `swtpm socket --tpm2` on free loopback ports. It skips only when the
// binary is missing and the run is -short; otherwise a missing swtpm fails the test.
func StartSWTPM(tb testing.TB) *SWTPM {
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

func trySWTPM(tb testing.TB, bin string) (*SWTPM, error) {
	tb.Helper()
	port, ctrl := FreePort(tb), FreePort(tb)
	dir := tb.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "socket", "--tpm2",
		"--server", "type=tcp,port="+port+",bindaddr=127.0.0.1",
		"--ctrl", "type=tcp,port="+ctrl+",bindaddr=127.0.0.1",
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
	addr := net.JoinHostPort("127.0.0.1", port)
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
	return &SWTPM{Addr: addr}, nil
}

// Dial connects to the software TPM's command port.
func (s *SWTPM) Dial(tb testing.TB) net.Conn {
	tb.Helper()
	var c net.Conn
	var err error
	for range 50 {
		if c, err = net.DialTimeout("tcp", s.Addr, 2*time.Second); err == nil {
			return c
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("dial swtpm %s: %v", s.Addr, err)
	return nil
}
