package lineage_test

import (
	"context"
	"crypto"
	"errors"
	"slices"
	"strings"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/lineage"
)

// verifyStatement signs st with key and verifies it against subject.
func (p *pipeline) verifyStatement(t *testing.T, key crypto.Signer, st *intoto.Statement, subject digest.Digest) *verify.Result {
	t.Helper()
	res, err := p.verifier.Verify(context.Background(), signStatement(t, key, st), subject, p.identity)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestWeakDigestDoesNotJoin: bob signs a statement giving his own artifact and alice's raw.csv
// one shared md5 (or a shared digest of a made-up algorithm). The two stay two artifacts, so
// alice's ingest step is never reported as the producer of bob's artifact.
func TestWeakDigestDoesNotJoin(t *testing.T) {
	for name, shared := range map[string]map[string]string{
		"md5":     {"md5": strings.Repeat("ab", 16)},
		"made-up": {"mine": "1"},
	} {
		t.Run(name, func(t *testing.T) {
			p := newPipeline(t)
			results, failed := p.verifyAll(t, "ingest")
			if len(failed) > 0 {
				t.Fatal(failed)
			}
			mine := digest.FromString("bob's artifact")
			with := func(d digest.Digest) map[string]string {
				m := map[string]string{string(d.Algorithm()): d.Encoded()}
				for k, v := range shared {
					m[k] = v
				}
				return m
			}
			st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{
				{Name: "bob.bin", Digest: with(mine)},
				{Name: "raw.csv", Digest: with(p.raw)},
			}, "https://example.com/claim/v1", map[string]any{})
			if err != nil {
				t.Fatal(err)
			}
			results = append(results, p.verifyStatement(t, p.bob, st, mine))
			g, err := lineage.New(results)
			if err != nil {
				t.Fatal(err)
			}
			n, ok := g.Node(mine)
			if !ok || n.Digest != mine || !slices.Equal(n.Digests, []digest.Digest{mine}) {
				t.Fatalf("bob's node %+v", n)
			}
			if _, err := g.Path(p.survey, mine); !errors.Is(err, lineage.ErrNoPath) {
				t.Fatalf("path from the survey to bob's artifact: %v", err)
			}
			for _, e := range g.Edges() {
				if e.To == mine {
					t.Errorf("edge into bob's artifact: %+v", e)
				}
			}
		})
	}
}

// TestConflictingStrongDigests: bob gives his artifact and alice's raw.csv one sha512 although
// their sha256 differ. New refuses the results with a *DigestConflictError naming bob's
// statement, rather than join two artifacts.
func TestConflictingStrongDigests(t *testing.T) {
	p := newPipeline(t)
	results, failed := p.verifyAll(t, "ingest")
	if len(failed) > 0 {
		t.Fatal(failed)
	}
	mine := digest.FromString("bob's artifact")
	shared := strings.Repeat("cd", 64)
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{
		{Name: "bob.bin", Digest: map[string]string{"sha256": mine.Encoded(), "sha512": shared}},
		{Name: "raw.csv", Digest: map[string]string{"sha256": strings.ToUpper(p.raw.Encoded()), "sha512": shared}},
	}, "https://example.com/claim/v1", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	bobs := p.verifyStatement(t, p.bob, st, mine)
	_, err = lineage.New(append(results, bobs))
	var ce *lineage.DigestConflictError
	if !errors.Is(err, lineage.ErrDigestConflict) || !errors.As(err, &ce) {
		t.Fatalf("New: %v", err)
	}
	if !slices.Contains(ce.Digests, mine) || !slices.Contains(ce.Digests, p.raw) || len(ce.Statements) != 2 {
		t.Errorf("conflict %+v", ce)
	}
	// Without bob's statement the graph builds; raw.csv in upper case is the same artifact.
	g, err := lineage.New(results)
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := g.Node(digest.Digest("sha256:" + strings.ToUpper(p.raw.Encoded()))); !ok || n.Digest != p.raw {
		t.Errorf("upper-case lookup: %+v", n)
	}
}

// TestSourceNodes: a dependency named by gitCommit alone is a source node keyed by repository
// and commit. Two spellings of one repository are one node; the same commit in a fork is
// another; an artifact whose digests include that gitCommit is an artifact, not the source; a
// sha1 on a git+ URI (SLSA v0.2's spelling) is a commit, and a sha1 elsewhere names nothing.
func TestSourceNodes(t *testing.T) {
	p := newPipeline(t)
	commit := strings.Repeat("1a", 20)
	out := func(s string) (*intoto.ResourceDescriptor, digest.Digest) {
		d := digest.FromString(s)
		return &intoto.ResourceDescriptor{Name: s, Digest: map[string]string{"sha256": d.Encoded()}}, d
	}
	build := func(subject *intoto.ResourceDescriptor, deps ...*intoto.ResourceDescriptor) *intoto.Statement {
		st, err := (&provenance.Build{BuildType: "https://example.com/go/v1", ExternalParameters: map[string]any{"target": "./cmd"},
			ResolvedDependencies: deps, BuilderID: "https://ci.example"}).Statement([]*intoto.ResourceDescriptor{subject})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	binA, a := out("a")
	binB, b := out("b")
	binC, c := out("c")
	binD, d := out("d")
	binE, e := out("e")
	binF, f := out("f")
	results := []*verify.Result{
		p.verifyStatement(t, p.alice, build(binA, &intoto.ResourceDescriptor{Uri: "git+https://github.com/Org/Repo@refs/heads/main", Digest: map[string]string{"gitCommit": commit}}), a),
		p.verifyStatement(t, p.bob, build(binB, &intoto.ResourceDescriptor{Uri: "git+ssh://git@github.com/org/repo.git", Digest: map[string]string{"gitCommit": strings.ToUpper(commit)}}), b),
		p.verifyStatement(t, p.bob, build(binC, &intoto.ResourceDescriptor{Uri: "https://github.com/fork/repo", Digest: map[string]string{"gitCommit": commit}}), c),
		p.verifyStatement(t, p.bob, build(binD, &intoto.ResourceDescriptor{Uri: "https://github.com/org/repo", Digest: map[string]string{"gitCommit": commit, "sha256": a.Encoded()}}), d),
		p.verifyStatement(t, p.alice, build(binE, &intoto.ResourceDescriptor{Uri: "git+https://github.com/org/repo", Digest: map[string]string{"sha1": commit}}), e),
		p.verifyStatement(t, p.alice, build(binF, &intoto.ResourceDescriptor{Uri: "https://github.com/org/repo", Digest: map[string]string{"sha1": commit}}), f),
	}
	g, err := lineage.New(results)
	if err != nil {
		t.Fatal(err)
	}
	src, err := lineage.SourceKey("https://github.com/org/repo", commit)
	if err != nil {
		t.Fatal(err)
	}
	if want := digest.Digest("source:github.com/org/repo@" + commit); src != want {
		t.Fatalf("SourceKey = %s, want %s", src, want)
	}
	down, err := g.Downstream(src)
	if err != nil || !slices.Equal(down, sorted(a, b, d, e)) {
		t.Fatalf("downstream of the source: %v %v", down, err)
	}
	fork, err := lineage.SourceKey("https://github.com/fork/repo", commit)
	if err != nil {
		t.Fatal(err)
	}
	if down, err := g.Downstream(fork); err != nil || !slices.Equal(down, []digest.Digest{c}) {
		t.Fatalf("downstream of the fork: %v %v", down, err)
	}
	if up, err := g.Upstream(d); err != nil || !slices.Equal(up, sorted(a, src)) {
		t.Fatalf("upstream of d: %v %v", up, err)
	}
	if _, ok := g.Node(digest.Digest("gitCommit:" + commit)); ok {
		t.Error("a gitCommit alone names a node")
	}
	for _, bad := range []struct{ uri, commit string }{{"https://github.com/org/repo", "abc"}, {"file:///src", commit}} {
		if _, err := lineage.SourceKey(bad.uri, bad.commit); !errors.Is(err, provenance.ErrInvalidDigest) && !errors.Is(err, provenance.ErrInvalidRepository) {
			t.Errorf("SourceKey(%q, %q): %v", bad.uri, bad.commit, err)
		}
	}
}
