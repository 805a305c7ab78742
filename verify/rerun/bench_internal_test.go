package rerun

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkUnpackLayer unpacks a layer of 1,000 files of 4 KiB in 50 directories, with links:
// what a small tool image holds.
func BenchmarkUnpackLayer(b *testing.B) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := bytes.Repeat([]byte("x"), 4096)
	for d := range 50 {
		_ = tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("usr/lib/d%02d/", d), Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(0, 0)})
		for f := range 20 {
			_ = tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("usr/lib/d%02d/f%02d", d, f), Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(0, 0)})
			_, _ = tw.Write(body)
		}
		_ = tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("usr/lib/l%02d", d), Typeflag: tar.TypeSymlink, Linkname: fmt.Sprintf("d%02d/f00", d), ModTime: time.Unix(0, 0)})
	}
	_ = tw.Close()
	layer := buf.Bytes()
	parent := b.TempDir()
	b.SetBytes(int64(len(layer)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		root := filepath.Join(parent, fmt.Sprint(i))
		i++
		if err := os.Mkdir(root, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := unpackLayer(bytes.NewReader(layer), root, &budget{bytes: 1 << 30, entries: 1 << 20}); err != nil {
			b.Fatal(err)
		}
	}
}
