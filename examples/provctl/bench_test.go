//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"oras.land/oras-go/v2/registry/remote"

	"github.com/provkit/provkit/internal/testenv"
)

// BenchmarkVerifyAgainstCosign runs `provctl verify` and `cosign verify-attestation` as
// processes, one verification of the same cosign-attested image per iteration, on the
// distribution registry program; both trust the same key and skip the log the same way. Each
// reports the largest resident set of its runs (peak-RSS-KiB). Compare ns/op and peak-RSS-KiB
// of the two.
func BenchmarkVerifyAgainstCosign(b *testing.B) {
	cosign := testenv.Cosign(b)
	host := testenv.Distribution(b)
	dir := b.TempDir()
	provctlBin := filepath.Join(dir, "provctl")
	build := exec.CommandContext(b.Context(), "go", "build", "-trimpath", "-ldflags=-s -w", "-o", provctlBin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	env := append(os.Environ(), "COSIGN_PASSWORD=", "HOME="+dir, "TUF_ROOT="+filepath.Join(dir, "tuf"))
	run := func(name string, args ...string) *os.ProcessState {
		cmd := exec.CommandContext(b.Context(), name, args...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out.String())
		}
		return cmd.ProcessState
	}
	run(cosign, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, "cosign"))
	pred := filepath.Join(dir, "pred.json")
	if err := os.WriteFile(pred, []byte(`{"buildDefinition":{"buildType":"https://example.com/b","externalParameters":{"x":"1"}},"runDetails":{"builder":{"id":"https://example.com/x"}}}`), 0o600); err != nil {
		b.Fatal(err)
	}
	repo, err := remote.NewRepository(host + "/bench/verify")
	if err != nil {
		b.Fatal(err)
	}
	repo.PlainHTTP = true
	image := testenv.PushImage(b, repo, "v1", "bench "+filepath.Base(dir)+"\n")
	ref := host + "/bench/verify@" + image.Digest.String()
	run(cosign, "attest", "--key", filepath.Join(dir, "cosign.key"), "--type", "slsaprovenance1", "--predicate", pred,
		"--new-bundle-format=false", "--tlog-upload=false", "--use-signing-config=false", "--allow-http-registry", "-y", ref)

	for _, tool := range []struct {
		name string
		bin  string
		args []string
	}{
		{"provctl", provctlBin, []string{"verify", "--key", filepath.Join(dir, "cosign.pub"), "--insecure-ignore-tlog", "--plain-http", "--type", "slsaprovenance1", ref}},
		{"cosign", cosign, []string{"verify-attestation", "--key", filepath.Join(dir, "cosign.pub"), "--insecure-ignore-tlog", "--allow-http-registry", "--type", "slsaprovenance1", ref}},
	} {
		b.Run(tool.name, func(b *testing.B) {
			var peak int64
			for b.Loop() {
				if u, ok := run(tool.bin, tool.args...).SysUsage().(*syscall.Rusage); ok {
					peak = max(peak, u.Maxrss)
				}
			}
			b.ReportMetric(float64(peak), "peak-RSS-KiB")
		})
	}
}
