package policy_test

import (
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance/lifecycle"
)

func status(state lifecycle.State, age time.Duration, successor digest.Digest) func(t *testing.T) *intoto.Statement {
	return func(t *testing.T) *intoto.Statement {
		t.Helper()
		s := lifecycle.Status{Subject: artifact, State: state, Reason: "reviewed", Successor: successor,
			Effective: time.Now().UTC().Add(-age), DecidedBy: "release-managers@example.com"}
		if state == lifecycle.StateActive {
			s.Reason = ""
		}
		st, err := s.Statement()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
}

func TestLifecycleRule(t *testing.T) {
	day := 24 * time.Hour
	next := digest.FromString("successor")
	runRuleCases(t, []ruleCase{
		{name: "no status is active", rule: "    lifecycle: {deny: [retired, revoked]}",
			results: keyed([]string{"alice"}, slsaBuild(nil)), want: policy.OutcomePass, reason: "active: no lifecycle status"},
		{name: "retired denied", rule: "    lifecycle: {deny: [retired, revoked]}",
			results: keyed([]string{"alice"}, status(lifecycle.StateDeprecated, 3*day, next), status(lifecycle.StateRetired, day, next)),
			want:    policy.OutcomeFail, reason: "retired since", field: "predicate.state", value: "retired"},
		{name: "deprecated explained with its successor", rule: "    lifecycle: {deny: [deprecated]}",
			results: keyed([]string{"alice"}, status(lifecycle.StateDeprecated, day, next)),
			want:    policy.OutcomeFail, reason: "migrate to " + next.String()},
		{name: "deprecated passes a rule on retirement", rule: "    lifecycle: {deny: [retired, revoked]}",
			results: keyed([]string{"alice"}, status(lifecycle.StateDeprecated, day, next)),
			want:    policy.OutcomePass, reason: "deprecated since"},
		{name: "reactivated", rule: "    lifecycle: {deny: [deprecated]}",
			results: keyed([]string{"alice"}, status(lifecycle.StateDeprecated, 3*day, next), status(lifecycle.StateActive, day, "")),
			want:    policy.OutcomePass, reason: "active since"},
		{name: "future status not yet counted", rule: "    lifecycle: {deny: [revoked]}",
			results: keyed([]string{"alice"}, status(lifecycle.StateRevoked, -day, "")),
			want:    policy.OutcomePass, reason: "active"},
	})
}

func TestLifecycleRuleLoad(t *testing.T) {
	for _, body := range []string{"    lifecycle: {}", "    lifecycle: {deny: [sunset]}"} {
		if _, err := policy.Load(strings.NewReader(oneRule(body))); err == nil {
			t.Errorf("%s loaded", body)
		}
	}
}
