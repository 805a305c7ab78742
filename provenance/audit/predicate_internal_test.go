package audit

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestPredicateIsTheWireJSON: the predicate built directly is the object the wire form's JSON
// encoding is, for a full event and for one with every optional field empty.
func TestPredicateIsTheWireJSON(t *testing.T) {
	full := Event{Kind: KindDenied, Subject: digest.FromString("image"), Evidence: []digest.Digest{digest.FromString("a"), digest.FromString("b")},
		Actor: "gate@example.com", Time: time.Date(2026, 12, 7, 10, 30, 0, 5, time.UTC), Decision: DecisionDeny,
		Reasons: []string{"one", "two \"quoted\" <b>"}, Environment: "prod", Attributes: map[string]string{"ticket": "CHG-1", "policy": "prod"}}
	minimal := Event{Kind: KindRetired, Subject: digest.FromString("image"), Actor: "ops@example.com", Time: time.Unix(0, 0).UTC()}
	for _, e := range []Event{full, minimal} {
		want, err := json.Marshal(e.wire())
		require.NoError(t, err)
		got, err := protojson.Marshal(e.wire().predicate())
		require.NoError(t, err)
		require.JSONEq(t, string(want), string(got))
	}
}
