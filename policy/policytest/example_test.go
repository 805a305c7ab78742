package policytest_test

import (
	"fmt"
	"strings"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/policy/policytest"
)

const suite = `apiVersion: provkit.dev/policytest/v1
kind: PolicyTest
cases:
  - name: unsigned build is refused in prod
    environment: prod
    attestations:
      - signer: {keyId: ci}
        statement:
          _type: https://in-toto.io/Statement/v1
          subject: [{name: app, digest: {sha256: 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03}}]
          predicateType: https://slsa.dev/provenance/v1
          predicate: {buildDefinition: {buildType: https://ci.example/v1, externalParameters: {ref: main}}, runDetails: {builder: {id: https://ci.example}}}
    expect:
      verdict: deny
      rules: {signed: fail}
`

// Load a suite and check a decision against a case. In a test, Run does both for every case,
// signing and verifying the statements with the caller's Resolver first.
func ExampleCase_Check() {
	s, err := policytest.LoadSuite(strings.NewReader(suite))
	if err != nil {
		fmt.Println(err)
		return
	}
	c := s.Cases[0]
	fmt.Println(c.Name, "-", len(c.Attestations), "attestation signed by", c.Attestations[0].Signer.KeyID)

	// A decision as policy.Gate would make it, here written out by hand.
	d := &policy.Decision{
		Verdict: policy.VerdictAllow,
		Rules:   []policy.RuleResult{{Name: "signed", Outcome: policy.OutcomePass, Reason: "1 of 1 required signers present (key ci)"}},
	}
	fmt.Println(c.Check(d))
	// Output:
	// unsigned build is refused in prod - 1 attestation signed by ci
	// policytest: case "unsigned build is refused in prod": verdict allow, want deny; rule signed: pass (1 of 1 required signers present (key ci)), want fail
}
