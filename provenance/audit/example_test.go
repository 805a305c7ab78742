package audit_test

import (
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance/audit"
)

func ExampleEvent_Statement() {
	e := audit.Event{
		Kind:        audit.KindPromoted,
		Subject:     digest.FromString("an image manifest"),
		Actor:       "release-managers@example.com",
		Time:        time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC),
		Decision:    audit.DecisionAllow,
		Reasons:     []string{"policy prod: all rules passed"},
		Environment: "prod",
	}
	st, err := e.Statement()
	if err != nil {
		fmt.Println(err)
		return
	}
	back, _ := audit.Parse(st)
	fmt.Println(st.GetPredicateType())
	fmt.Println(back.Kind, back.Environment, back.Decision, back.Actor)

	e.Kind = audit.KindDenied
	_, err = e.Statement()
	fmt.Println(err)
	// Output:
	// https://provkit.dev/audit/event/v1
	// promoted prod allow release-managers@example.com
	// audit: event decision: a denied event decides deny, not "allow"
}
