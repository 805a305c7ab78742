package index

import (
	"reflect"
	"testing"

	"github.com/provkit/provkit/provenance"
)

// FuzzFacts reads the facts of statements parsed from arbitrary bytes: it must never panic,
// must read every statement whose SLSA predicate decodes, and must read the same facts
// straight from the statement as by decoding the predicate in full.
func FuzzFacts(f *testing.F) {
	fx := newFixture(f)
	for _, r := range fx.all() {
		b, err := provenance.Marshal(r.Statement())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	const head = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` +
		"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae" + `"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":`
	for _, p := range []string{
		`{"buildDefinition":{"buildType":"t","externalParameters":{"a":[1,true,null,{"b":"c"}]},"resolvedDependencies":[{"uri":"git+https://x/y@main","digest":{"gitCommit":"abc","sha256":"bad"}}]},"runDetails":{"builder":{"id":"b"}}}`,
		`{"build_definition":{"build_type":"t","external_parameters":{"a.b":1,"a":{"b":1}}},"run_details":{"builder":{"id":"b"}}}`,
		`{"buildDefinition":{"buildType":"t","build_type":"u"}}`,
		`{"buildDefinition":{"resolvedDependencies":[{"digest":{"sha256":1}}]}}`,
		`{"buildDefinition":{"resolvedDependencies":null},"runDetails":null}`,
		`{"buildDefinition":{"resolvedDependencies":[{"annotations":{"dev.provkit.role":"source"},"uri":"https://x","digest":{"sha1":"ab"}}]}}`,
		`{"buildDefinition":{"buildType":"t","externalParameters":{},"internalParameters":[]},"runDetails":{"builder":{"id":"b"}}}`,
		`{"buildDefinition":{"buildType":"t","externalParameters":{}},"runDetails":{"builder":{"id":"b","version":{"go":"1.26"}},"metadata":{"invocationId":"1","startedOn":"2026-03-01T09:00:00Z","finishedOn":"2026-03-01T09:01:00.5+01:00"}}}`,
		`{"buildDefinition":{"buildType":"t","externalParameters":{}},"runDetails":{"builder":{"id":"b","version":{"go":1}},"metadata":{"finishedOn":"2026-13-01T00:00:00Z"}}}`,
		`{"buildDefinition":{"buildType":"t","externalParameters":{}},"runDetails":{"builder":{"id":"b","builderDependencies":[{"name":"n","content":"aGk="}]},"byproducts":[{"name":"log","mediaType":"text/plain","content":"!"}]}}`,
		`[]`,
		`"x"`,
	} {
		f.Add([]byte(head + p + `}`))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := provenance.ParseStatement(data)
		if err != nil {
			return
		}
		fast, err := readFacts(st, false)
		if st.GetPredicateType() != provenance.PredicateSLSAProvenanceV1 {
			if err != nil {
				t.Fatalf("statement of predicate type %q: %v", st.GetPredicateType(), err)
			}
			return
		}
		_, decodeErr := provenance.SLSAProvenance(st)
		if decodeErr != nil {
			if err == nil {
				t.Fatalf("read facts %+v of a predicate that does not decode: %v", fast, decodeErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("valid SLSA provenance: %v", err)
		}
		full, err := readFacts(st, true)
		if err != nil {
			t.Fatalf("valid SLSA provenance, decoded in full: %v", err)
		}
		if !reflect.DeepEqual(fast, full) {
			t.Fatalf("read straight %+v, decoded %+v", fast, full)
		}
		for _, s := range fast.subjects {
			if s.digest.Validate() != nil {
				t.Fatalf("invalid subject digest %q indexed", s.digest)
			}
		}
	})
}
