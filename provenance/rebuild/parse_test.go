package rebuild_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/rebuild"
)

// validStatement returns a rebuild statement of a mismatch, with materials compared.
func validStatement(t testing.TB) *intoto.Statement {
	t.Helper()
	app := func(s string) []*intoto.ResourceDescriptor {
		return []*intoto.ResourceDescriptor{{Name: "app", Digest: map[string]string{"sha256": digest.FromString(s).Encoded()}}}
	}
	b := &provenance.Build{BuildType: "https://example.com/b", ExternalParameters: map[string]any{"a": "b"}, BuilderID: "https://example.com/ci"}
	original, err := b.Statement(app("one"))
	require.NoError(t, err)
	b.BuilderID = "https://example.com/rebuilder"
	again, err := b.Statement(app("two"))
	require.NoError(t, err)
	res, err := rebuild.Check(rebuild.Input{Original: original, Rebuilt: app("two"), Provenance: again, CheckedOn: checkedOn})
	require.NoError(t, err)
	st, err := res.Statement()
	require.NoError(t, err)
	return st
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(st *intoto.Statement, p map[string]any)
		field string
	}{
		{"wrong type", func(st *intoto.Statement, _ map[string]any) { st.PredicateType = provenance.PredicateSLSAProvenanceV1 }, "predicateType"},
		{"unknown field", func(_ *intoto.Statement, p map[string]any) { p["verdict"] = "fine" }, "predicate"},
		{"unknown nested field", func(_ *intoto.Statement, p map[string]any) { p["original"].(map[string]any)["uri"] = "x" }, "predicate"},
		{"field in other case", func(_ *intoto.Statement, p map[string]any) { p["Outcome"] = p["outcome"]; delete(p, "outcome") }, "predicate"},
		{"null field", func(_ *intoto.Statement, p map[string]any) { p["compared"] = nil }, "predicate.compared"},
		{"wrong JSON type", func(_ *intoto.Statement, p map[string]any) { p["outcome"] = 1.0 }, "predicate"},
		{"match with differences", func(_ *intoto.Statement, p map[string]any) { p["outcome"] = "match" }, "predicate.outcome"},
		{"mismatch without differences", func(_ *intoto.Statement, p map[string]any) { p["differences"] = []any{} }, "predicate.outcome"},
		{"unknown outcome", func(_ *intoto.Statement, p map[string]any) { p["outcome"] = "probably" }, "predicate.outcome"},
		{"no differences field", func(_ *intoto.Statement, p map[string]any) { p["outcome"] = "match"; delete(p, "differences") }, "predicate"},
		{"original digest sha512", func(_ *intoto.Statement, p map[string]any) {
			p["original"].(map[string]any)["digest"] = map[string]any{"sha512": strings.Repeat("0", 128)}
		}, "predicate.original.digest"},
		{"original digest short", func(_ *intoto.Statement, p map[string]any) {
			p["original"].(map[string]any)["digest"] = map[string]any{"sha256": "00"}
		}, "predicate.original.digest"},
		{"no original type", func(_ *intoto.Statement, p map[string]any) { delete(p["original"].(map[string]any), "predicateType") }, "predicate.original.predicateType"},
		{"no original subjects", func(_ *intoto.Statement, p map[string]any) { p["original"].(map[string]any)["subjects"] = []any{} }, "predicate.original.subjects"},
		{"rebuilt subject without digest", func(_ *intoto.Statement, p map[string]any) {
			p["rebuilt"].(map[string]any)["subjects"] = []any{map[string]any{"name": "app", "digest": map[string]any{}}}
		}, "predicate.rebuilt.subjects[0]"},
		{"compared unknown", func(_ *intoto.Statement, p map[string]any) { p["compared"] = []any{"subjects", "vibes"} }, "predicate.compared[1]"},
		{"compared without subjects", func(_ *intoto.Statement, p map[string]any) { p["compared"] = []any{"materials"} }, "predicate.compared"},
		{"materials without parameters", func(_ *intoto.Statement, p map[string]any) {
			p["compared"] = []any{"subjects", "materials"}
		}, "predicate.compared"},
		{"builder without materials", func(_ *intoto.Statement, p map[string]any) { p["compared"] = []any{"subjects"} }, "predicate.rebuilt.builderId"},
		{"bad change kind", func(_ *intoto.Statement, p map[string]any) {
			p["differences"].([]any)[0].(map[string]any)["kind"] = "moved"
		}, "predicate.differences[0].kind"},
		{"change without difference", func(_ *intoto.Statement, p map[string]any) {
			c := p["differences"].([]any)[0].(map[string]any)
			c["current"] = c["baseline"]
		}, "predicate.differences[0]"},
		{"checkedOn not a time", func(_ *intoto.Statement, p map[string]any) { p["checkedOn"] = "yesterday" }, "predicate.checkedOn"},
		{"checkedOn not UTC", func(_ *intoto.Statement, p map[string]any) { p["checkedOn"] = "2026-03-04T06:06:07+01:00" }, "predicate.checkedOn"},
		{"subject neither the original nor the rebuilt one", func(st *intoto.Statement, _ map[string]any) {
			st.Subject[0].Digest = map[string]string{"sha256": digest.FromString("other").Encoded()}
		}, "subject"},
		{"inputs not compared", func(_ *intoto.Statement, p map[string]any) {
			p["rebuilt"].(map[string]any)["inputs"] = []any{map[string]any{"name": "in", "digest": map[string]any{"sha256": digest.FromString("in").Encoded()}}}
		}, "predicate.rebuilt.inputs"},
		{"inputs compared, none listed", func(_ *intoto.Statement, p map[string]any) {
			p["compared"] = []any{"subjects", "inputs", "materials", "parameters"}
		}, "predicate.rebuilt.inputs"},
		{"inputs after materials", func(_ *intoto.Statement, p map[string]any) {
			p["compared"] = []any{"subjects", "materials", "parameters", "inputs"}
		}, "predicate.compared[3]"},
		{"extra subject", func(st *intoto.Statement, _ map[string]any) {
			st.Subject = append(st.Subject, &intoto.ResourceDescriptor{Name: "x", Digest: map[string]string{"sha256": digest.FromString("x").Encoded()}})
		}, "subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := validStatement(t)
			p := st.GetPredicate().AsMap()
			tt.edit(st, p)
			st, err := provenance.NewStatement(st.GetSubject(), st.GetPredicateType(), p)
			require.NoError(t, err)
			res, err := rebuild.Parse(st)
			require.ErrorIs(t, err, rebuild.ErrInvalidPredicate)
			assert.Nil(t, res)
			var pe *rebuild.PredicateError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.field, pe.Field, err.Error())
		})
	}
	_, err := rebuild.Parse(&intoto.Statement{PredicateType: rebuild.PredicateType})
	require.ErrorIs(t, err, rebuild.ErrInvalidPredicate)
}

// FuzzParse reads arbitrary statements: Parse must not panic, must fail only with
// ErrInvalidPredicate, and what it accepts must be written back to the same predicate.
func FuzzParse(f *testing.F) {
	data, err := provenance.Marshal(validStatement(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + strings.Repeat("0", 64) + `"}}],"predicateType":"https://provkit.dev/rebuild/v1","predicate":{"outcome":"match","differences":null}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := provenance.ParseStatement(data)
		if err != nil {
			return
		}
		res, err := rebuild.Parse(st)
		if err != nil {
			if !errors.Is(err, rebuild.ErrInvalidPredicate) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		again, err := res.Statement()
		if err != nil {
			t.Fatalf("accepted result does not make a statement: %v", err)
		}
		a, _ := json.Marshal(st.GetPredicate().AsMap())
		b, _ := json.Marshal(again.GetPredicate().AsMap())
		if string(a) != string(b) {
			t.Fatalf("predicate not reproduced:\n%s\n%s", a, b)
		}
	})
}
