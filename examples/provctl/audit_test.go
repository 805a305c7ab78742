package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/sign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/stretchr/testify/require"
)

// TestAuditCommands keeps events in a log folder with provctl, shows and proves them, audits the
// log from the folder and over HTTP, and refuses a rolled-back log and another signer's events.
func TestAuditCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{envPassword: ""}
	at := func(name string) string { return filepath.Join(dir, name) }
	mustRun(t, exitOK, env, "audit", "keygen", "--origin", "audit.provctl.test", "--out", at("log"))
	mustRun(t, exitOK, env, "key", "generate", "--out", at("events"))
	mustRun(t, exitOK, env, "key", "generate", "--out", at("intruder"))
	image := digest.FromString("image").String()
	appendArgs := func(key string, more ...string) []string {
		return append([]string{"audit", "append", "--log", at("L"), "--log-key", at("log.note.key"), "--key", key,
			"--subject", image, "--actor", "release@example.com"}, more...)
	}
	r := mustRun(t, exitOK, env, appendArgs(at("events.key"), "--kind", "promoted", "--decision", "allow", "--environment", "prod",
		"--reason", "policy prod passed", "--attr", "ticket=CHG-7")...)
	require.Contains(t, r.stdout, "at index 0")
	mustRun(t, exitOK, env, appendArgs(at("events.key"), "--kind", "retired")...)
	mustRun(t, exitUnchecked, env, appendArgs(at("events.key"), "--kind", "teleported")...)

	read := func(cmd string, more ...string) []string {
		return append([]string{"audit", cmd, "--log", at("L"), "--log-pub", at("log.note.pub"), "--key", at("events.pub")}, more...)
	}
	r = mustRun(t, exitOK, env, read("show", "--output", "json")...)
	var shown struct{ Events []map[string]any }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &shown))
	require.Len(t, shown.Events, 2)
	require.Equal(t, "promoted", shown.Events[0]["kind"])
	require.Equal(t, "prod", shown.Events[0]["environment"])
	require.Equal(t, "retired", shown.Events[1]["kind"])

	r = mustRun(t, exitOK, env, read("prove", "1")...)
	var proof struct {
		Index    uint64
		TreeSize uint64 `json:"treeSize"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &proof))
	require.Equal(t, uint64(1), proof.Index)
	require.Equal(t, uint64(2), proof.TreeSize)
	mustRun(t, exitDenied, env, read("prove", "2")...)

	held := at("held")
	r = mustRun(t, exitOK, env, read("verify", "--checkpoint", held)...)
	require.Contains(t, r.stdout, "2 entries verified")
	older, err := os.ReadFile(filepath.Join(at("L"), "checkpoint"))
	require.NoError(t, err)
	mustRun(t, exitOK, env, appendArgs(at("events.key"), "--kind", "deployed")...)
	mustRun(t, exitOK, env, read("verify", "--checkpoint", held)...)

	// Over HTTP, as a web server serves the folder.
	srv := httptest.NewServer(http.FileServer(http.Dir(at("L"))))
	t.Cleanup(srv.Close)
	r = mustRun(t, exitOK, env, "audit", "verify", "--log", srv.URL+"/", "--log-pub", at("log.note.pub"), "--key", at("events.pub"))
	require.Contains(t, r.stdout, "3 entries verified")

	require.NoError(t, os.WriteFile(filepath.Join(at("L"), "checkpoint"), older, 0o644))
	r = mustRun(t, exitDenied, env, read("verify", "--checkpoint", held)...)
	require.Contains(t, r.stderr, "rolled back")

	mustRun(t, exitOK, env, appendArgs(at("intruder.key"), "--kind", "verified", "--decision", "allow")...)
	r = mustRun(t, exitDenied, env, read("verify")...)
	require.True(t, strings.Contains(r.stderr, "entry 3"), r.stderr)
	mustRun(t, exitUnchecked, env, "audit", "verify", "--log", at("absent"), "--log-pub", at("log.note.pub"), "--key", at("events.pub"))
}

// TestAuditFollowRekor follows the real Rekor v2 server's log, read from its tiles as a static
// host serves them, with the log's PEM key: the held checkpoint moves on as entries are added,
// and a held checkpoint the log's key did not sign is refused.
func TestAuditFollowRekor(t *testing.T) {
	const origin = "rekor.follow.provctl.test"
	r := testenv.StartRekorV2(t, origin)
	tiles := httptest.NewServer(http.FileServer(http.Dir(r.Tiles)))
	t.Cleanup(tiles.Close)
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(r.Key.Public())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(at("rekor.pem"), pubPEM, 0o644))

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	logged, err := sign.NewKeySigner(key, sign.WithTransparencyLog(r.URL, 2))
	require.NoError(t, err)
	logEntries := func(from, n int) {
		for i := from; i < from+n; i++ {
			e := audit.Event{Kind: audit.KindAttested, Subject: digest.FromString(fmt.Sprint("artifact ", i)),
				Actor: "ci@example.com", Time: time.Now().UTC()}
			st, err := e.Statement()
			require.NoError(t, err)
			_, err = logged.Sign(t.Context(), st)
			require.NoError(t, err)
		}
	}
	follow := func(want int, held string) result {
		return mustRun(t, want, nil, "audit", "follow", "--log", tiles.URL, "--log-pub", at("rekor.pem"), "--origin", origin, "--checkpoint", held)
	}
	size := func(out string) int {
		var origin string
		var n int
		_, err := fmt.Sscanf(out, "log %s size %d,", &origin, &n)
		require.NoError(t, err, out)
		return n
	}

	logEntries(0, 1)
	first := follow(exitOK, at("held"))
	require.Contains(t, first.stdout, "no checkpoint held")
	held := size(first.stdout)
	require.GreaterOrEqual(t, held, 1)

	logEntries(1, 2)
	require.Eventually(t, func() bool {
		r := follow(exitOK, at("held"))
		require.Contains(t, r.stdout, fmt.Sprintf("consistent with the held size %d", held))
		held = size(r.stdout)
		return held >= 3
	}, 30*time.Second, 200*time.Millisecond, "the held checkpoint moves on to one covering the new entries")

	raw, err := os.ReadFile(at("held"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(at("altered"), []byte(strings.Replace(string(raw), "\n", "\n1", 1)), 0o644))
	follow(exitDenied, at("altered"))
	mustRun(t, exitUnchecked, nil, "audit", "follow", "--log", tiles.URL, "--log-pub", at("rekor.pem"), "--checkpoint", at("held"))
}

// TestAttestRecordedInAuditLog attests with --audit-log: the log holds an attested event with
// the signed bundle's digest and an attached event with the manifest attest printed, both about
// the image's digest and by the --audit-actor.
func TestAttestRecordedInAuditLog(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	store, err := oras.NewLayout(t.Context(), at("pack"))
	require.NoError(t, err)
	image := testenv.PushImage(t, store.Target(), "app", "app v1\n")
	env := map[string]string{envPassword: "", "HOME": dir}
	mustRun(t, exitOK, env, "key", "generate", "--out", at("release"))
	mustRun(t, exitOK, env, "audit", "keygen", "--origin", "audit.attest.test", "--out", at("log"))

	attest := []string{"attest", "--key", at("release.key"), "--source", dir, "--oci-layout", at("pack") + ":app",
		"--audit-log", at("L"), "--audit-log-key", at("log.note.key"), "--audit-key", at("release.key"), "--audit-actor", "ci@example.com"}
	r := mustRun(t, exitOK, env, attest...)
	attached := strings.TrimSpace(r.stdout)

	r = mustRun(t, exitOK, env, "audit", "show", "--output", "json", "--log", at("L"), "--log-pub", at("log.note.pub"), "--key", at("release.pub"))
	var shown struct {
		Events []struct {
			Kind, Subject, Actor string
			Evidence             []string
			Attributes           map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &shown))
	require.Len(t, shown.Events, 2)
	attested, attach := shown.Events[0], shown.Events[1]
	require.Equal(t, "attested", attested.Kind)
	require.Equal(t, "attached", attach.Kind)
	for _, e := range shown.Events {
		require.Equal(t, image.Digest.String(), e.Subject)
		require.Equal(t, "ci@example.com", e.Actor)
		require.Equal(t, "https://slsa.dev/provenance/v1", e.Attributes["predicateType"])
	}
	require.Equal(t, []string{attached, attested.Evidence[0]}, attach.Evidence, "attached names the manifest, then the bundle")
	found, err := store.Discover(t.Context(), image, oras.Query{})
	require.NoError(t, err)
	require.Len(t, found, 1)
	require.Equal(t, attached, found[0].Manifest.Digest.String())
	bundle, err := store.FetchAttestation(t.Context(), found[0])
	require.NoError(t, err)
	require.Equal(t, bundle.Digest().String(), attested.Evidence[0], "attested names the bundle attached")

	r = mustRun(t, exitUnchecked, env, attest[:len(attest)-4]...)
	require.Contains(t, r.stderr, "--audit-log needs --audit-log-key and --audit-key")
	found, err = store.Discover(t.Context(), image, oras.Query{})
	require.NoError(t, err)
	require.Len(t, found, 1, "nothing is attached when the audit log cannot be opened")
}
