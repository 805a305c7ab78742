package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance/runtime"
)

// debianRoot writes a Debian root filesystem whose dpkg status lists n installed packages.
func debianRoot(b *testing.B, n int) string {
	b.Helper()
	root := b.TempDir()
	require.NoError(b, os.CopyFS(root, os.DirFS("testdata/debian")))
	var status strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&status, "Package: pkg%d\nStatus: install ok installed\nPriority: optional\nSection: libs\n"+
			"Installed-Size: %d\nMaintainer: Debian Developers <debian-devel@lists.debian.org>\nArchitecture: amd64\n"+
			"Multi-Arch: same\nSource: src%d\nVersion: 1:%d.2.3-4+deb12u1\nDepends: libc6 (>= 2.34), libgcc-s1 (>= 3.0)\n"+
			"Description: package number %d\n This is the long description of the package,\n .\n over a few lines.\n\n",
			i, 100+i, i, i, i)
	}
	require.NoError(b, os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), []byte(status.String()), 0o644))
	return root
}

// BenchmarkCollect collects the fixture's proc and sys over a root filesystem with 500 dpkg
// packages, and makes the statement of the facts.
func BenchmarkCollect(b *testing.B) {
	root := debianRoot(b, 500)
	opts := []runtime.Option{runtime.WithRoot(root), runtime.WithProc("testdata/proc"), runtime.WithSys("testdata/sys"),
		runtime.WithClock(func() time.Time { return at })}
	b.Run("collect", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f, err := runtime.Collect(context.Background(), image, opts...)
			if err != nil || len(f.Packages) != 501 {
				b.Fatal(err, len(f.Packages))
			}
		}
	})
	b.Run("collect+statement", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f, err := runtime.Collect(context.Background(), image, opts...)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := f.Statement(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
