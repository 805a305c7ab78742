package audit_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
)

var (
	subject  = digest.FromString("image")
	bundleOf = digest.FromString("bundle")
	when     = time.Date(2026, 12, 7, 10, 30, 0, 123, time.UTC)
)

func validEvent() audit.Event {
	return audit.Event{
		Kind:        audit.KindDenied,
		Subject:     subject,
		SubjectName: "registry.example/shop/api:1.4.2",
		Evidence:    []digest.Digest{bundleOf},
		Actor:       "gate@example.com",
		Time:        when,
		Decision:    audit.DecisionDeny,
		Reasons:     []string{"builder: https://evil.example is not allowed"},
		Environment: "prod",
		Attributes:  map[string]string{"ticket": "CHG-1"},
	}
}

func TestStatementRoundTrip(t *testing.T) {
	e := validEvent()
	st, err := e.Statement()
	require.NoError(t, err)
	require.Equal(t, audit.PredicateType, st.GetPredicateType())
	require.Equal(t, subject.Encoded(), st.GetSubject()[0].GetDigest()["sha256"])
	// Through the bytes a signer signs.
	raw, err := provenance.Marshal(st)
	require.NoError(t, err)
	back, err := provenance.ParseStatement(raw)
	require.NoError(t, err)
	got, err := audit.Parse(back)
	require.NoError(t, err)
	require.Equal(t, e, *got)
}

func TestValidateNamesField(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*audit.Event)
		field  string
	}{
		{"unknown kind", func(e *audit.Event) { e.Kind = "approved-by-vibes" }, "kind"},
		{"no subject", func(e *audit.Event) { e.Subject = "" }, "subject"},
		{"weak subject", func(e *audit.Event) { e.Subject = digest.Digest("md5:" + strings.Repeat("a", 32)) }, "subject"},
		{"upper-case subject", func(e *audit.Event) { e.Subject = digest.Digest(strings.ToUpper(string(subject))) }, "subject"},
		{"bad evidence", func(e *audit.Event) { e.Evidence = []digest.Digest{bundleOf, "sha256:zz"} }, "evidence[1]"},
		{"no actor", func(e *audit.Event) { e.Actor = " " }, "actor"},
		{"no time", func(e *audit.Event) { e.Time = time.Time{} }, "time"},
		{"unknown decision", func(e *audit.Event) { e.Decision = "maybe" }, "decision"},
		{"denied that allows", func(e *audit.Event) { e.Decision = audit.DecisionAllow }, "decision"},
		{"verified without decision", func(e *audit.Event) { e.Kind, e.Decision = audit.KindVerified, audit.DecisionNone }, "decision"},
		{"empty reason", func(e *audit.Event) { e.Reasons = []string{"ok", ""} }, "reasons[1]"},
		{"unnamed attribute", func(e *audit.Event) { e.Attributes = map[string]string{"": "x"} }, "attributes"},
		{"too many reasons", func(e *audit.Event) { e.Reasons = make([]string, audit.MaxReasons+1) }, "reasons"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := validEvent()
			tc.change(&e)
			_, err := e.Statement()
			var fe *audit.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.field, fe.Field)
			require.ErrorIs(t, err, audit.ErrInvalidEvent)
		})
	}
}

func TestStatementRefusesOversizedEvent(t *testing.T) {
	e := validEvent()
	e.Reasons = []string{strings.Repeat("x", audit.MaxEventBytes)}
	_, err := e.Statement()
	var fe *audit.FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "predicate", fe.Field)
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(m map[string]any)
		subject func(st map[string]string)
		invalid bool
	}{
		{name: "unknown field", change: func(m map[string]any) { m["approvedBy"] = "me" }},
		{name: "local time", change: func(m map[string]any) { m["time"] = "2026-12-07T10:30:00+01:00" }, invalid: true},
		{name: "not a time", change: func(m map[string]any) { m["time"] = "yesterday" }, invalid: true},
		{name: "kind of wrong type", change: func(m map[string]any) { m["kind"] = 7.0 }},
		{name: "unknown kind", change: func(m map[string]any) { m["kind"] = "teleported" }, invalid: true},
		{name: "second digest", subject: func(d map[string]string) { d["sha512"] = strings.Repeat("a", 128) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := validEvent()
			st, err := e.Statement()
			require.NoError(t, err)
			if tc.change != nil {
				m := st.GetPredicate().AsMap()
				tc.change(m)
				p, err := structpb.NewStruct(m)
				require.NoError(t, err)
				st.Predicate = p
			}
			if tc.subject != nil {
				tc.subject(st.GetSubject()[0].Digest)
			}
			_, err = audit.Parse(st)
			var pe *audit.PredicateError
			require.ErrorAs(t, err, &pe)
			require.ErrorIs(t, err, audit.ErrInvalidPredicate)
			require.Equal(t, tc.invalid, errors.Is(err, audit.ErrInvalidEvent), "%v", err)
		})
	}
}

func TestParseRejectsOtherPredicate(t *testing.T) {
	e := validEvent()
	st, err := e.Statement()
	require.NoError(t, err)
	st.PredicateType = "https://slsa.dev/provenance/v1"
	_, err = audit.Parse(st)
	require.ErrorIs(t, err, audit.ErrInvalidPredicate)
}

func TestKindsAreValid(t *testing.T) {
	for _, k := range audit.Kinds() {
		e := validEvent()
		e.Kind = k
		e.Decision = audit.DecisionNone
		switch k {
		case audit.KindVerified:
			e.Decision = audit.DecisionAllow
		case audit.KindDenied:
			e.Decision = audit.DecisionDeny
		}
		require.NoError(t, e.Validate(), k)
	}
}
