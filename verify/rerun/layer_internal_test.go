package rerun

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provkit/provkit/provenance"
)

type entry struct {
	name, link string
	typ        byte
	mode       int64
	body       string
}

func layerOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode, ModTime: time.Unix(0, 0)}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func bigBudget() *budget { return &budget{bytes: 1 << 20, entries: 1000} }

// tree lists what root holds: path -> "dir", "link:TARGET" or the file's content.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "link:" + target
		case d.IsDir():
			out[rel] = "dir"
		default:
			data, _ := os.ReadFile(p)
			out[rel] = string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUnpackLayers applies two layers: files, links, a whiteout and an opaque directory.
func TestUnpackLayers(t *testing.T) {
	root := t.TempDir()
	b := bigBudget()
	lower := layerOf(t,
		entry{name: "etc/", typ: tar.TypeDir, mode: 0o755},
		entry{name: "etc/os-release", body: "lower"},
		entry{name: "etc/passwd", body: "root:x:0:0::/root:/bin/sh\n"},
		entry{name: "opt/tool/", typ: tar.TypeDir, mode: 0o755},
		entry{name: "opt/tool/old", body: "old"},
		entry{name: "usr/bin/tool", mode: 0o4755, body: "#!tool"},
		entry{name: "bin", typ: tar.TypeSymlink, link: "usr/bin"},
		entry{name: "usr/bin/sh", typ: tar.TypeSymlink, link: "/usr/bin/tool"},
		entry{name: "usr/bin/tool2", typ: tar.TypeLink, link: "usr/bin/tool"},
	)
	upper := layerOf(t,
		entry{name: "etc/.wh.passwd"},
		entry{name: "opt/tool/.wh..wh..opq"},
		entry{name: "opt/tool/new", body: "new"},
		entry{name: "./etc/os-release", body: "upper"},
	)
	for _, l := range [][]byte{lower, upper} {
		if err := unpackLayer(bytes.NewReader(l), root, b); err != nil {
			t.Fatal(err)
		}
	}
	got := tree(t, root)
	want := map[string]string{
		"etc": "dir", "etc/os-release": "upper", "opt": "dir", "opt/tool": "dir", "opt/tool/new": "new",
		"usr": "dir", "usr/bin": "dir", "usr/bin/tool": "#!tool", "usr/bin/tool2": "#!tool",
		"bin": "link:usr/bin", "usr/bin/sh": "link:/usr/bin/tool",
	}
	if len(got) != len(want) {
		t.Fatalf("tree = %v\nwant %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	fi, err := os.Stat(filepath.Join(root, "usr/bin/tool"))
	if err != nil || fi.Mode()&fs.ModeSetuid != 0 || fi.Mode().Perm() != 0o755 {
		t.Errorf("tool mode = %v, %v: want 0755 without setuid", fi.Mode(), err)
	}
	if b.entries != 1000-13 {
		t.Errorf("entries left %d", b.entries)
	}
}

// TestUnpackRefuses refuses every entry that would write outside the root or create what a
// rootfs must not hold, and writes nothing outside the root.
func TestUnpackRefuses(t *testing.T) {
	for _, tt := range []struct {
		name    string
		entries []entry
		tooBig  bool
	}{
		{"dot-dot", []entry{{name: "../escape", body: "x"}}, false},
		{"dot-dot inside", []entry{{name: "a/../../escape", body: "x"}}, false},
		{"through a symlink", []entry{{name: "out", typ: tar.TypeSymlink, link: "/"}, {name: "out/etc/x", body: "x"}}, false},
		{"through a symlink to the parent", []entry{{name: "up", typ: tar.TypeSymlink, link: "."}, {name: "up/x", body: "x"}}, false},
		{"relative symlink escaping", []entry{{name: "a/link", typ: tar.TypeSymlink, link: "../../../etc/shadow"}}, false},
		{"hard link escaping", []entry{{name: "h", typ: tar.TypeLink, link: "../outside"}}, false},
		{"hard link to a symlink", []entry{{name: "s", typ: tar.TypeSymlink, link: "/etc/shadow"}, {name: "h", typ: tar.TypeLink, link: "s"}}, false},
		{"hard link to nothing", []entry{{name: "h", typ: tar.TypeLink, link: "missing"}}, false},
		{"character device", []entry{{name: "dev/null", typ: tar.TypeChar}}, false},
		{"block device", []entry{{name: "dev/sda", typ: tar.TypeBlock}}, false},
		{"named pipe", []entry{{name: "fifo", typ: tar.TypeFifo}}, false},
		{"whiteout of nothing", []entry{{name: "a/.wh."}}, false},
		{"over the bytes", []entry{{name: "big", body: strings.Repeat("x", 2000)}}, true},
		{"over the entries", []entry{{name: "1"}, {name: "2"}, {name: "3"}, {name: "4"}, {name: "5"}}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			root := filepath.Join(parent, "root")
			if err := os.Mkdir(root, 0o755); err != nil {
				t.Fatal(err)
			}
			err := unpackLayer(bytes.NewReader(layerOf(t, tt.entries...)), root, &budget{bytes: 1000, entries: 4})
			var le *LayerError
			if !errors.As(err, &le) || !errors.Is(err, ErrUnsafeLayer) {
				t.Fatalf("unpack = %v, want a *LayerError wrapping ErrUnsafeLayer", err)
			}
			if tt.tooBig != errors.Is(err, provenance.ErrTooLarge) {
				t.Errorf("unpack = %v: too large %v", err, tt.tooBig)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 1 {
				t.Errorf("unpacking wrote beside the root: %v", entries)
			}
		})
	}
}

// TestChrootNeedsRoot: without root privileges the chroot runner refuses at once, saying why.
func TestChrootNeedsRoot(t *testing.T) {
	defer func(f func() int) { geteuid = f }(geteuid)
	geteuid = func() int { return 1000 }
	err := Chroot().Run(context.Background(), &Command{Root: t.TempDir(), Dir: "/work", Args: []string{"true"}})
	var re *RunnerError
	if !errors.As(err, &re) || !errors.Is(err, ErrRunner) || !strings.Contains(err.Error(), "root privileges (effective uid 1000)") {
		t.Fatalf("Run = %v, want a *RunnerError wrapping ErrRunner that names the uid", err)
	}
}

// TestLookPath finds programs inside the root along PATH, following links within the root only.
func TestLookPath(t *testing.T) {
	root := t.TempDir()
	if err := unpackLayer(bytes.NewReader(layerOf(t,
		entry{name: "usr/bin/python3.12", mode: 0o755, body: "py"},
		entry{name: "usr/bin/python3", typ: tar.TypeSymlink, link: "python3.12"},
		entry{name: "bin", typ: tar.TypeSymlink, link: "/usr/bin"},
		entry{name: "usr/bin/data", body: "not executable"},
	)), root, bigBudget()); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, path, want string
	}{
		{"python3", "/bin", "/bin/python3"},
		{"python3", "/nowhere:/usr/bin", "/usr/bin/python3"},
		{"/bin/python3", "", "/bin/python3"},
		{"data", "/usr/bin", ""},
		{"sh", "/bin", ""},
	} {
		got, err := lookPath(root, tt.name, "/work", []string{"PATH=" + tt.path})
		if tt.want == "" {
			if err == nil {
				t.Errorf("lookPath(%s) = %s, want an error", tt.name, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("lookPath(%s, PATH=%s) = %q, %v; want %q", tt.name, tt.path, got, err, tt.want)
		}
	}
}

// FuzzUnpackLayer unpacks arbitrary bytes as a layer: it must not panic, must fail only with
// a *LayerError, and must never write outside the root.
func FuzzUnpackLayer(f *testing.F) {
	f.Add(layerOf(f, entry{name: "a/b", body: "x"}, entry{name: "l", typ: tar.TypeSymlink, link: "a"}, entry{name: "a/.wh.b"}))
	f.Add(layerOf(f, entry{name: "../x", body: "x"}))
	f.Add(layerOf(f, entry{name: "s", typ: tar.TypeSymlink, link: "/"}, entry{name: "s/x", body: "x"}))
	f.Add(layerOf(f, entry{name: "d/", typ: tar.TypeDir, mode: 0o755}, entry{name: "d/.wh..wh..opq"}, entry{name: "h", typ: tar.TypeLink, link: "d"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		root := filepath.Join(parent, "root")
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		err := unpackLayer(bytes.NewReader(data), root, &budget{bytes: 1 << 16, entries: 64})
		var le *LayerError
		if err != nil && !errors.As(err, &le) {
			t.Fatalf("error %v is not a *LayerError", err)
		}
		entries, _ := os.ReadDir(parent)
		if len(entries) != 1 || entries[0].Name() != "root" {
			t.Fatalf("unpacking wrote beside the root: %v", entries)
		}
	})
}
