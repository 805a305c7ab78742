package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxLineBytes is the longest line of a package database.
const maxLineBytes = 1 << 20

// ParseDpkgStatus reads the installed packages of a dpkg status file (var/lib/dpkg/status),
// or of one file of a var/lib/dpkg/status.d folder, in the file's order. A stanza whose
// Status field says the package is not installed (such as "deinstall ok config-files") is
// left out; a stanza without a Status field, as distroless images write them, is kept. The
// packages have no PURL: Collect adds it from the os-release ID. Input over MaxDatabaseBytes
// or with more than MaxPackages packages fails with a *DatabaseError wrapping ErrTooLarge; any
// other malformed input with one wrapping ErrMalformedDatabase.
func ParseDpkgStatus(r io.Reader) ([]Package, error) {
	var (
		pkgs      []Package
		cur       Package
		status    string
		hasStatus bool
		inStanza  bool
		start     int
		last      string // the field the continuation lines belong to
	)
	flush := func() error {
		if !inStanza {
			return nil
		}
		inStanza, last = false, ""
		if cur.Name == "" {
			return &DatabaseError{Database: DatabaseDpkg, Line: start, Reason: "stanza without a Package field", Err: ErrMalformedDatabase}
		}
		if !hasStatus || dpkgInstalled(status) {
			if len(pkgs) == MaxPackages {
				return &DatabaseError{Database: DatabaseDpkg, Reason: fmt.Sprintf("more than %d packages", MaxPackages), Err: ErrTooLarge}
			}
			cur.Database = DatabaseDpkg
			pkgs = append(pkgs, cur)
		}
		cur, status, hasStatus = Package{}, "", false
		return nil
	}
	err := scanLines(r, DatabaseDpkg, func(n int, line string) error {
		if strings.TrimSpace(line) == "" {
			return flush()
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last == "" {
				return &DatabaseError{Database: DatabaseDpkg, Line: n, Reason: "continuation line outside a field", Err: ErrMalformedDatabase}
			}
			return nil
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			return &DatabaseError{Database: DatabaseDpkg, Line: n, Reason: fmt.Sprintf("%.40q is not a field", line), Err: ErrMalformedDatabase}
		}
		if !inStanza {
			inStanza, start = true, n
		}
		last = key
		value = strings.TrimSpace(value)
		switch strings.ToLower(key) {
		case "package":
			cur.Name = value
		case "version":
			cur.Version = value
		case "architecture":
			cur.Architecture = value
		case "status":
			status, hasStatus = value, true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return pkgs, nil
}

// dpkgInstalled reports whether a Status field ("want flag state") says installed.
func dpkgInstalled(status string) bool {
	f := strings.Fields(status)
	return len(f) == 3 && f[2] == "installed"
}

// ParseAPKInstalled reads the packages of an apk database (lib/apk/db/installed), in the
// file's order: per blank-line separated entry, P: the name, V: the version and A: the
// architecture; other keys are skipped. The packages have no PURL: Collect adds it from the
// os-release ID. Input over MaxDatabaseBytes or with more than MaxPackages packages fails with
// a *DatabaseError wrapping ErrTooLarge; any other malformed input with one wrapping
// ErrMalformedDatabase.
func ParseAPKInstalled(r io.Reader) ([]Package, error) {
	var (
		pkgs    []Package
		cur     Package
		inEntry bool
		entryAt int
	)
	flush := func() error {
		if !inEntry {
			return nil
		}
		inEntry = false
		if cur.Name == "" {
			return &DatabaseError{Database: DatabaseAPK, Line: entryAt, Reason: "entry without a P: line", Err: ErrMalformedDatabase}
		}
		if len(pkgs) == MaxPackages {
			return &DatabaseError{Database: DatabaseAPK, Reason: fmt.Sprintf("more than %d packages", MaxPackages), Err: ErrTooLarge}
		}
		cur.Database = DatabaseAPK
		pkgs = append(pkgs, cur)
		cur = Package{}
		return nil
	}
	err := scanLines(r, DatabaseAPK, func(n int, line string) error {
		if line == "" {
			return flush()
		}
		if len(line) < 2 || line[1] != ':' {
			return &DatabaseError{Database: DatabaseAPK, Line: n, Reason: fmt.Sprintf("%.40q is not a key:value line", line), Err: ErrMalformedDatabase}
		}
		if !inEntry {
			inEntry, entryAt = true, n
		}
		switch line[0] {
		case 'P':
			cur.Name = line[2:]
		case 'V':
			cur.Version = line[2:]
		case 'A':
			cur.Architecture = line[2:]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return pkgs, nil
}

// scanLines calls fn for each line of r, numbered from 1, enforcing MaxDatabaseBytes and
// maxLineBytes.
func scanLines(r io.Reader, db string, fn func(n int, line string) error) error {
	lr := &io.LimitedReader{R: r, N: MaxDatabaseBytes + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		if lr.N <= 0 {
			return &DatabaseError{Database: db, Reason: fmt.Sprintf("more than %d bytes", MaxDatabaseBytes), Err: ErrTooLarge}
		}
		if err := fn(n, strings.TrimSuffix(sc.Text(), "\r")); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &DatabaseError{Database: db, Line: n + 1, Reason: fmt.Sprintf("line longer than %d bytes", maxLineBytes), Err: ErrTooLarge}
		}
		return &DatabaseError{Database: db, Line: n + 1, Reason: err.Error(), Err: ErrMalformedDatabase}
	}
	if lr.N <= 0 {
		return &DatabaseError{Database: db, Reason: fmt.Sprintf("more than %d bytes", MaxDatabaseBytes), Err: ErrTooLarge}
	}
	return nil
}

// PackageURL returns the package URL of p in the namespace of a distribution's os-release ID,
// such as "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64" or "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64".
// It returns "" for an empty namespace or name, or a database of another kind.
func PackageURL(p Package, namespace string) string {
	var typ string
	switch p.Database {
	case DatabaseDpkg:
		typ = "deb"
	case DatabaseAPK:
		typ = "apk"
	default:
		return ""
	}
	if namespace == "" || p.Name == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("pkg:" + typ + "/" + purlEscape(strings.ToLower(namespace)) + "/" + purlEscape(p.Name))
	if p.Version != "" {
		b.WriteString("@" + purlEscape(p.Version))
	}
	if p.Architecture != "" {
		b.WriteString("?arch=" + purlEscape(p.Architecture))
	}
	return b.String()
}

// purlEscape percent-encodes all but the characters the purl specification leaves as they
// are in names, versions and qualifier values: letters, digits, '.', '-', '_', '~' and ':'.
func purlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_~:", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
