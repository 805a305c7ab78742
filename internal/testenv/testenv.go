package testenv

import (
	"os"
	"testing"
)

// Names of the environment variables that internal/tools/services.sh
// writes to its env file and that `make test` exports.
const (
	// EnvDistribution holds host:port of a distribution 2.8 registry,
	// which has no referrers API.
	EnvDistribution = "PROVKIT_TEST_DISTRIBUTION"
	// EnvOlareg holds host:port of an olareg registry, which has the
	// referrers API.
	EnvOlareg = "PROVKIT_TEST_OLAREG"
	// EnvTSAURL holds the timestamp endpoint of an RFC 3161 timestamp
	// authority, e.g. http://127.0.0.1:PORT/api/v1/timestamp.
	EnvTSAURL = "PROVKIT_TEST_TSA_URL"
	// EnvPostgres holds a PostgreSQL DSN (postgres://...) for a database
	// that tests may write to.
	EnvPostgres = "PROVKIT_TEST_POSTGRES"
	// EnvCosign holds the absolute path of the cosign binary.
	EnvCosign = "PROVKIT_TEST_COSIGN"
	// EnvOras holds the absolute path of the oras binary.
	EnvOras = "PROVKIT_TEST_ORAS"
	// EnvCrane holds the absolute path of the crane binary.
	EnvCrane = "PROVKIT_TEST_CRANE"
	// EnvSoftHSM holds the path of the SoftHSM PKCS#11 module.
	EnvSoftHSM = "PROVKIT_TEST_SOFTHSM"
)

// Lookup returns the value of the environment variable name, or skips the
// test when it is unset or empty.
func Lookup(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("skipping: %s not set; run `make test` to start the outside programs", name)
	}
	return v
}

// Distribution returns host:port of a distribution registry without the
// referrers API, or skips the test.
func Distribution(t testing.TB) string {
	t.Helper()
	return Lookup(t, EnvDistribution)
}

// Olareg returns host:port of an olareg registry with the referrers API,
// or skips the test.
func Olareg(t testing.TB) string {
	t.Helper()
	return Lookup(t, EnvOlareg)
}

// TSAURL returns the URL of a timestamp authority's timestamp endpoint, or
// skips the test. Its certificate chain is at TSAURL(t) + "/certchain".
func TSAURL(t testing.TB) string {
	t.Helper()
	return Lookup(t, EnvTSAURL)
}

// Postgres returns a DSN for a PostgreSQL database, or skips the test.
func Postgres(t testing.TB) string {
	t.Helper()
	return Lookup(t, EnvPostgres)
}

// Cosign returns the path of the cosign binary, or skips the test.
func Cosign(t testing.TB) string {
	t.Helper()
	return Lookup(t, EnvCosign)
}

// Oras returns the path of the oras binary, or skips the test.
func Oras(t testing.TB) string {
	t.Helper()
	return Lookup(t, EnvOras)
}

// Crane returns the path of the crane binary, or skips the test.
func Crane(t testing.TB) string {
	t.Helper()
	return Lookup(t, EnvCrane)
}

// SoftHSM returns the path of the SoftHSM PKCS#11 module, or skips the
// test.
func SoftHSM(t testing.TB) string {
	t.Helper()
	return Lookup(t, EnvSoftHSM)
}
