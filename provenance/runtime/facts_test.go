package runtime_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/runtime"
)

func TestStatementParseRoundTrip(t *testing.T) {
	f := collectFixture(t)
	st, err := f.Statement()
	require.NoError(t, err)
	require.Equal(t, runtime.PredicateType, st.GetPredicateType())
	require.Len(t, st.GetSubject(), 1)
	require.Equal(t, map[string]string{"sha256": image.Encoded()}, st.GetSubject()[0].GetDigest())
	require.Equal(t, "2026-12-07T16:00:00Z", st.GetPredicate().GetFields()["collectedAt"].GetStringValue())
	require.NotContains(t, st.GetPredicate().GetFields(), "image", "the image is the subject")

	raw, err := provenance.Marshal(st)
	require.NoError(t, err)
	read, err := provenance.ParseStatement(raw)
	require.NoError(t, err)
	back, err := runtime.Parse(read)
	require.NoError(t, err)
	require.Equal(t, f, back)
}

// statementWith returns the fixture's statement with its predicate changed by edit, on the
// predicate's JSON as a map.
func statementWith(t *testing.T, edit func(p map[string]any)) *intoto.Statement {
	t.Helper()
	st, err := collectFixture(t).Statement()
	require.NoError(t, err)
	raw, err := json.Marshal(st.GetPredicate().AsMap())
	require.NoError(t, err)
	var p map[string]any
	require.NoError(t, json.Unmarshal(raw, &p))
	edit(p)
	s, err := structpb.NewStruct(p)
	require.NoError(t, err)
	st.Predicate = s
	return st
}

func TestParseRejects(t *testing.T) {
	good := func() *intoto.Statement {
		st, err := collectFixture(t).Statement()
		require.NoError(t, err)
		return st
	}
	for _, tc := range []struct {
		name  string
		st    *intoto.Statement
		field string // the *FieldError's field, when the facts are invalid
	}{
		{"wrong predicate type", func() *intoto.Statement {
			st := good()
			st.PredicateType = "https://provkit.dev/lifecycle/v1"
			return st
		}(), ""},
		{"two subjects", func() *intoto.Statement {
			st := good()
			st.Subject = append(st.Subject, &intoto.ResourceDescriptor{Digest: map[string]string{"sha256": digest.FromString("x").Encoded()}})
			return st
		}(), ""},
		{"two digests", func() *intoto.Statement {
			st := good()
			st.Subject[0].Digest["sha512"] = digest.SHA512.FromString("x").Encoded()
			return st
		}(), ""},
		{"weak subject digest", func() *intoto.Statement {
			st := good()
			st.Subject[0].Digest = map[string]string{"sha1": strings.Repeat("a", 40)}
			return st
		}(), "image"},
		{"unknown top-level field", statementWith(t, func(p map[string]any) { p["verified"] = true }), ""},
		{"top-level field in another case", statementWith(t, func(p map[string]any) { p["CollectedAt"] = p["collectedAt"]; delete(p, "collectedAt") }), ""},
		{"unknown nested field", statementWith(t, func(p map[string]any) { p["host"].(map[string]any)["ip"] = "10.0.0.1" }), ""},
		{"nested field in another case", statementWith(t, func(p map[string]any) {
			p["packages"].([]any)[0].(map[string]any)["NAME"] = "x"
		}), ""},
		{"no collection time", statementWith(t, func(p map[string]any) { delete(p, "collectedAt") }), "collectedAt"},
		{"collection time not in UTC", statementWith(t, func(p map[string]any) { p["collectedAt"] = "2026-12-07T17:00:00+01:00" }), "collectedAt"},
		{"wrong type", statementWith(t, func(p map[string]any) { p["sysctls"] = []any{"a"} }), ""},
		{"package without a name", statementWith(t, func(p map[string]any) { delete(p["packages"].([]any)[0].(map[string]any), "name") }), "packages[0].name"},
		{"package of an unknown database", statementWith(t, func(p map[string]any) { p["packages"].([]any)[1].(map[string]any)["database"] = "rpm" }), "packages[1].database"},
		{"capability names that do not match", statementWith(t, func(p map[string]any) {
			p["security"].(map[string]any)["capEff"].(map[string]any)["names"] = []any{"CAP_SYS_ADMIN"}
		}), "security.capEff"},
		{"bad seccomp mode", statementWith(t, func(p map[string]any) { p["security"].(map[string]any)["seccomp"] = "lax" }), "security.seccomp"},
		{"container ID that is not one", statementWith(t, func(p map[string]any) { p["container"].(map[string]any)["id"] = "abc" }), "container.id"},
		{"bad sysctl name", statementWith(t, func(p map[string]any) { p["sysctls"].(map[string]any)["../x"] = "1" }), "sysctls"},
		{"too large", statementWith(t, func(p map[string]any) {
			p["kernel"].(map[string]any)["commandLine"] = strings.Repeat("a", runtime.MaxPredicateBytes)
		}), ""},
		{"too many packages", statementWith(t, func(p map[string]any) {
			pkgs := make([]any, runtime.MaxPackages+1)
			for i := range pkgs {
				pkgs[i] = map[string]any{"name": "p", "database": "dpkg"}
			}
			p["packages"] = pkgs
		}), "packages"},
		{"no predicate", func() *intoto.Statement { st := good(); st.Predicate = nil; return st }(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := runtime.Parse(tc.st)
			require.Nil(t, f)
			require.ErrorIs(t, err, runtime.ErrInvalidPredicate)
			var pe *runtime.PredicateError
			require.ErrorAs(t, err, &pe)
			var fe *runtime.FieldError
			if tc.field == "" {
				require.False(t, errors.As(err, &fe), "want no field error, got %v", err)
				return
			}
			require.ErrorIs(t, err, runtime.ErrInvalidFacts)
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.field, fe.Field)
		})
	}
}

func TestStatementRejectsInvalidFacts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(f *runtime.Facts)
		field string
	}{
		{"no image", func(f *runtime.Facts) { f.Image = "" }, "image"},
		{"no time", func(f *runtime.Facts) { f.CollectedAt = time.Time{} }, "collectedAt"},
		{"bad capability set", func(f *runtime.Facts) { f.Security.CapBnd.Hex = "xyz" }, "security.capBnd"},
		{"id without source", func(f *runtime.Facts) { f.Container.Source = "" }, "container"},
		{"unreadable without a reason", func(f *runtime.Facts) { f.Unreadable["x"] = "" }, "unreadable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := collectFixture(t)
			tc.edit(f)
			st, err := f.Statement()
			require.Nil(t, st)
			require.ErrorIs(t, err, runtime.ErrInvalidFacts)
			var fe *runtime.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.field, fe.Field)
		})
	}
}
