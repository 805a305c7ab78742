package index

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"maps"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

// backend opens a fresh, empty index and returns a function that opens it again.
type backend struct {
	name string
	open func(t *testing.T) (reopen func(t *testing.T) *Index)
	// old opens a fresh, empty index with the schema of an older version, and returns it with
	// a function that opens it as OpenSQLite or OpenPostgres do.
	old func(t *testing.T, version int) (*Index, func(t *testing.T) *Index)
}

func backends() []backend {
	return []backend{
		{name: "sqlite", open: func(t *testing.T) func(*testing.T) *Index {
			path := filepath.Join(t.TempDir(), "index.db")
			return func(t *testing.T) *Index {
				return mustOpen(t, func(ctx context.Context) (*Index, error) { return OpenSQLite(ctx, path) })
			}
		}, old: func(t *testing.T, version int) (*Index, func(*testing.T) *Index) {
			path := filepath.Join(t.TempDir(), "index.db")
			ix := mustOpen(t, func(ctx context.Context) (*Index, error) {
				db, err := sql.Open("sqlite", "file:"+path)
				if err != nil {
					return nil, err
				}
				return open(ctx, db, dialect{name: "sqlite"}, version)
			})
			return ix, func(t *testing.T) *Index {
				return mustOpen(t, func(ctx context.Context) (*Index, error) { return OpenSQLite(ctx, path) })
			}
		}},
		{name: "postgres", open: func(t *testing.T) func(*testing.T) *Index {
			dsn := postgresSchema(t, testenv.Postgres(t))
			return func(t *testing.T) *Index {
				return mustOpen(t, func(ctx context.Context) (*Index, error) { return OpenPostgres(ctx, dsn) })
			}
		}, old: func(t *testing.T, version int) (*Index, func(*testing.T) *Index) {
			dsn := postgresSchema(t, testenv.Postgres(t))
			ix := mustOpen(t, func(ctx context.Context) (*Index, error) {
				config, err := pgx.ParseConfig(dsn)
				if err != nil {
					return nil, err
				}
				return open(ctx, stdlib.OpenDB(*config), dialect{name: "postgres", numbered: true}, version)
			})
			return ix, func(t *testing.T) *Index {
				return mustOpen(t, func(ctx context.Context) (*Index, error) { return OpenPostgres(ctx, dsn) })
			}
		}},
	}
}

func mustOpen(t *testing.T, open func(context.Context) (*Index, error)) *Index {
	t.Helper()
	ix, err := open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

// postgresSchema creates a schema of its own for one test, dropped when it ends, and returns
// dsn with that schema as its search path.
func postgresSchema(t *testing.T, dsn string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "index_test_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// tables are the tables of the schema, and those of versions 1 and 2.
var (
	tables   = []string{"statements", "subjects", "materials", "parameters", "signatures", "signature_extensions", "schema_version"}
	tablesV2 = []string{"statements", "subjects", "materials", "parameters", "signatures", "schema_version"}
)

// counts returns the number of rows of each table.
func counts(t *testing.T, ix *Index) map[string]int {
	t.Helper()
	return countRows(t, ix, tables)
}

// countRows returns the number of rows of each of the tables.
func countRows(t *testing.T, ix *Index, tables []string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range tables {
		var n int
		if err := ix.db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func sorted(as ...Artifact) []Artifact {
	slices.SortFunc(as, func(x, y Artifact) int {
		return cmp.Or(cmp.Compare(x.Digest, y.Digest), cmp.Compare(x.Name, y.Name), cmp.Compare(x.Statement, y.Statement))
	})
	return as
}

func TestIndex(t *testing.T) {
	f := newFixture(t)
	chain := benchResults(t, 3*batchRows+5)
	if !errors.Is(f.forgedErr, verify.ErrVerification) {
		t.Fatalf("forged step: got %v, want an error wrapping verify.ErrVerification", f.forgedErr)
	}
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			reopen := be.open(t)
			ix := reopen(t)
			if err := ix.Add(t.Context(), f.all()...); err != nil {
				t.Fatal(err)
			}
			t.Run("queries", func(t *testing.T) { testQueries(t, ix, f) })
			t.Run("signatures", func(t *testing.T) { testSignatures(t, ix, f) })
			t.Run("idempotent", func(t *testing.T) { testIdempotent(t, ix, f) })
			t.Run("extensions", func(t *testing.T) { testExtensions(t, ix, f) })
			t.Run("concurrent", func(t *testing.T) {
				before := counts(t, ix)
				var wg sync.WaitGroup
				errs := make([]error, 4)
				for i := range errs {
					wg.Go(func() { errs[i] = ix.Add(t.Context(), f.all()...) })
				}
				wg.Wait()
				if err := errors.Join(errs...); err != nil {
					t.Fatal(err)
				}
				if got := counts(t, ix); !equalCounts(got, before) {
					t.Errorf("after concurrent adds: rows %v, want %v", got, before)
				}
			})
			t.Run("batches", func(t *testing.T) {
				// More rows than one batch holds, in every table.
				const n = 3*batchRows + 5
				before := counts(t, ix)
				if err := ix.Add(t.Context(), chain...); err != nil {
					t.Fatal(err)
				}
				want := copyCounts(before)
				want["statements"] += n
				want["signatures"] += n
				want["subjects"] += n
				want["materials"] += 3 * n // image, previous output, dataset
				got := counts(t, ix)
				if got["parameters"] < before["parameters"]+11*n {
					t.Errorf("%d parameter rows, want at least %d", got["parameters"], before["parameters"]+11*n)
				}
				want["parameters"] = got["parameters"]
				if !equalCounts(got, want) {
					t.Errorf("rows %v, want %v", got, want)
				}
				if err := ix.Add(t.Context(), chain...); err != nil {
					t.Fatal(err)
				}
				if again := counts(t, ix); !equalCounts(again, got) {
					t.Errorf("after adding the chain again: rows %v, want %v", again, got)
				}
				found, err := ix.Find(t.Context(), Query{Parameters: map[string]string{"/parameters/seed": "57", "/parameters/threshold": "0.25"}})
				if err != nil {
					t.Fatal(err)
				}
				if len(found) != 1 || found[0].Name != "output-57" || found[0].Digest != digest.FromString("output-57") {
					t.Errorf("Find(seed 57) = %v, want output-57", found)
				}
				found, err = ix.Find(t.Context(), Query{Material: digest.FromString("dataset")})
				if err != nil {
					t.Fatal(err)
				}
				if len(found) != n || !slices.IsSortedFunc(found, func(x, y Artifact) int { return cmp.Compare(x.Digest, y.Digest) }) {
					t.Errorf("Find(dataset): %d artifacts, sorted %v; want %d, sorted", len(found), slices.IsSortedFunc(found, func(x, y Artifact) int { return cmp.Compare(x.Digest, y.Digest) }), n)
				}
			})
			t.Run("reopen", func(t *testing.T) {
				before := counts(t, ix)
				again := reopen(t)
				if got := counts(t, again); !equalCounts(got, before) {
					t.Errorf("after reopening: rows %v, want %v", got, before)
				}
				got, err := again.Find(t.Context(), Query{SourceCommit: appCommit})
				if err != nil {
					t.Fatal(err)
				}
				if want := []Artifact{{f.app, "registry.example/app", f.ids["build"]}}; !slices.Equal(got, want) {
					t.Errorf("after reopening: Find = %v, want %v", got, want)
				}
			})
			t.Run("not verified", func(t *testing.T) {
				before := counts(t, ix)
				for _, rs := range [][]*verify.Result{{f.results["clean"], nil}, {new(verify.Result)}} {
					err := ix.Add(t.Context(), rs...)
					var re *ResultError
					if !errors.As(err, &re) || !errors.Is(err, ErrNotVerified) || re.Index != len(rs)-1 {
						t.Errorf("Add(unverified): got %v, want a *ResultError at %d wrapping ErrNotVerified", err, len(rs)-1)
					}
				}
				if got := counts(t, ix); !equalCounts(got, before) {
					t.Errorf("after a failed Add: rows %v, want %v", got, before)
				}
			})
		})
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func testQueries(t *testing.T, ix *Index, f *fixture) {
	raw := Artifact{f.raw, "raw.csv", f.ids["ingest"]}
	clean := Artifact{f.clean, "clean.csv", f.ids["clean"]}
	model := Artifact{f.model, "model.json", f.ids["train"]}
	metrics := Artifact{f.metrics, "metrics.json", f.ids["train"]}
	clean512 := Artifact{f.clean512, "clean.csv", f.ids["clean"]}
	app := Artifact{f.app, "registry.example/app", f.ids["build"]}
	scanned := Artifact{f.app, "registry.example/app", f.ids["scan"]}
	now := time.Now()
	tests := []struct {
		name string
		q    Query
		want []Artifact
	}{
		{"everything", Query{}, sorted(raw, clean, clean512, model, metrics, app, scanned)},
		{"source commit", Query{SourceCommit: appCommit}, []Artifact{app}},
		{"source commit unknown", Query{SourceCommit: strings.Repeat("0", 40)}, nil},
		{"source repository", Query{SourceRepository: appRepo}, []Artifact{app}},
		{"builder", Query{BuilderID: science}, sorted(raw, clean, clean512)},
		{"builder gpu", Query{BuilderID: gpu}, sorted(model, metrics)},
		{"dataset", Query{Material: f.survey}, []Artifact{raw}},
		{"dataset downstream", Query{Material: f.clean}, sorted(model, metrics)},
		{"config file", Query{Material: f.config}, sorted(model, metrics)},
		{"base image", Query{Material: f.base}, []Artifact{app}},
		{"forged input never indexed", Query{Material: f.poisoned}, nil},
		{"parameter number", Query{Parameters: map[string]string{"/parameters/seed": "42"}}, sorted(model, metrics)},
		{"parameter nested", Query{Parameters: map[string]string{"/parameters/optimizer/name": "adam", "/parameters/optimizer/rate": "0.5"}}, sorted(model, metrics)},
		{"parameter bool", Query{Parameters: map[string]string{"/parameters/dropIncomplete": "true"}}, sorted(clean, clean512)},
		{"parameter list element", Query{Parameters: map[string]string{"/command/0": "ingest"}}, []Artifact{raw}},
		{"parameter of a build", Query{Parameters: map[string]string{"/workflow/ref": "refs/tags/v1.0.0"}}, []Artifact{app}},
		{"parameter mismatch", Query{Parameters: map[string]string{"/parameters/seed": "43"}}, nil},
		{"predicate type", Query{PredicateType: predicateVulns}, []Artifact{scanned}},
		{"predicate type slsa", Query{PredicateType: provenance.PredicateSLSAProvenanceV1}, sorted(raw, clean, clean512, model, metrics, app)},
		{"signed in the last hour", Query{SignedFrom: now.Add(-time.Hour), SignedBefore: now.Add(time.Hour)}, []Artifact{app}},
		{"signed since", Query{SignedFrom: now.Add(-time.Hour)}, []Artifact{app}},
		{"signed in 2020", Query{SignedFrom: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), SignedBefore: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)}, nil},
		{"combined", Query{BuilderID: science, Parameters: map[string]string{"/name": "clean"}}, sorted(clean, clean512)},
		{"combined disjoint", Query{BuilderID: gpu, SourceCommit: appCommit}, nil},
		{"subject in two statements", Query{Subject: f.app}, sorted(app, scanned)},
		{"subject of a step", Query{Subject: f.model}, []Artifact{model}},
		{"subject by sha256", Query{Subject: f.clean}, []Artifact{clean}},
		{"subject by sha512", Query{Subject: f.clean512}, []Artifact{clean512}},
		{"subject that is only a material", Query{Subject: f.survey}, nil},
		{"subject unknown", Query{Subject: digest.FromString("not indexed")}, nil},
		{"subject and predicate type", Query{Subject: f.app, PredicateType: predicateVulns}, []Artifact{scanned}},
		{"signer key", Query{Signer: "alice"}, sorted(raw, clean, clean512, scanned)},
		{"signer other key", Query{Signer: "bob"}, sorted(model, metrics)},
		{"signer certificate", Query{Signer: appSAN}, []Artifact{app}},
		{"signer issuer is not a signer", Query{Signer: appIssuer}, nil},
		{"signer label is not a signer", Query{Signer: "key:alice"}, nil},
		{"signer forged key never indexed", Query{Signer: "mallory"}, nil},
		{"signer and subject", Query{Signer: "alice", Subject: f.app}, []Artifact{scanned}},
		{"signer and material", Query{Signer: "bob", Material: f.clean}, sorted(model, metrics)},
		{"signer and material disjoint", Query{Signer: "alice", Material: f.clean}, nil},
		{"signer signed since", Query{Signer: appSAN, SignedFrom: now.Add(-time.Hour)}, []Artifact{app}},
		{"signer untimed, signed since", Query{Signer: "alice", SignedFrom: now.Add(-time.Hour)}, nil},
		{"signer and subject, signed since", Query{Signer: appSAN, Subject: f.app, SignedFrom: now.Add(-time.Hour)}, []Artifact{app}},
		{"signer untimed and subject, signed since", Query{Signer: "alice", Subject: f.app, SignedFrom: now.Add(-time.Hour)}, nil},
		{"signer and parameter", Query{Signer: "alice", Parameters: map[string]string{"/command/0": "ingest"}}, []Artifact{raw}},
		{"extensions repository and ref", Query{SignerExtensions: map[string]string{"sourceRepositoryURI": appRepo, "sourceRepositoryRef": appRef}}, []Artifact{app}},
		{"extension other ref", Query{SignerExtensions: map[string]string{"sourceRepositoryURI": appRepo, "sourceRepositoryRef": "refs/heads/main"}}, nil},
		{"extension workflow", Query{SignerExtensions: map[string]string{"buildSignerURI": appSAN}}, []Artifact{app}},
		{"extension of the first OIDs", Query{SignerExtensions: map[string]string{"githubWorkflowRepository": "example/app"}}, []Artifact{app}},
		{"extension issuer", Query{SignerExtensions: map[string]string{"issuer": appIssuer}}, []Artifact{app}},
		{"extension value differs in case", Query{SignerExtensions: map[string]string{"sourceRepositoryURI": strings.ToUpper(appRepo)}}, nil},
		{"extension name unknown", Query{SignerExtensions: map[string]string{"sourceRepositoryURL": appRepo}}, nil},
		{"extension empty value", Query{SignerExtensions: map[string]string{"buildTrigger": ""}}, nil},
		{"extension and subject", Query{Subject: f.app, SignerExtensions: map[string]string{"sourceRepositoryRef": appRef}}, []Artifact{app}},
		{"extension and subject disjoint", Query{Subject: f.model, SignerExtensions: map[string]string{"sourceRepositoryRef": appRef}}, nil},
		{"extension and signer", Query{Signer: appSAN, SignerExtensions: map[string]string{"sourceRepositoryRef": appRef}}, []Artifact{app}},
		{"extension and key signer", Query{Signer: "alice", SignerExtensions: map[string]string{"sourceRepositoryURI": appRepo}}, nil},
		{"extension and key signer, subject", Query{Signer: "alice", Subject: f.app, SignerExtensions: map[string]string{"sourceRepositoryURI": appRepo}}, nil},
		{"extension signed since", Query{SignedFrom: now.Add(-time.Hour), SignerExtensions: map[string]string{"sourceRepositoryRef": appRef}}, []Artifact{app}},
		{"extension signed in 2020", Query{SignedBefore: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), SignerExtensions: map[string]string{"sourceRepositoryRef": appRef}}, nil},
		{"extension, subject, signed in 2020", Query{Subject: f.app, SignedBefore: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), SignerExtensions: map[string]string{"sourceRepositoryRef": appRef}}, nil},
		{"extension and predicate type", Query{PredicateType: predicateVulns, SignerExtensions: map[string]string{"sourceRepositoryURI": appRepo}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ix.Find(t.Context(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Find(%+v):\n got %v\nwant %v", tt.q, got, tt.want)
			}
		})
	}
}

func testSignatures(t *testing.T, ix *Index, f *fixture) {
	for _, step := range []string{"ingest", "clean", "scan"} {
		got, err := ix.Signatures(t.Context(), f.ids[step])
		if err != nil {
			t.Fatal(err)
		}
		if want := []Signature{{Signer: verify.Signer{KeyID: "alice"}}}; !slices.EqualFunc(got, want, equalSignature) {
			t.Errorf("Signatures(%s) = %+v, want %+v", step, got, want)
		}
	}
	got, err := ix.Signatures(t.Context(), f.ids["build"])
	if err != nil {
		t.Fatal(err)
	}
	at, ok := f.results["build"].SignedAt()
	if !ok {
		t.Fatal("the keyless build has no verified signing time")
	}
	want := []Signature{{
		Signer:     verify.Signer{Certificate: &verify.CertificateIdentity{Issuer: appIssuer, SubjectAlternativeName: appSAN, Extensions: releaseExtensions()}},
		SignedAt:   at,
		Extensions: extensionMap(releaseExtensions()),
	}}
	if !slices.EqualFunc(got, want, equalSignature) {
		t.Errorf("Signatures(build) = %+v, want %+v", got, want)
	}
	if got, err := ix.Signatures(t.Context(), digest.FromString("not indexed")); err != nil || len(got) != 0 {
		t.Errorf("Signatures(unknown) = %v, %v; want none, nil", got, err)
	}
}

// extensionMap is e by JSON name, as the index records it, written out here on its own.
func extensionMap(e certificate.Extensions) map[string]string {
	out := map[string]string{}
	for name, v := range map[string]string{
		"issuer": e.Issuer, "buildSignerURI": e.BuildSignerURI, "sourceRepositoryURI": e.SourceRepositoryURI,
		"sourceRepositoryRef": e.SourceRepositoryRef, "sourceRepositoryDigest": e.SourceRepositoryDigest,
		"runInvocationURI": e.RunInvocationURI, "githubWorkflowRepository": e.GithubWorkflowRepository,
	} {
		if v != "" {
			out[name] = v
		}
	}
	return out
}

func equalSignature(a, b Signature) bool {
	if a.Signer.KeyID != b.Signer.KeyID || !a.SignedAt.Equal(b.SignedAt) || (a.Signer.Certificate == nil) != (b.Signer.Certificate == nil) {
		return false
	}
	if (a.Extensions == nil) != (b.Extensions == nil) || !maps.Equal(a.Extensions, b.Extensions) {
		return false
	}
	return a.Signer.Certificate == nil || (a.Signer.Certificate.Issuer == b.Signer.Certificate.Issuer &&
		a.Signer.Certificate.SubjectAlternativeName == b.Signer.Certificate.SubjectAlternativeName &&
		a.Signer.Certificate.Extensions == b.Signer.Certificate.Extensions)
}

func testIdempotent(t *testing.T, ix *Index, f *fixture) {
	before := counts(t, ix)
	if before["statements"] != 5 || before["signatures"] != 5 || before["schema_version"] != 1 || before["signature_extensions"] != len(extensionMap(releaseExtensions())) {
		t.Fatalf("rows %v: want 5 statements, 5 signatures, the extensions of one, 1 schema version", before)
	}
	// The same results again, one by one and all at once, in another order.
	for _, r := range slices.Backward(f.all()) {
		if err := ix.Add(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Add(t.Context(), f.all()...); err != nil {
		t.Fatal(err)
	}
	if got := counts(t, ix); !equalCounts(got, before) {
		t.Fatalf("after adding the same results again: rows %v, want %v", got, before)
	}

	// The ingest statement verified once more, signed by bob: one signature more, nothing else.
	again, err := f.verifyKey(t, f.bobKey, f.results["ingest"].Statement(), f.raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(t.Context(), again, again); err != nil {
		t.Fatal(err)
	}
	want := copyCounts(before)
	want["signatures"]++
	if got := counts(t, ix); !equalCounts(got, want) {
		t.Errorf("after adding a second signature: rows %v, want %v", got, want)
	}
	sigs, err := ix.Signatures(t.Context(), f.ids["ingest"])
	if err != nil {
		t.Fatal(err)
	}
	if w := []Signature{{Signer: verify.Signer{KeyID: "alice"}}, {Signer: verify.Signer{KeyID: "bob"}}}; !slices.EqualFunc(sigs, w, equalSignature) {
		t.Errorf("Signatures(ingest) = %+v, want %+v", sigs, w)
	}
}

// testExtensions signs the container build again, keylessly, by another workflow of the same
// repository from another ref: each condition on extensions must hold on one signature.
func testExtensions(t *testing.T, ix *Index, f *fixture) {
	before := counts(t, ix)
	promote := f.ca.signAndVerify(t, f.results["build"].Statement(), f.app, promoteSAN, promoteExtensions())
	if err := ix.Add(t.Context(), promote, promote); err != nil {
		t.Fatal(err)
	}
	want := copyCounts(before)
	want["signatures"]++
	want["signature_extensions"] += len(extensionMap(promoteExtensions()))
	if got := counts(t, ix); !equalCounts(got, want) {
		t.Errorf("after adding a second keyless signature: rows %v, want %v", got, want)
	}
	app := Artifact{f.app, "registry.example/app", f.ids["build"]}
	now := time.Now()
	release := map[string]string{"sourceRepositoryRef": appRef}
	main := map[string]string{"sourceRepositoryRef": "refs/heads/main"}
	tests := []struct {
		name string
		q    Query
		want []Artifact
	}{
		{"either ref", Query{SignerExtensions: main}, []Artifact{app}},
		{"repository of both signatures, once", Query{SignerExtensions: map[string]string{"sourceRepositoryURI": appRepo}}, []Artifact{app}},
		{"values of two signatures", Query{SignerExtensions: map[string]string{"sourceRepositoryRef": "refs/heads/main", "buildSignerURI": appSAN}}, nil},
		{"values of two signatures, subject", Query{Subject: f.app, SignerExtensions: map[string]string{"sourceRepositoryRef": "refs/heads/main", "buildSignerURI": appSAN}}, nil},
		{"values of one signature", Query{SignerExtensions: map[string]string{"sourceRepositoryRef": "refs/heads/main", "buildSignerURI": promoteSAN}}, []Artifact{app}},
		{"signer of the other signature", Query{Signer: appSAN, SignerExtensions: main}, nil},
		{"signer of the other signature, subject", Query{Signer: appSAN, Subject: f.app, SignerExtensions: main}, nil},
		{"signer of the signature", Query{Signer: promoteSAN, SignerExtensions: main}, []Artifact{app}},
		{"signer of the signature, subject", Query{Signer: promoteSAN, Subject: f.app, SignerExtensions: main}, []Artifact{app}},
		{"signer, release ref, signed since", Query{Signer: appSAN, SignedFrom: now.Add(-time.Hour), SignerExtensions: release}, []Artifact{app}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ix.Find(t.Context(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Find(%+v):\n got %v\nwant %v", tt.q, got, tt.want)
			}
		})
	}
	got, err := ix.Signatures(t.Context(), f.ids["build"])
	if err != nil {
		t.Fatal(err)
	}
	var exts []map[string]string
	for _, s := range got {
		exts = append(exts, s.Extensions)
		if s.Signer.Certificate == nil || !maps.Equal(extensionMap(s.Signer.Certificate.Extensions), s.Extensions) {
			t.Errorf("signature %+v: Certificate.Extensions differ from Extensions", s)
		}
	}
	if len(got) != 2 || !slices.ContainsFunc(exts, func(m map[string]string) bool { return maps.Equal(m, extensionMap(releaseExtensions())) }) ||
		!slices.ContainsFunc(exts, func(m map[string]string) bool { return maps.Equal(m, extensionMap(promoteExtensions())) }) {
		t.Errorf("Signatures(build) = %+v, want the release and promote signatures with their extensions", got)
	}

	// More extension rows than one batch holds: signatures of the build from many branches,
	// in one Add.
	branches := batchRows/len(extensionMap(promoteExtensions())) + 2
	var results []*verify.Result
	for i := range branches {
		ext := promoteExtensions()
		ext.SourceRepositoryRef = "refs/heads/release-" + strconv.Itoa(i)
		ext.BuildSignerURI = appRepo + "/.github/workflows/promote.yml@" + ext.SourceRepositoryRef
		results = append(results, f.ca.signAndVerify(t, f.results["build"].Statement(), f.app, ext.BuildSignerURI, ext))
	}
	before = counts(t, ix)
	if err := ix.Add(t.Context(), results...); err != nil {
		t.Fatal(err)
	}
	want = copyCounts(before)
	want["signatures"] += branches
	want["signature_extensions"] += branches * len(extensionMap(promoteExtensions()))
	if got := counts(t, ix); !equalCounts(got, want) || want["signature_extensions"]-before["signature_extensions"] <= batchRows {
		t.Errorf("after adding %d signatures: rows %v, want %v, more than %d extension rows", branches, got, want, batchRows)
	}
	for _, i := range []int{0, branches - 1} {
		ref := "refs/heads/release-" + strconv.Itoa(i)
		q := Query{Signer: appRepo + "/.github/workflows/promote.yml@" + ref, SignerExtensions: map[string]string{"sourceRepositoryRef": ref}}
		if got, err := ix.Find(t.Context(), q); err != nil || !slices.Equal(got, []Artifact{app}) {
			t.Errorf("Find(%+v) = %v, %v; want %v", q, got, err, []Artifact{app})
		}
	}
}

func copyCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name, backend string
		open          func() (*Index, error)
	}{
		{"sqlite missing directory", "sqlite", func() (*Index, error) {
			return OpenSQLite(ctx, filepath.Join(t.TempDir(), "no", "such", "dir", "index.db"))
		}},
		{"sqlite empty path", "sqlite", func() (*Index, error) { return OpenSQLite(ctx, "") }},
		{"postgres malformed dsn", "postgres", func() (*Index, error) { return OpenPostgres(ctx, "postgres://%zz@host/db") }},
		{"postgres unknown setting", "postgres", func() (*Index, error) { return OpenPostgres(ctx, "host=127.0.0.1 sslmode=sometimes") }},
		{"postgres nobody listening", "postgres", func() (*Index, error) {
			return OpenPostgres(ctx, "postgres://provkit@127.0.0.1:1/provkit?sslmode=disable&connect_timeout=5")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := tt.open()
			if err == nil {
				ix.Close()
				t.Fatal("opened")
			}
			var oe *OpenError
			if !errors.As(err, &oe) || !errors.Is(err, ErrOpen) || oe.Backend != tt.backend {
				t.Fatalf("got %v, want an *OpenError for %s wrapping ErrOpen", err, tt.backend)
			}
		})
	}
}

func TestSchemaVersion(t *testing.T) {
	if len(migrations) != SchemaVersion {
		t.Fatalf("%d migrations, SchemaVersion %d", len(migrations), SchemaVersion)
	}
	path := filepath.Join(t.TempDir(), "index.db")
	ix, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.db.ExecContext(t.Context(), "UPDATE schema_version SET version = ?", SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	_, err = OpenSQLite(t.Context(), path)
	var se *SchemaError
	if !errors.As(err, &se) || !errors.Is(err, ErrSchemaVersion) || se.Found != SchemaVersion+1 || se.Supported != SchemaVersion {
		t.Fatalf("opening a newer schema: got %v, want a *SchemaError wrapping ErrSchemaVersion", err)
	}
}

func TestBind(t *testing.T) {
	q := "SELECT a FROM t WHERE b = ? AND c = ?"
	if got := (dialect{}).bind(q); got != q {
		t.Errorf("sqlite bind = %q", got)
	}
	if got, want := (dialect{numbered: true}).bind(q), "SELECT a FROM t WHERE b = $1 AND c = $2"; got != want {
		t.Errorf("postgres bind = %q, want %q", got, want)
	}
}

// TestFactsFastPath checks that reading SLSA facts straight from the statement gives what
// decoding the predicate in full gives.
func TestFactsFastPath(t *testing.T) {
	f := newFixture(t)
	for name, r := range f.results {
		fast, err := readFacts(r.Statement(), false)
		if err != nil {
			t.Fatal(err)
		}
		full, err := readFacts(r.Statement(), true)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, full) {
			t.Errorf("%s: read straight %+v, decoded %+v", name, fast, full)
		}
		if _, _, ok := slsaOf(&facts{}, r.Statement().GetPredicate()); !ok && name != "scan" {
			t.Errorf("%s: the predicate is not read straight from the statement", name)
		}
		if name != "scan" && (len(fast.params) == 0 || len(fast.materials) == 0 || fast.builderID == "") {
			t.Errorf("%s: facts %+v lack parameters, materials or builder", name, fast)
		}
	}
}

// TestOpenPostgresConcurrently opens one new database from several connections at once: the
// schema is created once, and every open succeeds.
func TestOpenPostgresConcurrently(t *testing.T) {
	dsn := postgresSchema(t, testenv.Postgres(t))
	var wg sync.WaitGroup
	ixs := make([]*Index, 4)
	errs := make([]error, len(ixs))
	for i := range ixs {
		wg.Go(func() { ixs[i], errs[i] = OpenPostgres(t.Context(), dsn) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, ix := range ixs {
		if got := counts(t, ix)["schema_version"]; got != 1 {
			t.Errorf("%d schema_version rows, want 1", got)
		}
		ix.Close()
	}
}

// schemaVersion returns the version recorded in the index.
func schemaVersion(t *testing.T, ix *Index) int {
	t.Helper()
	var v int
	if err := ix.db.QueryRowContext(t.Context(), "SELECT MAX(version) FROM schema_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// hasIndex reports whether the database holds the named index.
func hasIndex(t *testing.T, ix *Index, name string) bool {
	t.Helper()
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?`
	if ix.dialect.numbered {
		q = `SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ?`
	}
	var n int
	if err := ix.db.QueryRowContext(t.Context(), ix.dialect.bind(q), name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// TestUpgrade fills indexes of schema versions 1 and 2 and opens them with this version: the
// schema is migrated, every row kept, and the queries of later versions answer. Extensions,
// which older versions did not record, are recorded when the results are added again.
func TestUpgrade(t *testing.T) {
	f := newFixture(t)
	// The indexes each version adds.
	added := map[int][]string{
		2: {"subjects_digest", "signatures_key_id", "signatures_san"},
		3: {"signature_extensions_name_value"},
		5: {"audit_events_subject", "audit_events_actor"},
		6: {"tags_digest", "scans_problem", "findings_vulnerability", "findings_severity"},
		7: {"statement_records_at", "materials_statement", "parameters_statement"},
	}
	byExtension := Query{SignerExtensions: map[string]string{"sourceRepositoryURI": appRepo, "sourceRepositoryRef": appRef}}
	app := []Artifact{{f.app, "registry.example/app", f.ids["build"]}}
	for _, be := range backends() {
		for _, from := range []int{1, 2} {
			t.Run(be.name+"/from "+strconv.Itoa(from), func(t *testing.T) {
				old, reopen := be.old(t, from)
				if err := old.Add(t.Context(), f.all()...); err != nil {
					t.Fatal(err)
				}
				if v := schemaVersion(t, old); v != from {
					t.Fatalf("old index at version %d", v)
				}
				var later []string
				for v := from + 1; v <= SchemaVersion; v++ {
					later = append(later, added[v]...)
				}
				for _, name := range later {
					if hasIndex(t, old, name) {
						t.Fatalf("version %d has index %s", from, name)
					}
				}
				before := countRows(t, old, tablesV2)
				if err := old.Close(); err != nil {
					t.Fatal(err)
				}

				ix := reopen(t)
				if v := schemaVersion(t, ix); v != SchemaVersion || SchemaVersion != 7 {
					t.Errorf("after upgrade: version %d, want %d", v, SchemaVersion)
				}
				for _, name := range later {
					if !hasIndex(t, ix, name) {
						t.Errorf("after upgrade: no index %s", name)
					}
				}
				want := copyCounts(before)
				want["signature_extensions"] = 0
				if got := counts(t, ix); !equalCounts(got, want) {
					t.Errorf("after upgrade: rows %v, want %v", got, want)
				}
				got, err := ix.Find(t.Context(), Query{Subject: f.app, Signer: appSAN})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, app) {
					t.Errorf("after upgrade: Find = %v, want %v", got, app)
				}
				if got, err := ix.Find(t.Context(), byExtension); err != nil || got != nil {
					t.Errorf("after upgrade, before adding again: Find(extensions) = %v, %v; want none", got, err)
				}
				if err := ix.Add(t.Context(), f.all()...); err != nil {
					t.Fatal(err)
				}
				want["signature_extensions"] = len(extensionMap(releaseExtensions()))
				if got := counts(t, ix); !equalCounts(got, want) {
					t.Errorf("adding again after upgrade: rows %v, want %v", got, want)
				}
				if got, err := ix.Find(t.Context(), byExtension); err != nil || !slices.Equal(got, app) {
					t.Errorf("adding again after upgrade: Find(extensions) = %v, %v; want %v", got, err, app)
				}
				// Opening the upgraded index again changes nothing.
				if v := schemaVersion(t, reopen(t)); v != SchemaVersion {
					t.Errorf("reopened at version %d", v)
				}
			})
		}
	}
}

// TestConcurrentAddsInOppositeOrders adds the same new statements from several goroutines, half
// of them in reverse order: every Add succeeds and each statement is stored once.
func TestConcurrentAddsInOppositeOrders(t *testing.T) {
	chain := benchResults(t, 300)
	reversed := slices.Clone(chain)
	slices.Reverse(reversed)
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			for round := range 3 {
				ix := be.open(t)(t)
				var wg sync.WaitGroup
				errs := make([]error, 6)
				for i := range errs {
					results := chain
					if i%2 == 1 {
						results = reversed
					}
					wg.Go(func() { errs[i] = ix.Add(t.Context(), results...) })
				}
				wg.Wait()
				if err := errors.Join(errs...); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if got := counts(t, ix); got["statements"] != len(chain) || got["signatures"] != len(chain) {
					t.Fatalf("round %d: rows %v, want %d statements and signatures", round, got, len(chain))
				}
			}
		})
	}
}
