package testenv

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"testing"
	"time"
)

// StartServer starts cmd, a server program named name, and waits up to 60 s for a GET of ready
// to answer 200; it returns that answer's body (up to 1 MiB). The program is killed when the
// test ends, and its output is logged if the test failed. It fails the test if the program
// exits or is not ready in time.
func StartServer(t testing.TB, name string, cmd *exec.Cmd, ready string) []byte {
	t.Helper()
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("%s output:\n%s", name, logs.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("%s exited:\n%s", name, logs.String())
		default:
		}
		resp, err := http.Get(ready)
		if err == nil {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				return body
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 60s: %v\n%s", name, err, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
