// Package policytest lets users test their own provkit policies the way provkit tests its
// rules: a suite of cases, each a set of statements with who signed them and the decision
// expected — the verdict, and the outcome of any rule named — written in YAML or JSON:
//
//	apiVersion: provkit.dev/policytest/v1
//	kind: PolicyTest
//	cases:
//	  - name: release build may go to prod
//	    environment: prod
//	    attestations:
//	      - signer: {keyId: release}
//	        statement:
//	          _type: https://in-toto.io/Statement/v1
//	          subject: [{name: app, digest: {sha256: "..."}}]
//	          predicateType: https://slsa.dev/provenance/v1
//	          predicate: {...}
//	    expect:
//	      verdict: allow
//	      rules: {signed: pass, fresh: pass}
//
// Policies only ever see verified results, so the statements must be signed and verified
// before a case runs: Run takes a Resolver, the caller's code that signs a fixture's statement
// as its signer (with provkit's sign package and a test key or a test CA) and verifies it with
// package verify. Case.Check compares one decision without the testing package.
package policytest
