package tpm

import (
	"crypto"
	"encoding/json"
	"fmt"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance"
)

// QuotePredicateType is the predicate type of a quote statement: an in-toto statement about
// the same artifact as the statement a Quote binds, carrying the quote and that statement's
// digest. Signed and attached beside the bound statement, it travels through any
// provenance.Store like every other attestation.
//
// Its predicate:
//
//	{
//	  "statement": "sha256:<hex of the bound statement's canonical form>",
//	  "quote":     { <the Quote's JSON form, see Quote> }
//	}
const QuotePredicateType = "https://provkit.dev/runtime/tpm-quote/v1"

// Binding is what a quote statement says: which statement the quote binds, and the quote.
type Binding struct {
	// Subject is the artifact both statements are about.
	Subject digest.Digest
	// Statement is the sha256 digest of the bound statement's canonical form
	// (StatementDigest).
	Statement digest.Digest
	// Quote is the TPM quote, whose nonce should be Statement. Parsed, not verified.
	Quote *Quote
}

// StatementDigest returns the digest a quote of st must carry as its nonce: the sha256 digest
// of st's canonical form (provenance.Marshal), the bytes a provkit signer signs.
func StatementDigest(st *intoto.Statement) (digest.Digest, error) {
	b, err := provenance.Marshal(st)
	if err != nil {
		return "", err
	}
	return digest.FromBytes(b), nil
}

// QuoteStatement returns the quote statement that binds bound to q, ready to sign and attach
// beside bound. bound must be about exactly one artifact, and q's nonce must be bound's digest
// (StatementDigest): a quote of another statement fails with ErrNonceMismatch, before anything
// is signed.
func QuoteStatement(bound *intoto.Statement, q *Quote) (*intoto.Statement, error) {
	if q == nil {
		return nil, fail(ErrMalformed, "nil quote")
	}
	if n := len(bound.GetSubject()); n != 1 {
		return nil, fail(ErrMalformed, fmt.Sprintf("the bound statement has %d subjects, want exactly one", n))
	}
	d, err := StatementDigest(bound)
	if err != nil {
		return nil, fail(ErrMalformed, "the bound statement: "+err.Error())
	}
	want, err := nonceOf(d)
	if err != nil {
		return nil, err
	}
	if string(q.Nonce) != string(want) {
		return nil, fail(ErrNonceMismatch, fmt.Sprintf("quote nonce %s, want statement %s", shortHex(q.Nonce), d))
	}
	if _, err := q.decode(); err != nil {
		return nil, err
	}
	quote, err := json.Marshal(q)
	if err != nil {
		return nil, fail(ErrMalformed, err.Error())
	}
	predicate := struct {
		Statement digest.Digest   `json:"statement"`
		Quote     json.RawMessage `json:"quote"`
	}{d, quote}
	st, err := provenance.NewStatement(bound.GetSubject(), QuotePredicateType, predicate)
	if err != nil {
		return nil, fail(ErrMalformed, err.Error())
	}
	return st, nil
}

// ParseQuoteStatement reads a quote statement strictly: its predicate type, exactly one
// subject of one digest, only the predicate's two fields, a sha256 statement digest and a
// quote ParseQuote accepts. Every error wraps ErrMalformed. The binding it returns is not
// verified: give it to VerifyBinding.
func ParseQuoteStatement(st *intoto.Statement) (*Binding, error) {
	var p struct {
		Statement string          `json:"statement"`
		Quote     json.RawMessage `json:"quote"`
	}
	_, subject, err := provenance.DecodePredicateStrict(st, QuotePredicateType, []string{"statement", "quote"}, 2*MaxQuoteSize, &p)
	if err != nil {
		return nil, fail(ErrMalformed, "quote statement: "+err.Error())
	}
	d, err := digest.Parse(p.Statement)
	if err != nil || d.Algorithm() != digest.SHA256 {
		return nil, fail(ErrMalformed, fmt.Sprintf("quote statement: statement %q is not a sha256 digest", p.Statement))
	}
	if len(p.Quote) == 0 {
		return nil, fail(ErrMalformed, "quote statement: no quote")
	}
	q, err := ParseQuote(p.Quote)
	if err != nil {
		return nil, err
	}
	return &Binding{Subject: subject, Statement: d, Quote: q}, nil
}

// VerifyBinding checks that quote, a quote statement, binds bound with a quote made by the
// attestation key ak: both are about the same single artifact, the digest quote names is
// bound's (StatementDigest), and Verify accepts the quote for that digest. Both statements
// should come from verified bundles (verify.Result.Statement): this checks the TPM's
// evidence, not who signed the statements.
//
// Errors are *VerifyError: ErrMalformed for a statement that is not a quote statement or names
// another artifact or statement, and Verify's errors for the quote itself.
func VerifyBinding(quote, bound *intoto.Statement, ak crypto.PublicKey) (*Verified, error) {
	b, err := ParseQuoteStatement(quote)
	if err != nil {
		return nil, err
	}
	if n := len(bound.GetSubject()); n != 1 || !provenance.HasDigest(bound.GetSubject()[0].GetDigest(), b.Subject) {
		return nil, fail(ErrMalformed, fmt.Sprintf("the quote statement is about %s, the bound statement is not", b.Subject))
	}
	d, err := StatementDigest(bound)
	if err != nil {
		return nil, fail(ErrMalformed, "the bound statement: "+err.Error())
	}
	if b.Statement != d {
		return nil, fail(ErrMalformed, fmt.Sprintf("the quote statement binds statement %s, not %s", b.Statement, d))
	}
	return Verify(b.Quote, ak, d)
}
