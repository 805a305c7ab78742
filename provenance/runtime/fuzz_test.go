package runtime_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/runtime"
)

// FuzzParse feeds statement bytes to provenance.ParseStatement and Parse: anything Parse accepts
// is valid facts that Statement writes back and Parse reads as the same facts.
func FuzzParse(f *testing.F) {
	st, err := collectFixture(f).Statement()
	require.NoError(f, err)
	raw, err := provenance.Marshal(st)
	require.NoError(f, err)
	f.Add(raw)
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + image.Encoded() + `"}}],"predicateType":"https://provkit.dev/runtime/v1","predicate":{"collectedAt":"2026-01-01T00:00:00Z","container":{},"host":{},"kernel":{},"security":{"capEff":{},"capPrm":{},"capBnd":{}}}}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + image.Encoded() + `"}}],"predicateType":"https://provkit.dev/runtime/v1","predicate":{"collectedAt":"2026-01-01T00:00:00Z","packages":[{"name":"a","database":"apk","Name":"b"}]}}`))
	f.Add([]byte(`{"predicate":{"security":[]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := provenance.ParseStatement(data)
		if err != nil {
			return
		}
		facts, err := runtime.Parse(st)
		if err != nil {
			require.ErrorIs(t, err, runtime.ErrInvalidPredicate)
			return
		}
		require.NoError(t, facts.Validate())
		again, err := facts.Statement()
		require.NoError(t, err)
		back, err := runtime.Parse(again)
		require.NoError(t, err)
		require.Equal(t, facts, back)
	})
}

// fuzzDatabase checks a package database parser: it fails with a *DatabaseError or returns
// named packages of its database.
func fuzzDatabase(t *testing.T, parse func(r *bytes.Reader) ([]runtime.Package, error), db string, data []byte) {
	pkgs, err := parse(bytes.NewReader(data))
	if err != nil {
		var de *runtime.DatabaseError
		require.ErrorAs(t, err, &de)
		require.True(t, de.Err == runtime.ErrMalformedDatabase || de.Err == runtime.ErrTooLarge, err)
		require.Nil(t, pkgs)
		return
	}
	require.LessOrEqual(t, len(pkgs), runtime.MaxPackages)
	for _, p := range pkgs {
		require.NotEmpty(t, p.Name)
		require.Equal(t, db, p.Database)
	}
}

// FuzzParseDpkgStatus feeds bytes to ParseDpkgStatus.
func FuzzParseDpkgStatus(f *testing.F) {
	for _, file := range []string{"testdata/debian/var/lib/dpkg/status", "testdata/debian/var/lib/dpkg/status.d/tzdata"} {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte("Package: a\n \n"))
	f.Add([]byte("Package:\n"))
	f.Add([]byte(" x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDatabase(t, func(r *bytes.Reader) ([]runtime.Package, error) { return runtime.ParseDpkgStatus(r) }, runtime.DatabaseDpkg, data)
	})
}

// FuzzParseAPKInstalled feeds bytes to ParseAPKInstalled.
func FuzzParseAPKInstalled(f *testing.F) {
	data, err := os.ReadFile("testdata/alpine/lib/apk/db/installed")
	require.NoError(f, err)
	f.Add(data)
	f.Add([]byte("P:\n"))
	f.Add([]byte("x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDatabase(t, func(r *bytes.Reader) ([]runtime.Package, error) { return runtime.ParseAPKInstalled(r) }, runtime.DatabaseAPK, data)
	})
}
