package policy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

const examplePolicy = `apiVersion: provkit.dev/policy/v1
kind: Policy
metadata:
  name: example
rules:
  - name: signed
    signers:
      identities: [{keyId: release}]
  - name: builder
    slsa:
      builders: [{id: "https://ci.example/builder", versions: ">=v1.4.0"}]
  - name: from-main
    cel:
      expression: predicate.buildDefinition.externalParameters.ref == "refs/heads/main"
      message: must be built from main
environments:
  dev:  {defaultMode: warn, rules: {signed: enforce}}
  prod: {defaultMode: enforce}
`

// exampleResult signs a SLSA provenance statement with an ephemeral key and verifies it, as a
// deployment would with its real keys and trust root. It is offline: no log, no timestamp.
func exampleResult(subject digest.Digest) (*verify.Result, error) {
	b := &provenance.Build{
		BuildType:          "https://ci.example/buildtypes/v1",
		ExternalParameters: map[string]any{"ref": "refs/heads/feature"},
		BuilderID:          "https://ci.example/builder@refs/tags/v1.3.0",
	}
	st, err := b.Statement([]*intoto.ResourceDescriptor{{Name: "app", Digest: map[string]string{"sha256": subject.Encoded()}}})
	if err != nil {
		return nil, err
	}
	payload, err := provenance.Marshal(st)
	if err != nil {
		return nil, err
	}
	key, err := sgsign.NewEphemeralKeypair(nil)
	if err != nil {
		return nil, err
	}
	pb, err := sgsign.Bundle(&sgsign.DSSEData{Data: payload, PayloadType: provenance.MediaTypeInToto}, key, sgsign.BundleOptions{})
	if err != nil {
		return nil, err
	}
	data, err := protojson.Marshal(pb)
	if err != nil {
		return nil, err
	}
	trusted, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: key.GetPublicKey()})
	if err != nil {
		return nil, err
	}
	v, err := verify.New(trusted, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	if err != nil {
		return nil, err
	}
	return v.Verify(context.Background(), provenance.Bundle{MediaType: pb.GetMediaType(), Data: data}, subject, verify.KeyIDs("release"))
}

// Gate a verified build for two environments: dev warns about what prod enforces.
func Example() {
	p, err := policy.Load(strings.NewReader(examplePolicy))
	if err != nil {
		fmt.Println(err)
		return
	}
	subject := digest.FromString("app image")
	res, err := exampleResult(subject)
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, env := range []string{"dev", "prod"} {
		d, err := p.Gate(env, subject, []*verify.Result{res}, now)
		var denied *policy.DeniedError
		switch {
		case errors.As(err, &denied):
			fmt.Printf("%s: denied\n", env)
		case err != nil:
			fmt.Printf("%s: %v\n", env, err)
			continue
		default:
			fmt.Printf("%s: allowed\n", env)
		}
		for _, r := range d.Rules {
			fmt.Printf("  %-9s %-7s %s\n", r.Name, r.Outcome, r.Reason)
		}
	}
	// Output:
	// dev: allowed
	//   signed    pass    1 of 1 required signers present (key release)
	//   builder   warn    builder "https://ci.example/builder@refs/tags/v1.3.0" not allowed
	//   from-main warn    must be built from main: false for 1 of 1 attestation(s)
	// prod: denied
	//   signed    pass    1 of 1 required signers present (key release)
	//   builder   fail    builder "https://ci.example/builder@refs/tags/v1.3.0" not allowed
	//   from-main fail    must be built from main: false for 1 of 1 attestation(s)
}

// A decision becomes a SLSA verification summary, ready to be signed for later stages.
func ExampleDecision_VSA() {
	p, err := policy.Load(strings.NewReader(examplePolicy))
	if err != nil {
		fmt.Println(err)
		return
	}
	subject := digest.FromString("app image")
	res, err := exampleResult(subject)
	if err != nil {
		fmt.Println(err)
		return
	}
	d, _ := p.Gate("dev", subject, []*verify.Result{res}, time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	st, err := d.VSA(policy.VSAOptions{
		VerifierID:  "https://gate.example",
		ResourceURI: "registry.example/app@" + subject.String(),
		PolicyURI:   "https://policies.example/example.yaml",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.GetPredicateType())
	fmt.Println(st.GetPredicate().GetFields()["verificationResult"].GetStringValue())
	// Output:
	// https://slsa.dev/verification_summary/v1
	// PASSED
}
