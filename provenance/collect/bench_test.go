package collect_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/provkit/provkit/provenance/collect"
)

// benchEnv returns an environment of n variables shaped like a CI runner's: mostly paths, flags
// and URLs, with a secret by name or by value every tenth variable.
func benchEnv(n int) map[string]string {
	env := make(map[string]string, n)
	for i := range n {
		switch i % 10 {
		case 0:
			env[fmt.Sprintf("SERVICE_%d_TOKEN", i)] = strings.Repeat("t", 40)
		case 1:
			env[fmt.Sprintf("UPLOAD_%d", i)] = "ghp_" + strings.Repeat("a1B2", 9)
		case 2:
			env[fmt.Sprintf("MIRROR_%d_URL", i)] = "https://mirror.example.test/repo/" + strings.Repeat("x", 30)
		case 3:
			env[fmt.Sprintf("RUNNER_%d_PATH", i)] = "/opt/hostedtoolcache/go/1.26.0/x64/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"
		default:
			env[fmt.Sprintf("BUILD_VAR_%d", i)] = fmt.Sprintf("value-%d-%s", i, strings.Repeat("v", 20))
		}
	}
	return env
}

// BenchmarkCaptureEnv redacts a 200-variable environment. Bytes are the names and values read.
func BenchmarkCaptureEnv(b *testing.B) {
	env := benchEnv(200)
	var size int64
	for k, v := range env {
		size += int64(len(k) + len(v))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := collect.CaptureEnv(env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDetectPlatform detects GitHub Actions in a 200-variable environment.
func BenchmarkDetectPlatform(b *testing.B) {
	env := benchEnv(200)
	for k, v := range ciEnv() {
		env[k] = v
	}
	b.ReportAllocs()
	for b.Loop() {
		collect.DetectPlatform(env)
	}
}
