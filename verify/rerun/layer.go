package rerun

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/provkit/provkit/provenance"
)

// budget is what unpacking may still write: bytes of regular files and archive entries, across
// every layer of one image.
type budget struct {
	bytes   int64
	entries int
}

// maxSymlinkTarget is the longest symbolic link target accepted, as Linux's PATH_MAX.
const maxSymlinkTarget = 4096

// unpackLayer extracts one uncompressed layer tar stream into root, applying OCI whiteouts to
// what earlier layers wrote. It refuses, with a *LayerError wrapping ErrUnsafeLayer: names with
// a ".." element, entries reached through a symbolic link (so nothing is written outside root),
// symbolic links whose target leads above root, hard links to anything but a regular file
// below root, device files and named pipes, unknown entry types, and entries or bytes beyond b.
// Absolute names are taken relative to root, as tar does. Permission bits are kept, without
// setuid, setgid and sticky bits; owners are not: files belong to whoever unpacks.
func unpackLayer(r io.Reader, root string, b *budget) error {
	tr := tar.NewReader(r)
	created := map[string]bool{} // paths this layer wrote: opaque whiteouts spare them
	dirs := knownDirs{}          // directories checked to be real ones, while nothing replaced them
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &LayerError{Path: "", Reason: "unreadable archive", Err: err}
		}
		if b.entries--; b.entries < 0 {
			return &LayerError{Path: hdr.Name, Reason: "too many entries", Err: provenance.ErrTooLarge}
		}
		rel, ok := entryPath(hdr.Name)
		if !ok {
			return &LayerError{Path: hdr.Name, Reason: "name leads outside the root folder"}
		}
		if rel == "" {
			continue // the root itself
		}
		dir, base := path.Split(rel)
		dir = strings.TrimSuffix(dir, "/")
		if err := dirs.makeParents(root, dir, hdr.Name); err != nil {
			return err
		}
		target := filepath.Join(root, filepath.FromSlash(rel))
		switch {
		case base == ".wh..wh..opq":
			dirs.forget(dir)
			if err := clearDir(root, dir, created); err != nil {
				return &LayerError{Path: hdr.Name, Reason: "opaque whiteout", Err: err}
			}
			continue
		case strings.HasPrefix(base, ".wh."):
			gone := path.Join(dir, strings.TrimPrefix(base, ".wh."))
			if gone == dir || !safeRelative(gone) {
				return &LayerError{Path: hdr.Name, Reason: "whiteout of nothing"}
			}
			dirs.forget(gone)
			if err := os.RemoveAll(filepath.Join(root, filepath.FromSlash(gone))); err != nil {
				return &LayerError{Path: hdr.Name, Reason: "whiteout", Err: err}
			}
			continue
		}
		perm := fs.FileMode(hdr.Mode) & fs.ModePerm
		if hdr.Typeflag == tar.TypeDir {
			if fi, err := os.Lstat(target); err == nil && fi.IsDir() {
				if err := os.Chmod(target, perm); err != nil {
					return &LayerError{Path: hdr.Name, Reason: "directory", Err: err}
				}
				created[rel] = true
				continue
			}
		}
		dirs.forget(rel)
		if err := os.RemoveAll(target); err != nil {
			return &LayerError{Path: hdr.Name, Reason: "replace", Err: err}
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = os.Mkdir(target, perm)
			if err == nil {
				err = os.Chmod(target, perm) // the umask does not apply
			}
		case tar.TypeReg:
			if hdr.Size < 0 || hdr.Size > b.bytes {
				return &LayerError{Path: hdr.Name, Reason: fmt.Sprintf("%d bytes, over what the image may still write (%d)", hdr.Size, b.bytes), Err: provenance.ErrTooLarge}
			}
			b.bytes -= hdr.Size
			err = writeRegular(target, perm, tr, hdr.Size)
		case tar.TypeSymlink:
			if !safeLink(dir, hdr.Linkname) {
				return &LayerError{Path: hdr.Name, Reason: fmt.Sprintf("symbolic link to %q leads outside the root folder", hdr.Linkname)}
			}
			err = os.Symlink(hdr.Linkname, target)
		case tar.TypeLink:
			src, ok := entryPath(hdr.Linkname)
			if !ok || src == "" {
				return &LayerError{Path: hdr.Name, Reason: fmt.Sprintf("hard link to %q leads outside the root folder", hdr.Linkname)}
			}
			srcDir, _ := path.Split(src)
			if err := noSymlinks(root, strings.TrimSuffix(srcDir, "/")); err != nil {
				return &LayerError{Path: hdr.Name, Reason: "hard link through a symbolic link"}
			}
			srcPath := filepath.Join(root, filepath.FromSlash(src))
			fi, lerr := os.Lstat(srcPath)
			if lerr != nil || !fi.Mode().IsRegular() {
				return &LayerError{Path: hdr.Name, Reason: fmt.Sprintf("hard link to %q, which is not a regular file of the image", hdr.Linkname)}
			}
			err = os.Link(srcPath, target)
		case tar.TypeChar, tar.TypeBlock:
			return &LayerError{Path: hdr.Name, Reason: "device file"}
		case tar.TypeFifo:
			return &LayerError{Path: hdr.Name, Reason: "named pipe"}
		default:
			return &LayerError{Path: hdr.Name, Reason: fmt.Sprintf("entry type %q is not supported", hdr.Typeflag)}
		}
		if err != nil {
			return &LayerError{Path: hdr.Name, Reason: "write", Err: err}
		}
		created[rel] = true
	}
}

// entryPath returns an archive name as a clean path relative to the root, "" for the root
// itself, and false when an element is "..".
func entryPath(name string) (string, bool) {
	if strings.IndexByte(name, 0) >= 0 || strings.Contains(name, "\\") {
		return "", false
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return "", false
		}
	}
	rel := strings.TrimPrefix(path.Clean("/"+name), "/")
	return rel, true
}

// safeLink reports whether a symbolic link at dir (relative to the root) with target stays
// below the root, reading target lexically: an absolute target is taken from the root, as it
// is inside the chroot; a relative one may not climb above it.
func safeLink(dir, target string) bool {
	if target == "" || len(target) > maxSymlinkTarget || strings.IndexByte(target, 0) >= 0 {
		return false
	}
	if strings.HasPrefix(target, "/") {
		return true
	}
	depth := 0
	if dir != "" {
		depth = strings.Count(dir, "/") + 1
	}
	for _, el := range strings.Split(target, "/") {
		switch el {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return false
			}
		default:
			depth++
		}
	}
	return true
}

// knownDirs are the directories (relative to the root) an unpacking checked or made, so each
// is checked once; an entry that replaces or removes a path forgets it and what is below.
type knownDirs map[string]bool

// forget drops rel and everything below it.
func (k knownDirs) forget(rel string) {
	if len(k) == 0 {
		return
	}
	if rel == "" {
		clear(k)
		return
	}
	if !k[rel] {
		return // not a known directory: nothing below it is known either
	}
	for d := range k {
		if d == rel || strings.HasPrefix(d, rel+"/") {
			delete(k, d)
		}
	}
}

// makeParents makes the directories of dir (relative to root) that do not exist, refusing to
// go through a symbolic link or a file.
func (k knownDirs) makeParents(root, dir, name string) error {
	if dir == "" || k[dir] {
		return nil
	}
	p, rel := root, ""
	for _, el := range strings.Split(dir, "/") {
		p = filepath.Join(p, el)
		rel = path.Join(rel, el)
		if k[rel] {
			continue
		}
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(p, 0o755); err != nil {
				return &LayerError{Path: name, Reason: "parent directory", Err: err}
			}
		case err != nil:
			return &LayerError{Path: name, Reason: "parent directory", Err: err}
		case fi.Mode()&fs.ModeSymlink != 0:
			return &LayerError{Path: name, Reason: "path goes through a symbolic link"}
		case !fi.IsDir():
			return &LayerError{Path: name, Reason: "parent is not a directory"}
		}
		k[rel] = true
	}
	return nil
}

// noSymlinks fails when an element of dir (relative to root) is missing or a symbolic link.
func noSymlinks(root, dir string) error {
	if dir == "" {
		return nil
	}
	p := root
	for _, el := range strings.Split(dir, "/") {
		p = filepath.Join(p, el)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", p)
		}
	}
	return nil
}

// clearDir removes what dir (relative to root) holds, except what this layer wrote.
func clearDir(root, dir string, created map[string]bool) error {
	full := filepath.Join(root, filepath.FromSlash(dir))
	entries, err := os.ReadDir(full)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if created[path.Join(dir, e.Name())] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(full, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// writeRegular writes exactly size bytes of r to a new file at target.
func writeRegular(target string, perm fs.FileMode, r io.Reader, size int64) error {
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, perm)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, r, size); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
