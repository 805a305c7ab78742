package runtime_test

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance/runtime"
)

func TestParseDpkgStatus(t *testing.T) {
	pkgs, err := runtime.ParseDpkgStatus(strings.NewReader("Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\nDescription: x\n y\n .\n\n\n" +
		"Package: gone\nStatus: purge ok not-installed\n\nPackage: half\nStatus: install reinstreq half-installed\nVersion: 2\n\n" +
		"Package: b\r\nVersion: 2:3\r\n"))
	require.NoError(t, err)
	require.Equal(t, []runtime.Package{
		{Name: "a", Version: "1", Architecture: "amd64", Database: "dpkg"},
		{Name: "b", Version: "2:3", Database: "dpkg"},
	}, pkgs)

	pkgs, err = runtime.ParseDpkgStatus(strings.NewReader(""))
	require.NoError(t, err)
	require.Empty(t, pkgs)
}

func TestParseAPKInstalled(t *testing.T) {
	pkgs, err := runtime.ParseAPKInstalled(strings.NewReader("C:Q1=\nP:musl\nV:1.2.5-r0\nA:x86_64\nT:libc\n\nP:zlib\nV:1.3.1-r1\n"))
	require.NoError(t, err)
	require.Equal(t, []runtime.Package{
		{Name: "musl", Version: "1.2.5-r0", Architecture: "x86_64", Database: "apk"},
		{Name: "zlib", Version: "1.3.1-r1", Database: "apk"},
	}, pkgs)
}

// repeatReader yields s repeated to at least n bytes.
func repeatReader(s string, n int64) io.Reader {
	return strings.NewReader(strings.Repeat(s, int(n)/len(s)+1))
}

func TestParseDatabaseErrors(t *testing.T) {
	type parser func(io.Reader) ([]runtime.Package, error)
	dpkg, apk := parser(runtime.ParseDpkgStatus), parser(runtime.ParseAPKInstalled)
	for _, tc := range []struct {
		name  string
		parse parser
		input io.Reader
		is    error
		line  int
	}{
		{"dpkg line that is no field", dpkg, strings.NewReader("Package: a\nnonsense\n"), runtime.ErrMalformedDatabase, 2},
		{"dpkg continuation first", dpkg, strings.NewReader(" leading\n"), runtime.ErrMalformedDatabase, 1},
		{"dpkg stanza without a name", dpkg, strings.NewReader("Package: a\n\nVersion: 1\n"), runtime.ErrMalformedDatabase, 3},
		{"dpkg line too long", dpkg, strings.NewReader("Description: " + strings.Repeat("x", 2<<20)), runtime.ErrTooLarge, 1},
		{"dpkg too large", dpkg, io.MultiReader(strings.NewReader("Package: p\nDescription: x\n"),
			repeatReader(" more\n", runtime.MaxDatabaseBytes)), runtime.ErrTooLarge, 0},
		{"dpkg too many packages", dpkg, repeatReader("Package: p\n\n", 12*(runtime.MaxPackages+1)), runtime.ErrTooLarge, 0},
		{"apk line that is no key", apk, strings.NewReader("P:a\nmusl\n"), runtime.ErrMalformedDatabase, 2},
		{"apk entry without a name", apk, strings.NewReader("P:a\n\nV:1\n"), runtime.ErrMalformedDatabase, 3},
		{"apk too many packages", apk, repeatReader("P:p\n\n", 5*(runtime.MaxPackages+1)), runtime.ErrTooLarge, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkgs, err := tc.parse(tc.input)
			require.Nil(t, pkgs)
			require.ErrorIs(t, err, tc.is)
			var de *runtime.DatabaseError
			require.ErrorAs(t, err, &de)
			require.Equal(t, tc.line, de.Line)
			if strings.Contains(tc.name, "too large") {
				require.Contains(t, de.Reason, "bytes")
			}
		})
	}
}

func TestPackageURL(t *testing.T) {
	for _, tc := range []struct {
		p         runtime.Package
		namespace string
		want      string
	}{
		{runtime.Package{Name: "libstdc++6", Version: "12.2.0-14", Architecture: "amd64", Database: "dpkg"}, "debian",
			"pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64"},
		{runtime.Package{Name: "perl-base", Version: "1:5.36.0-7", Database: "dpkg"}, "Ubuntu", "pkg:deb/ubuntu/perl-base@1:5.36.0-7"},
		{runtime.Package{Name: "musl", Version: "1.2.5-r0", Architecture: "x86_64", Database: "apk"}, "alpine", "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64"},
		{runtime.Package{Name: "musl", Database: "apk"}, "", ""},
		{runtime.Package{Name: "bash", Database: "rpm"}, "fedora", ""},
		{runtime.Package{Name: "a b/c", Version: "1", Database: "dpkg"}, "debian", "pkg:deb/debian/a%20b%2Fc@1"},
	} {
		require.Equal(t, tc.want, runtime.PackageURL(tc.p, tc.namespace), tc.p)
	}
}

func TestCapabilityNames(t *testing.T) {
	names, err := runtime.CapabilityNames("000001ffffffffff")
	require.NoError(t, err)
	require.Len(t, names, 41)
	require.Equal(t, "CAP_CHOWN", names[0])
	require.Equal(t, "CAP_CHECKPOINT_RESTORE", names[40])

	names, err = runtime.CapabilityNames("0000040000200000")
	require.NoError(t, err)
	require.Equal(t, []string{"CAP_SYS_ADMIN", "CAP_42"}, names)

	names, err = runtime.CapabilityNames("0000000000000000")
	require.NoError(t, err)
	require.Nil(t, names)

	for _, bad := range []string{"", "xyz", "00000000000000000", "-1"} {
		_, err := runtime.CapabilityNames(bad)
		require.Error(t, err, bad)
	}
}

func TestParseOSRelease(t *testing.T) {
	require.Equal(t, map[string]string{"ID": "debian", "NAME": `Debian "GNU"/Linux`, "VERSION_ID": "12", "X": "a b"},
		runtime.ParseOSRelease([]byte("# comment\nID=debian\nNAME=\"Debian \\\"GNU\\\"/Linux\"\n\nVERSION_ID='12'\nX=\"a b\"\nnot an assignment\n")))
	require.Nil(t, runtime.ParseOSRelease(nil))
}
