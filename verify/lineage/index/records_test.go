package index

import (
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
)

// TestRecords checks what the dashboard reads: statements as verified, records newest first,
// the artifact listing by page, and lineage walked up and down from one digest.
func TestRecords(t *testing.T) {
	f := newFixture(t)
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			ix := be.open(t)(t)
			if err := ix.Add(t.Context(), f.all()...); err != nil {
				t.Fatal(err)
			}
			st, ok, err := ix.Statement(t.Context(), f.ids["train"])
			if err != nil || !ok {
				t.Fatalf("Statement(train) = %v, %v", ok, err)
			}
			if got := statementID(t, st); got != f.ids["train"] {
				t.Errorf("Statement(train) has id %s, want %s", got, f.ids["train"])
			}
			if _, ok, err := ix.Statement(t.Context(), digest.FromString("nothing")); ok || err != nil {
				t.Errorf("Statement(unknown) = %v, %v; want false, nil", ok, err)
			}

			recs, err := ix.Records(t.Context(), f.ids["train"], f.ids["ingest"], digest.FromString("nothing"))
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 2 || recs[0].ID != f.ids["train"] || recs[1].ID != f.ids["ingest"] {
				t.Fatalf("Records = %+v, want train then ingest", recs)
			}
			train := recs[0]
			if train.Name != "train" || train.BuilderID != gpu || !train.At.Equal(start.Add(9*time.Minute)) {
				t.Errorf("train record: name %q, builder %q, at %v", train.Name, train.BuilderID, train.At)
			}
			if len(train.Subjects) != 2 || len(train.Signatures) != 1 || train.Signatures[0].Signer.KeyID != "bob" {
				t.Errorf("train record: subjects %v, signatures %+v", train.Subjects, train.Signatures)
			}
			if !slices.Contains(train.Materials, f.clean) || !slices.Contains(train.Materials, f.config) {
				t.Errorf("train materials %v lack clean.csv and train.json", train.Materials)
			}

			steps, err := ix.Recent(t.Context(), RecentQuery{PredicateType: provenance.PredicateSLSAProvenanceV1, Page: Page{Limit: 3}})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range steps {
				names = append(names, r.Name)
			}
			// The build has a verified signing time of its own; the steps the times they record.
			if len(names) != 3 || names[len(names)-1] == "ingest" {
				t.Errorf("Recent = %v, want the three newest of build, train, clean, ingest", names)
			}
			all, err := ix.Recent(t.Context(), RecentQuery{})
			if err != nil || len(all) != 5 {
				t.Fatalf("Recent(all) = %d records, %v; want 5", len(all), err)
			}
			for i := 1; i < len(all); i++ {
				if !all[i].At.IsZero() && all[i].At.After(all[i-1].At) {
					t.Errorf("Recent out of order at %d: %v after %v", i, all[i].At, all[i-1].At)
				}
			}

			first, total, err := ix.Artifacts(t.Context(), Page{Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			rest, _, err := ix.Artifacts(t.Context(), Page{Offset: 2, Limit: MaxPage + 1})
			if err != nil {
				t.Fatal(err)
			}
			// raw, clean (sha256 and sha512), model, metrics and the app image.
			if total != 6 || len(first) != 2 || len(first)+len(rest) != total {
				t.Fatalf("Artifacts: total %d, pages of %d and %d", total, len(first), len(rest))
			}
			seen := map[digest.Digest]bool{}
			for _, s := range append(first, rest...) {
				if seen[s.Digest] {
					t.Errorf("artifact %s listed twice", s.Digest)
				}
				seen[s.Digest] = true
				if s.Digest == f.model && (!slices.Equal(s.Names, []string{"model.json"}) || s.Statements != 1) {
					t.Errorf("model summary %+v", s)
				}
			}

			up, truncated, err := ix.Upstream(t.Context(), f.model, 0)
			if err != nil || truncated {
				t.Fatalf("Upstream(model) = %v, %v", truncated, err)
			}
			steps2 := map[digest.Digest]bool{}
			for _, l := range up {
				steps2[l.Statement] = true
			}
			for _, name := range []string{"ingest", "clean", "train"} {
				if !steps2[f.ids[name]] {
					t.Errorf("Upstream(model) misses step %s: %v", name, up)
				}
			}
			if _, truncated, err := ix.Upstream(t.Context(), f.model, 2); err != nil || !truncated {
				t.Errorf("Upstream(model, 2): truncated %v, %v; want true", truncated, err)
			}
			down, _, err := ix.Downstream(t.Context(), f.survey, 0)
			if err != nil {
				t.Fatal(err)
			}
			reached := map[digest.Digest]bool{}
			for _, l := range down {
				reached[l.To] = true
			}
			if !reached[f.raw] || !reached[f.clean] || !reached[f.model] || !reached[f.metrics] {
				t.Errorf("Downstream(survey) = %v, want raw, clean, model and metrics", down)
			}
			if _, _, err := ix.Upstream(t.Context(), "sha256:xyz", 0); err == nil {
				t.Error("Upstream of a malformed digest succeeded")
			}
		})
	}
}

// TestUpgradeRecords opens an index of schema version 6 with this version: its statements get
// the time of their signatures and no body, and adding them again records the body.
func TestUpgradeRecords(t *testing.T) {
	f := newFixture(t)
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			old, reopen := be.old(t, 6)
			if err := old.Add(t.Context(), f.all()...); err != nil {
				t.Fatal(err)
			}
			old.Close()
			ix := reopen(t)
			if _, ok, err := ix.Statement(t.Context(), f.ids["build"]); ok || err != nil {
				t.Fatalf("migrated Statement(build) = %v, %v; want none yet", ok, err)
			}
			recs, err := ix.Records(t.Context(), f.ids["build"], f.ids["ingest"])
			if err != nil || len(recs) != 2 {
				t.Fatalf("Records = %v, %v", recs, err)
			}
			if recs[0].At.IsZero() || !recs[1].At.IsZero() {
				t.Errorf("migrated times: build %v (signed, want set), ingest %v (untimed signature, want zero)", recs[0].At, recs[1].At)
			}
			if err := ix.Add(t.Context(), f.all()...); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := ix.Statement(t.Context(), f.ids["build"]); !ok || err != nil {
				t.Errorf("Statement(build) after adding again = %v, %v", ok, err)
			}
			recs, err = ix.Records(t.Context(), f.ids["build"], f.ids["ingest"])
			if err != nil || len(recs) != 2 || recs[1].At.IsZero() {
				t.Errorf("after adding again: %+v, %v; want ingest timed", recs, err)
			}
		})
	}
}

// TestDeployments answers what each environment last deployed of each repository, and which
// tags were seen at a digest, from a real audit log, on every backend.
func TestDeployments(t *testing.T) {
	app1, app2, other := digest.FromString("app 1"), digest.FromString("app 2"), digest.FromString("other")
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	events := []audit.Event{
		{Kind: audit.KindDeployed, Subject: app1, SubjectName: "registry.example/app:1.0", Environment: "prod", Time: at, Actor: "deploy"},
		{Kind: audit.KindDeployed, Subject: app1, SubjectName: "registry.example/app:1.0", Environment: "staging", Time: at.Add(time.Minute), Actor: "deploy"},
		{Kind: audit.KindDeployed, Subject: app2, SubjectName: "registry.example/app:1.0@" + app2.String(), Environment: "staging", Time: at.Add(2 * time.Minute), Actor: "deploy"},
		{Kind: audit.KindVerified, Subject: other, Decision: audit.DecisionAllow, Environment: "prod", Time: at.Add(3 * time.Minute), Actor: "gate"},
	}
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			log := newAuditLog(t)
			ix := be.open(t)(t)
			log.write(t, events...)
			if _, err := ix.AddAuditLog(t.Context(), log.auditor); err != nil {
				t.Fatal(err)
			}
			deps, err := ix.Deployments(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(deps) != 2 {
				t.Fatalf("Deployments = %+v, want prod and staging of registry.example/app", deps)
			}
			for i, want := range []struct {
				env string
				d   digest.Digest
			}{{"prod", app1}, {"staging", app2}} {
				if deps[i].Repository != "registry.example/app" || deps[i].Environment != want.env || deps[i].Event.Event.Subject != want.d {
					t.Errorf("deployment %d = %+v, want %s at %s", i, deps[i], want.env, want.d)
				}
			}
			tags, err := ix.TagsOf(t.Context(), app2)
			if err != nil || len(tags) != 1 || tags[0].Reference != "registry.example/app:1.0" {
				t.Errorf("TagsOf(app 2) = %+v, %v", tags, err)
			}
		})
	}
}

// TestStatements reads statements back in bulk, decoded and as JSON, with the same ids.
func TestStatements(t *testing.T) {
	f := newFixture(t)
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			ix := be.open(t)(t)
			if err := ix.Add(t.Context(), f.all()...); err != nil {
				t.Fatal(err)
			}
			ids := []digest.Digest{f.ids["ingest"], f.ids["build"], digest.FromString("nothing")}
			sts, err := ix.Statements(t.Context(), ids...)
			if err != nil || len(sts) != 2 {
				t.Fatalf("Statements = %d, %v; want 2", len(sts), err)
			}
			raw, err := ix.StatementsJSON(t.Context(), ids...)
			if err != nil || len(raw) != 2 {
				t.Fatalf("StatementsJSON = %d, %v; want 2", len(raw), err)
			}
			for _, id := range ids[:2] {
				if got := statementID(t, sts[id]); got != id {
					t.Errorf("Statements[%s] has id %s", id, got)
				}
				if got := digest.FromBytes(raw[id]); got != id {
					t.Errorf("StatementsJSON[%s] hashes to %s: not the canonical form", id, got)
				}
			}
		})
	}
}
