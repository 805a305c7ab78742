package tpm_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-tpm/legacy/tpm2"
	"github.com/google/go-tpm/tpmutil"
	digest "github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/provenance/runtime/tpm"
)

var update = flag.Bool("update", false, "rewrite testdata/quote.json from a fresh software TPM")

// statement stands in for a runtime facts statement: the quote binds its digest.
var statement = []byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://provkit.dev/runtime/v1"}`)

// extendPCR extends a sha256 PCR over a connection of its own, before the TPM under test is
// opened (swtpm serves one connection at a time), and returns the PCR's expected new value
// given its old one.
func extendPCR(tb testing.TB, s *testenv.SWTPM, index int, old, data []byte) []byte {
	tb.Helper()
	c := s.Dial(tb)
	defer c.Close()
	h := sha256.Sum256(data)
	if err := tpm2.PCRExtend(c, tpmutil.Handle(index), tpm2.AlgSHA256, h[:], ""); err != nil {
		tb.Fatalf("extend PCR %d: %v", index, err)
	}
	next := sha256.Sum256(append(bytes.Clone(old), h[:]...))
	return next[:]
}

func ctx(tb testing.TB) context.Context {
	tb.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	tb.Cleanup(cancel)
	return c
}

func mustAK(tb testing.TB, q *tpm.Quote) any {
	tb.Helper()
	ak, err := tpm.ParseAKPublic(q.AKPublic)
	if err != nil {
		tb.Fatalf("ParseAKPublic: %v", err)
	}
	return ak
}

// TestQuoteVerify: a quote over PCRs the test extended verifies with the TPM's AK, carries the
// statement digest, reports the PCR values the TPM holds, and a second quote reuses the AK.
func TestQuoteVerify(t *testing.T) {
	s := testenv.StartSWTPM(t)
	zero := make([]byte, 32)
	want16 := extendPCR(t, s, 16, zero, []byte("provkit runtime"))
	tp, err := tpm.Open(ctx(t), s.Dial(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer tp.Close()

	d := digest.FromBytes(statement)
	q, err := tp.Quote(ctx(t), d, []int{16, 0, 7})
	if err != nil {
		t.Fatalf("Quote: %v", err)
	}
	if !bytes.Equal(q.Nonce, mustDecodeHex(t, d.Encoded())) {
		t.Errorf("Nonce = %x, want the statement digest %s", q.Nonce, d)
	}
	akPub, err := tp.AKPublic(ctx(t))
	if err != nil {
		t.Fatalf("AKPublic: %v", err)
	}
	if !bytes.Equal(akPub, q.AKPublic) {
		t.Errorf("Quote.AKPublic differs from TPM.AKPublic")
	}
	ak, err := tpm.ParseAKPublic(akPub)
	if err != nil {
		t.Fatalf("ParseAKPublic: %v", err)
	}
	v, err := tpm.Verify(q, ak, d)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if v.Statement != d || v.Bank != tpm.BankSHA256 {
		t.Errorf("Verified = %s %s, want %s sha256", v.Statement, v.Bank, d)
	}
	want := []tpm.PCR{{Index: 0, Digest: zero}, {Index: 7, Digest: zero}, {Index: 16, Digest: want16}}
	if !reflect.DeepEqual(v.PCRs, want) {
		t.Errorf("verified PCRs = %v, want %v", v.PCRs, want)
	}
	if v.ResetCount != 1 && v.Clock == 0 {
		t.Errorf("clock info looks empty: %+v", v)
	}

	q2, err := tp.Quote(ctx(t), digest.FromString("another statement"), []int{16})
	if err != nil {
		t.Fatalf("second Quote: %v", err)
	}
	if !bytes.Equal(q2.AKPublic, q.AKPublic) {
		t.Errorf("second quote used a new attestation key")
	}
	if _, err := tpm.Verify(q2, ak, digest.FromString("another statement")); err != nil {
		t.Errorf("Verify second quote: %v", err)
	}
	if *update {
		writeTestdata(t, q)
	}
}

func writeTestdata(t *testing.T, q *tpm.Quote) {
	b, err := json.MarshalIndent(q, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "quote.json"), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Log("wrote testdata/quote.json")
}

// TestVerifyRejects: each way a quote can be wrong fails with its own sentinel, inside a
// *VerifyError.
func TestVerifyRejects(t *testing.T) {
	tp, _ := openTPM(t)
	other, _ := openTPM(t)
	d := digest.FromBytes(statement)
	q, err := tp.Quote(ctx(t), d, []int{0, 1, 16})
	if err != nil {
		t.Fatalf("Quote: %v", err)
	}
	ak := mustAK(t, q)
	otherPub, err := other.AKPublic(ctx(t))
	if err != nil {
		t.Fatalf("other AKPublic: %v", err)
	}
	otherAK, err := tpm.ParseAKPublic(otherPub)
	if err != nil {
		t.Fatal(err)
	}
	// A quote the other TPM made over the same statement and PCRs.
	oq, err := other.Quote(ctx(t), d, []int{0, 1, 16})
	if err != nil {
		t.Fatalf("other Quote: %v", err)
	}

	clone := func(f func(q *tpm.Quote)) *tpm.Quote {
		b, err := json.Marshal(q)
		if err != nil {
			t.Fatal(err)
		}
		var c tpm.Quote
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		f(&c)
		return &c
	}
	tests := []struct {
		name      string
		q         *tpm.Quote
		ak        any
		statement digest.Digest
		want      error
	}{
		{"other statement", q, ak, digest.FromString("a different statement"), tpm.ErrNonceMismatch},
		{"sha512 of the same statement", q, ak, digest.SHA512.FromBytes(statement), tpm.ErrNonceMismatch},
		{"tampered signature", clone(func(c *tpm.Quote) { c.Signature[len(c.Signature)-1] ^= 1 }), ak, d, tpm.ErrBadSignature},
		{"tampered attest bytes", clone(func(c *tpm.Quote) { c.Attest[len(c.Attest)-1] ^= 1 }), ak, d, tpm.ErrBadSignature},
		{"tampered PCR value", clone(func(c *tpm.Quote) { c.PCRs[2].Digest[0] ^= 1 }), ak, d, tpm.ErrPCRMismatch},
		{"verified with another TPM's AK", q, otherAK, d, tpm.ErrBadSignature},
		{"another TPM's quote with this AK", oq, ak, d, tpm.ErrBadSignature},
		{"another TPM's quote with its AKPublic swapped in", clone(func(c *tpm.Quote) {
			c.Attest, c.Signature = oq.Attest, oq.Signature
		}), ak, d, tpm.ErrBadSignature},
		{"PCR dropped", clone(func(c *tpm.Quote) { c.PCRs = c.PCRs[:2] }), ak, d, tpm.ErrMalformed},
		{"PCR index changed", clone(func(c *tpm.Quote) { c.PCRs[2].Index = 17 }), ak, d, tpm.ErrMalformed},
		{"nonce field edited", clone(func(c *tpm.Quote) { c.Nonce[0] ^= 1 }), ak, d, tpm.ErrMalformed},
		{"other bank", clone(func(c *tpm.Quote) { c.Bank = "sha1" }), ak, d, tpm.ErrMalformed},
		{"nil quote", nil, ak, d, tpm.ErrMalformed},
		{"not a key", q, "key", d, tpm.ErrKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tpm.Verify(tt.q, tt.ak, tt.statement)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, %v; want %v", v, err, tt.want)
			}
			var ve *tpm.VerifyError
			if !errors.As(err, &ve) || ve.Reason == "" {
				t.Errorf("error %v is not a *VerifyError with a reason", err)
			}
			if v != nil {
				t.Errorf("Verify returned values with an error")
			}
		})
	}
	// The untouched quotes still verify, each with its own TPM's key.
	if _, err := tpm.Verify(q, ak, d); err != nil {
		t.Errorf("original quote: %v", err)
	}
	if _, err := tpm.Verify(oq, otherAK, d); err != nil {
		t.Errorf("other TPM's quote with its own AK: %v", err)
	}
}

// TestJSONRoundTrip: the JSON form parses back to an equal quote that still verifies.
func TestJSONRoundTrip(t *testing.T) {
	tp, _ := openTPM(t)
	d := digest.FromBytes(statement)
	q, err := tp.Quote(ctx(t), d, []int{0, 4, 8, 23})
	if err != nil {
		t.Fatalf("Quote: %v", err)
	}
	b, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tpm.ParseQuote(b)
	if err != nil {
		t.Fatalf("ParseQuote: %v", err)
	}
	if !reflect.DeepEqual(got, q) {
		t.Errorf("round trip changed the quote:\n got %+v\nwant %+v", got, q)
	}
	if _, err := tpm.Verify(got, mustAK(t, got), d); err != nil {
		t.Errorf("Verify after round trip: %v", err)
	}
	var shape map[string]json.RawMessage
	if err := json.Unmarshal(b, &shape); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"akPublic", "quote", "signature", "pcrBank", "pcrs", "nonce"} {
		if _, ok := shape[k]; !ok {
			t.Errorf("JSON form has no %q: %s", k, b)
		}
	}
	if len(shape) != 6 {
		t.Errorf("JSON form has %d fields, want 6: %s", len(shape), b)
	}
	t.Logf("JSON form of a quote over 4 PCRs: %d bytes", len(b))
}

// TestQuoteInputs: bad selections and digests are refused before the TPM is asked, and a
// cancelled context stops the call.
func TestQuoteInputs(t *testing.T) {
	tp, _ := openTPM(t)
	d := digest.FromBytes(statement)
	for _, tt := range []struct {
		name string
		d    digest.Digest
		pcrs []int
	}{
		{"no PCRs", d, nil},
		{"PCR 24", d, []int{24}},
		{"negative PCR", d, []int{-1}},
		{"repeated PCR", d, []int{7, 7}},
		{"invalid digest", digest.Digest("sha256:xyz"), []int{0}},
		{"empty digest", "", []int{0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if q, err := tp.Quote(ctx(t), tt.d, tt.pcrs); err == nil {
				t.Fatalf("Quote(%q, %v) = %v, want an error", tt.d, tt.pcrs, q)
			}
		})
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tp.Quote(cancelled, d, []int{0}); !errors.Is(err, context.Canceled) {
		t.Errorf("Quote with a cancelled context = %v, want context.Canceled", err)
	}
	// The TPM is still usable: the cancelled call never reached it.
	if _, err := tp.Quote(ctx(t), d, []int{0}); err != nil {
		t.Errorf("Quote after a cancelled call: %v", err)
	}
	if err := tp.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := tp.Quote(ctx(t), d, []int{0}); err == nil {
		t.Errorf("Quote after Close succeeded")
	}
}

// TestSHA512Statement: a sha512 statement digest (64 bytes, the largest nonce) is quoted and
// verified as well.
func TestSHA512Statement(t *testing.T) {
	tp, _ := openTPM(t)
	d := digest.SHA512.FromBytes(statement)
	q, err := tp.Quote(ctx(t), d, []int{0})
	if err != nil {
		t.Skipf("this TPM refuses a 64-byte nonce: %v", err)
	}
	if _, err := tpm.Verify(q, mustAK(t, q), d); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if _, err := tpm.Verify(q, mustAK(t, q), digest.FromBytes(statement)); !errors.Is(err, tpm.ErrNonceMismatch) {
		t.Errorf("Verify with the sha256 digest = %v, want ErrNonceMismatch", err)
	}
}

// BenchmarkQuote measures one quote over three PCRs on swtpm (the PCR read-back included).
func BenchmarkQuote(b *testing.B) {
	tp, _ := openTPM(b)
	d := digest.FromBytes(statement)
	if _, err := tp.Quote(ctx(b), d, []int{0, 7, 16}); err != nil { // creates the AK
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := tp.Quote(ctx(b), d, []int{0, 7, 16}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAKBlob: a saved attestation key, loaded by a new connection to the same TPM, quotes with
// the same key; another TPM cannot load it.
func TestAKBlob(t *testing.T) {
	first, s := openTPM(t)
	blob, err := first.AKBlob(ctx(t))
	if err != nil {
		t.Fatalf("AKBlob: %v", err)
	}
	enrolled, err := first.AKPublic(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil { // swtpm serves one connection at a time
		t.Fatal(err)
	}
	again, err := tpm.Open(ctx(t), s.Dial(t))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if err := again.LoadAK(ctx(t), blob); err != nil {
		t.Fatalf("LoadAK: %v", err)
	}
	d := digest.FromBytes(statement)
	q, err := again.Quote(ctx(t), d, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	ak, err := tpm.ParseAKPublic(enrolled)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpm.Verify(q, ak, d); err != nil {
		t.Errorf("Verify a quote by the loaded key with the enrolled one: %v", err)
	}
	if err := again.LoadAK(ctx(t), blob); err == nil {
		t.Errorf("LoadAK twice succeeded")
	}
	other, _ := openTPM(t)
	if err := other.LoadAK(ctx(t), blob); err == nil {
		t.Errorf("another TPM loaded the key")
	}
	if _, err := other.Quote(ctx(t), d, []int{0}); err != nil {
		t.Errorf("after a failed LoadAK, Quote with a new key: %v", err)
	}
}
