package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/verify/lineage/index"
)

// lockedBuffer is a bytes.Buffer safe for the server's goroutine and the test's.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// emptyIndex makes an index file with nothing in it.
func emptyIndex(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "index.db")
	ix, err := index.OpenSQLite(t.Context(), path)
	require.NoError(t, err)
	require.NoError(t, ix.Close())
	return path
}

// startServe runs provctl serve in-process until the test ends, and returns the address it
// printed and its exit status, once it has stopped.
func startServe(t *testing.T, args ...string) (string, func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb lockedBuffer
	code := make(chan int, 1)
	go func() { code <- run(ctx, append([]string{"serve"}, args...), &out, &errb, nil) }()
	addr := regexp.MustCompile(`at (http://[^ ]+/)`)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := addr.FindStringSubmatch(out.String()); m != nil {
			stop := func() (int, string) {
				cancel()
				return <-code, out.String()
			}
			t.Cleanup(func() { cancel() })
			return m[1], stop
		}
		select {
		case c := <-code:
			cancel()
			t.Fatalf("serve exited with %d before listening\nstdout: %s\nstderr: %s", c, out.String(), errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("serve printed no address: %s %s", out.String(), errb.String())
	return "", nil
}

func fetch(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// TestServe serves an index on loopback, answers pages, refuses writes, and stops cleanly when
// its context ends, past the default whole-run timeout's reach.
func TestServe(t *testing.T) {
	db := emptyIndex(t)
	url, stop := startServe(t, "--index", db, "--listen", "127.0.0.1:0")
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)
	status, body := fetch(t, url)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "<strong>0</strong> artifacts")
	resp, err := http.Post(url+"artifacts", "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	code, out := stop()
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "stopped")
}

// TestServeToken refuses to listen beyond loopback without a token, and with one requires it.
func TestServeToken(t *testing.T) {
	db := emptyIndex(t)
	r := mustRun(t, exitUnchecked, nil, "serve", "--index", db, "--listen", "0.0.0.0:0")
	require.Contains(t, r.stderr, "--token-file")
	r = mustRun(t, exitUnchecked, nil, "serve", "--index", db, "--listen", ":0")
	require.Contains(t, r.stderr, "--token-file")

	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("short\n"), 0o600))
	r = mustRun(t, exitUnchecked, nil, "serve", "--index", db, "--listen", "0.0.0.0:0", "--token-file", tokenFile)
	require.Contains(t, r.stderr, "at least 16")

	const token = "4f1c2b9e7d3a6f80c5e1"
	require.NoError(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
	url, stop := startServe(t, "--index", db, "--listen", "0.0.0.0:0", "--token-file", tokenFile)
	require.NotContains(t, url, token)
	local := strings.Replace(url, "http://[::]:", "http://127.0.0.1:", 1)
	local = strings.Replace(local, "http://0.0.0.0:", "http://127.0.0.1:", 1)
	status, _ := fetch(t, local)
	require.Equal(t, http.StatusUnauthorized, status)
	status, _ = fetch(t, local, "Authorization", "Bearer wrong-token-wrong-token")
	require.Equal(t, http.StatusUnauthorized, status)
	status, body := fetch(t, local, "Authorization", "Bearer "+token)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Overview")
	code, _ := stop()
	require.Equal(t, exitOK, code)
}

// TestServeUsage refuses what serve cannot use, with exit status 2, and never makes an index.
func TestServeUsage(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.db")
	mustRun(t, exitUnchecked, nil, "serve", "--index", missing)
	_, err := os.Stat(missing)
	require.True(t, os.IsNotExist(err), "serve made an index file")
	mustRun(t, exitUnchecked, nil, "serve")
	mustRun(t, exitUnchecked, nil, "serve", "--index", emptyIndex(t), "--postgres", "postgres://x")
	mustRun(t, exitUnchecked, nil, "serve", "--index", emptyIndex(t), "--listen", "nonsense")
	mustRun(t, exitUnchecked, nil, "serve", "--index", emptyIndex(t), "extra")
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8480": true, "[::1]:0": true, "localhost:80": true, "127.1.2.3:0": true,
		"0.0.0.0:80": false, ":80": false, "[::]:80": false, "192.0.2.7:80": false, "example.org:80": false,
	} {
		got, err := isLoopback(addr)
		require.NoError(t, err, addr)
		require.Equal(t, want, got, addr)
	}
}
