package auditlog_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/provkit/provkit/verify/auditlog"
)

const childEnv = "PROVKIT_AUDITLOG_CHILD"

// TestChildAppender is the body of the appending process TestCrashDuringAppends kills: it
// records events in batches and prints each acknowledged (flushed) count. It skips when run
// directly.
func TestChildAppender(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("run by TestCrashDuringAppends")
	}
	k := loadKeys(t, dir)
	ctx := context.Background()
	l, err := auditlog.Open(ctx, filepath.Join(dir, "log"), k.checkpoints, k.events, auditlog.WithActor("child@example.com"))
	require.NoError(t, err)
	for acked := 0; ; {
		for i := range 50 {
			require.NoError(t, l.Record(ctx, event(acked+i)))
		}
		require.NoError(t, l.Flush(ctx))
		acked += 50
		fmt.Printf("acked %d\n", acked)
	}
}

func saveKeys(t *testing.T, dir string, skey, vkey string, ek *ecdsa.PrivateKey) {
	der, err := x509.MarshalECPrivateKey(ek)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "keys"), []byte(skey+"\n"+vkey+"\n"+fmt.Sprintf("%x", der)+"\n"), 0o600))
}

func loadKeys(t *testing.T, dir string) *keys {
	raw, err := os.ReadFile(filepath.Join(dir, "keys"))
	require.NoError(t, err)
	lines := strings.Fields(string(raw))
	ns, err := note.NewSigner(lines[0])
	require.NoError(t, err)
	nv, err := note.NewVerifier(lines[1])
	require.NoError(t, err)
	var der []byte
	_, err = fmt.Sscanf(lines[2], "%x", &der)
	require.NoError(t, err)
	ek, err := x509.ParseECPrivateKey(der)
	require.NoError(t, err)
	return keysWith(t, ns, nv, ek)
}

// TestCrashDuringAppends kills an appending process with SIGKILL three times, at different
// points of its batches, and checks after each kill that the log audits (no checkpoint covers
// a missing entry), that every acknowledged event is in it, and that the next process
// continues the same log.
func TestCrashDuringAppends(t *testing.T) {
	if testing.Short() {
		t.Skip("starts helper processes")
	}
	dir := t.TempDir()
	skey, vkey, err := note.GenerateKey(nil, origin)
	require.NoError(t, err)
	saveKeys(t, dir, skey, vkey, mustKey(t))
	k := loadKeys(t, dir)
	a := auditor(t, filepath.Join(dir, "log"), k)
	var held *auditlog.Checkpoint
	total := 0
	for round, killAt := range []int{100, 450, 1000} {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestChildAppender$")
		cmd.Env = append(os.Environ(), childEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		acked := 0
		lines := bufio.NewScanner(out)
		for acked < killAt && lines.Scan() {
			if n, ok := strings.CutPrefix(lines.Text(), "acked "); ok {
				acked, err = strconv.Atoi(n)
				require.NoError(t, err)
			}
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		require.GreaterOrEqual(t, acked, killAt, "round %d: the child stopped early", round)
		total += acked

		// Restarting publishes the checkpoint of what the dead process made durable.
		l, err := auditlog.Open(context.Background(), filepath.Join(dir, "log"), k.checkpoints, k.events, auditlog.WithActor("parent@example.com"))
		require.NoError(t, err)
		index, err := l.Append(context.Background(), event(-1))
		require.NoError(t, err)
		require.NoError(t, l.Close(context.Background()))
		total++

		report, err := a.Audit(context.Background(), held)
		require.NoError(t, err, "round %d", round)
		require.Equal(t, index+1, report.Checkpoint.Size, "the appended entry is the last")
		require.GreaterOrEqual(t, report.Checkpoint.Size, uint64(total), "round %d: acknowledged entries lost", round)
		held = report.Checkpoint
	}
}
