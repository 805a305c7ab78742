package lifecycle_test

import (
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance/lifecycle"
)

func ExampleResolve() {
	old, next := digest.FromString("api 1.4.2"), digest.FromString("api 1.5.0")
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	statuses := []lifecycle.Signed{
		{Signer: "release-managers", Status: &lifecycle.Status{Subject: old, State: lifecycle.StateDeprecated,
			Reason: "base image end of life", Successor: next, Effective: day, DecidedBy: "release-managers@example.com"}},
		{Signer: "release-managers", Status: &lifecycle.Status{Subject: old, State: lifecycle.StateRetired,
			Reason: "past its support window", Effective: day.AddDate(0, 1, 0), DecidedBy: "release-managers@example.com"}},
		{Signer: "intern", Status: &lifecycle.Status{Subject: old, State: lifecycle.StateActive,
			Effective: day.AddDate(0, 0, 1), DecidedBy: "intern@example.com"}},
	}
	entitled := func(signer string) bool { return signer == "release-managers" }

	r, err := lifecycle.Resolve(old, statuses, day.AddDate(0, 0, 7), entitled)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.State(), "migrate to", r.Current.Status.Successor == next)
	for _, s := range r.SetAside {
		fmt.Println("set aside:", s.Err)
	}
	// Output:
	// deprecated migrate to true
	// set aside: lifecycle: status not yet in effect: effective 2027-01-01T00:00:00Z
	// set aside: lifecycle: signer not entitled to set the status: intern
}
