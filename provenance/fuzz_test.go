package provenance_test

import (
	"errors"
	intoto "github.com/in-toto/attestation/go/v1"
	"testing"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"

	"github.com/provkit/provkit/provenance"
)

// FuzzParseStatement feeds arbitrary bytes to the statement parser: it must never panic, must
// fail only with provkit's sentinels, and whatever it accepts must survive a canonical
// round trip and decode its predicate without panicking.
func FuzzParseStatement(f *testing.F) {
	st, err := validBuild().Statement([]*intoto.ResourceDescriptor{subject("app")})
	if err != nil {
		f.Fatal(err)
	}
	good, err := provenance.Marshal(st)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"a","digest":{"sha256":"` + hexA + `"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":7}}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha512":"00"}}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"predicate":{"a":[[[[[[[[[[[]]]]]]]]]]]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := provenance.ParseStatement(data)
		if err != nil {
			for _, known := range []error{provenance.ErrInvalidStatement, provenance.ErrNoSubjects, provenance.ErrInvalidDigest,
				provenance.ErrMissingField, provenance.ErrTooLarge} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("unexpected error kind: %v", err)
		}
		out, err := provenance.Marshal(st)
		if err != nil {
			t.Fatalf("accepted statement does not marshal: %v", err)
		}
		again, err := provenance.ParseStatement(out)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v", err)
		}
		out2, err := provenance.Marshal(again)
		if err != nil || string(out) != string(out2) {
			t.Fatalf("canonical form is not a fixed point: %v\n%s\n%s", err, out, out2)
		}
		var p slsa.Provenance
		_ = provenance.DecodePredicate(st, &p)
	})
}
