package tpm_test

import (
	"errors"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/runtime"
	"github.com/provkit/provkit/provenance/runtime/tpm"
)

func runtimeStatement(tb testing.TB, image digest.Digest, at time.Time) *intoto.Statement {
	tb.Helper()
	f := &runtime.Facts{Image: image, CollectedAt: at}
	st, err := f.Statement()
	if err != nil {
		tb.Fatalf("Statement: %v", err)
	}
	return st
}

// roundTrip returns st as a verifier reads it back: canonical bytes, parsed.
func roundTrip(tb testing.TB, st *intoto.Statement) *intoto.Statement {
	tb.Helper()
	b, err := provenance.Marshal(st)
	if err != nil {
		tb.Fatal(err)
	}
	back, err := provenance.ParseStatement(b)
	if err != nil {
		tb.Fatal(err)
	}
	return back
}

// TestQuoteStatementBinds: a quote of a runtime statement's digest, carried in a quote statement
// through its canonical bytes, verifies against that runtime statement and no other.
func TestQuoteStatementBinds(t *testing.T) {
	tp, _ := openTPM(t)
	image := digest.FromString("image")
	bound := runtimeStatement(t, image, time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	d, err := tpm.StatementDigest(bound)
	if err != nil {
		t.Fatal(err)
	}
	q, err := tp.Quote(ctx(t), d, []int{0, 7})
	if err != nil {
		t.Fatalf("Quote: %v", err)
	}
	qs, err := tpm.QuoteStatement(bound, q)
	if err != nil {
		t.Fatalf("QuoteStatement: %v", err)
	}
	if qs.GetPredicateType() != tpm.QuotePredicateType || !provenance.HasDigest(qs.GetSubject()[0].GetDigest(), image) {
		t.Fatalf("quote statement is %s about %v, want %s about %s", qs.GetPredicateType(), qs.GetSubject(), tpm.QuotePredicateType, image)
	}
	qs = roundTrip(t, qs)
	ak := mustAK(t, q)

	b, err := tpm.ParseQuoteStatement(qs)
	if err != nil {
		t.Fatalf("ParseQuoteStatement: %v", err)
	}
	if b.Statement != d || b.Subject != image {
		t.Errorf("Binding = %s about %s, want %s about %s", b.Statement, b.Subject, d, image)
	}
	v, err := tpm.VerifyBinding(qs, roundTrip(t, bound), ak)
	if err != nil {
		t.Fatalf("VerifyBinding: %v", err)
	}
	if v.Statement != d || len(v.PCRs) != 2 {
		t.Errorf("Verified = %s with %d PCRs, want %s with 2", v.Statement, len(v.PCRs), d)
	}

	later := runtimeStatement(t, image, time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC))
	if _, err := tpm.VerifyBinding(qs, later, ak); !errors.Is(err, tpm.ErrMalformed) {
		t.Errorf("VerifyBinding of another statement = %v, want ErrMalformed", err)
	}
	other := runtimeStatement(t, digest.FromString("other image"), time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	if _, err := tpm.VerifyBinding(qs, other, ak); !errors.Is(err, tpm.ErrMalformed) {
		t.Errorf("VerifyBinding of a statement about another image = %v, want ErrMalformed", err)
	}
	if _, err := tpm.QuoteStatement(later, q); !errors.Is(err, tpm.ErrNonceMismatch) {
		t.Errorf("QuoteStatement of a quote of another statement = %v, want ErrNonceMismatch", err)
	}

	// A quote statement rewritten to name the later statement: the quote's nonce still says the first.
	forged := roundTrip(t, qs)
	dl, _ := tpm.StatementDigest(later)
	forged.GetPredicate().GetFields()["statement"].Kind = stringKind(dl.String())
	if _, err := tpm.VerifyBinding(forged, later, ak); !errors.Is(err, tpm.ErrNonceMismatch) {
		t.Errorf("VerifyBinding of a rewritten binding = %v, want ErrNonceMismatch", err)
	}

	otherTPM, _ := openTPM(t)
	otherAK, err := otherTPM.AKPublic(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	key, err := tpm.ParseAKPublic(otherAK)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpm.VerifyBinding(qs, bound, key); !errors.Is(err, tpm.ErrBadSignature) {
		t.Errorf("VerifyBinding with another TPM's AK = %v, want ErrBadSignature", err)
	}
}

// TestParseQuoteStatementRejects: statements that are not quote statements are malformed.
func TestParseQuoteStatementRejects(t *testing.T) {
	q, err := tpm.ParseQuote(testdataQuote(t))
	if err != nil {
		t.Fatal(err)
	}
	subject := []*intoto.ResourceDescriptor{{Digest: map[string]string{"sha256": digest.FromString("image").Encoded()}}}
	for name, predicate := range map[string]any{
		"no quote":         map[string]any{"statement": digest.FromString("s").String()},
		"sha512 statement": map[string]any{"statement": digest.SHA512.FromString("s").String(), "quote": q},
		"bad statement":    map[string]any{"statement": "sha256:zz", "quote": q},
		"extra field":      map[string]any{"statement": digest.FromString("s").String(), "quote": q, "note": "x"},
		"quote not object": map[string]any{"statement": digest.FromString("s").String(), "quote": "x"},
	} {
		st, err := provenance.NewStatement(subject, tpm.QuotePredicateType, predicate)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := tpm.ParseQuoteStatement(st); !errors.Is(err, tpm.ErrMalformed) {
			t.Errorf("%s: ParseQuoteStatement = %v, want ErrMalformed", name, err)
		}
	}
	st, err := provenance.NewStatement(subject, runtime.PredicateType, map[string]any{"statement": digest.FromString("s").String(), "quote": q})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpm.ParseQuoteStatement(st); !errors.Is(err, tpm.ErrMalformed) {
		t.Errorf("another predicate type: ParseQuoteStatement = %v, want ErrMalformed", err)
	}
}

func stringKind(s string) *structpb.Value_StringValue {
	return &structpb.Value_StringValue{StringValue: s}
}
