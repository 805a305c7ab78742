package index

import (
	"errors"
	"slices"
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

// TestIdentities checks that what names one thing is recorded once, in one form, and that
// two things never share a name: two certificate signers whose issuer and SAN join to the same
// text, a key "a.b" and a key "b" under "a", a subject digest in upper case, and the many ways
// of writing one repository.
func TestIdentities(t *testing.T) {
	artifact, results, dottedID, nestedID := identityResults(t)
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			ix := be.open(t)(t)
			if err := ix.Add(t.Context(), results...); err != nil {
				t.Fatal(err)
			}
			checkIdentities(t, ix, artifact, dottedID, nestedID)
		})
	}
}

// TestUpgradeIdentities indexes the results of TestIdentities at schema version 3, which loses
// one of the two signers and records dotted paths and repository URLs, and upgrades the index:
// repositories and paths are found in their new forms, and adding the results again records
// the lost signer and the exact paths, without recording the surviving signer twice.
func TestUpgradeIdentities(t *testing.T) {
	artifact, results, dottedID, _ := identityResults(t)
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			old, reopen := be.old(t, 3)
			if err := old.Add(t.Context(), results...); err != nil {
				t.Fatal(err)
			}
			if n := countRows(t, old, []string{"signatures"})["signatures"]; n != 2 {
				t.Fatalf("version 3 recorded %d signatures, want 2 (one of the two certificate signers lost)", n)
			}
			old.Close()
			ix := reopen(t)
			if v := schemaVersion(t, ix); v != SchemaVersion {
				t.Fatalf("version %d after upgrade", v)
			}
			got, err := ix.Find(t.Context(), Query{SourceRepository: "https://github.com/example/identity", Parameters: map[string]string{"/a/b": "x"}})
			if err != nil || !slices.Equal(got, []Artifact{{artifact, "upper", dottedID}}) {
				t.Fatalf("after upgrade: Find = %v, %v", got, err)
			}
			sigs, err := ix.Signatures(t.Context(), dottedID)
			if err != nil || len(sigs) != 1 || sigs[0].Signer.Certificate.Issuer != "https://issuer.example a" {
				t.Fatalf("after upgrade: signatures %+v, %v", sigs, err)
			}
			if err := ix.Add(t.Context(), results...); err != nil {
				t.Fatal(err)
			}
			if n := countRows(t, ix, []string{"signatures"})["signatures"]; n != 3 {
				t.Errorf("adding again: %d signatures, want 3", n)
			}
			if sigs, err := ix.Signatures(t.Context(), dottedID); err != nil || len(sigs) != 2 {
				t.Errorf("adding again: signatures %+v, %v", sigs, err)
			}
		})
	}
}

// identityResults are a statement with a key "a.b", signed by two certificate identities
// whose issuer and SAN join to one text, and one with a key "b" under "a", signed by a key;
// both name an artifact in upper-case hex and a source repository in another form.
func identityResults(t *testing.T) (digest.Digest, []*verify.Result, digest.Digest, digest.Digest) {
	t.Helper()
	f := newFixture(t)
	artifact := digest.FromString("identity artifact")
	upper := &intoto.ResourceDescriptor{Name: "upper", Digest: map[string]string{"sha256": strings.ToUpper(artifact.Encoded())}}
	build := func(params map[string]any, source string) *intoto.Statement {
		st, err := (&provenance.Build{
			BuildType: "https://example.com/build/v1", ExternalParameters: params, BuilderID: "https://ci.example/identity",
			ResolvedDependencies: []*intoto.ResourceDescriptor{{Uri: source, Digest: map[string]string{"gitCommit": strings.ToUpper(appCommit)}}},
		}).Statement([]*intoto.ResourceDescriptor{upper})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	dotted := build(map[string]any{"a.b": "x"}, "git+ssh://git@github.com/Example/Identity.git@refs/heads/main")
	nested := build(map[string]any{"a": map[string]any{"b": "x"}}, "https://gitlab.example/group/identity")
	var results []*verify.Result
	for _, id := range []struct{ issuer, san string }{
		{"https://issuer.example a", "b@example.com"},
		{"https://issuer.example", "a b@example.com"},
	} {
		results = append(results, f.ca.signAndVerify(t, dotted, artifact, id.san, certificate.Extensions{Issuer: id.issuer}))
	}
	r, err := f.verifyKey(t, f.aliceKey, nested, artifact)
	if err != nil {
		t.Fatal(err)
	}
	results = append(results, r)
	return artifact, results, statementID(t, dotted), statementID(t, nested)
}

func checkIdentities(t *testing.T, ix *Index, artifact, dottedID, nestedID digest.Digest) {
	t.Helper()
	sigs, err := ix.Signatures(t.Context(), dottedID)
	if err != nil {
		t.Fatal(err)
	}
	var sans []string
	for _, s := range sigs {
		sans = append(sans, s.Signer.Certificate.Issuer+"|"+s.Signer.Certificate.SubjectAlternativeName)
	}
	slices.Sort(sans)
	if want := []string{"https://issuer.example a|b@example.com", "https://issuer.example|a b@example.com"}; !slices.Equal(sans, want) {
		t.Errorf("signatures %v, want %v", sans, want)
	}
	both := []Artifact{{artifact, "upper", dottedID}, {artifact, "upper", nestedID}}
	slices.SortFunc(both, func(x, y Artifact) int { return strings.Compare(string(x.Statement), string(y.Statement)) })
	for _, tc := range []struct {
		name string
		q    Query
		want []Artifact
	}{
		{"key with a dot", Query{Parameters: map[string]string{Pointer("a.b"): "x"}}, []Artifact{{artifact, "upper", dottedID}}},
		{"nested key", Query{Parameters: map[string]string{Pointer("a", "b"): "x"}}, []Artifact{{artifact, "upper", nestedID}}},
		{"subject in lower case", Query{Subject: artifact}, both},
		{"subject in upper case", Query{Subject: digest.Digest("sha256:" + strings.ToUpper(artifact.Encoded()))}, both},
		{"repository by https", Query{SourceRepository: "https://github.com/example/identity"}, []Artifact{{artifact, "upper", dottedID}}},
		{"repository by scp", Query{SourceRepository: "git@github.com:EXAMPLE/identity.git"}, []Artifact{{artifact, "upper", dottedID}}},
		{"other repository", Query{SourceRepository: "gitlab.example/group/identity"}, []Artifact{{artifact, "upper", nestedID}}},
		{"commit in either case", Query{SourceCommit: appCommit, BuilderID: "https://ci.example/identity"}, both},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ix.Find(t.Context(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Find = %v, want %v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name, field string
		q           Query
		cause       error
	}{
		{"md5 subject", "Subject", Query{Subject: "md5:" + digest.Digest(strings.Repeat("a", 32))}, provenance.ErrInvalidDigest},
		{"short material", "Material", Query{Material: "sha256:abc"}, provenance.ErrInvalidDigest},
		{"local repository", "SourceRepository", Query{SourceRepository: "file:///src/app"}, provenance.ErrInvalidRepository},
		{"dotted path", "Parameters", Query{Parameters: map[string]string{"a.b": "x"}}, nil},
		{"bad escape", "Parameters", Query{Parameters: map[string]string{"/a~2": "x"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ix.Find(t.Context(), tc.q)
			var qe *QueryError
			if !errors.Is(err, ErrInvalidQuery) || !errors.As(err, &qe) || qe.Field != tc.field || (tc.cause != nil && !errors.Is(err, tc.cause)) {
				t.Fatalf("Find: %v; want a *QueryError on %s", err, tc.field)
			}
		})
	}
}

func TestPointer(t *testing.T) {
	for _, tc := range []struct {
		path []string
		want string
	}{
		{[]string{"a", "b"}, "/a/b"},
		{[]string{"a.b"}, "/a.b"},
		{[]string{"a/b", "~"}, "/a~1b/~0"},
		{[]string{""}, "/"},
		{[]string{"~1"}, "/~01"},
	} {
		if got := Pointer(tc.path...); got != tc.want {
			t.Errorf("Pointer(%q) = %q, want %q", tc.path, got, tc.want)
		}
		if back, err := parsePointer(tc.want); err != nil || !slices.Equal(back, tc.path) {
			t.Errorf("parsePointer(%q) = %q, %v", tc.want, back, err)
		}
	}
}

// FuzzPointer checks that parsePointer accepts exactly the pointers Pointer writes, and that
// the two are inverses.
func FuzzPointer(f *testing.F) {
	for _, s := range []string{"/a/b", "/a.b", "/a~1b/~0", "/", "", "a", "/~", "/~2", "/~01", "//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		segs, err := parsePointer(p)
		if err != nil {
			return
		}
		if back := Pointer(segs...); back != p {
			t.Fatalf("Pointer(parsePointer(%q)) = %q", p, back)
		}
	})
}
