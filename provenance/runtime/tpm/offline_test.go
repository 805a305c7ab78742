package tpm_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-tpm/legacy/tpm2"
	digest "github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance/runtime/tpm"
)

func mustDecodeHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// testdataQuote is a quote swtpm made over `statement` (go test -run TestQuoteVerify -update
// rewrites it).
func testdataQuote(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "quote.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestVerifyTestdata: a stored swtpm quote verifies offline, and only for its statement.
func TestVerifyTestdata(t *testing.T) {
	q, err := tpm.ParseQuote(testdataQuote(t))
	if err != nil {
		t.Fatalf("ParseQuote: %v", err)
	}
	ak := mustAK(t, q)
	if _, err := tpm.Verify(q, ak, digest.FromBytes(statement)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if _, err := tpm.Verify(q, ak, digest.FromString("other")); !errors.Is(err, tpm.ErrNonceMismatch) {
		t.Errorf("Verify other statement = %v, want ErrNonceMismatch", err)
	}
	swapped := *q
	swapped.PCRs = []tpm.PCR{{Index: 0, Digest: q.PCRs[2].Digest}, q.PCRs[1], {Index: 16, Digest: q.PCRs[0].Digest}}
	if _, err := tpm.Verify(&swapped, ak, digest.FromBytes(statement)); !errors.Is(err, tpm.ErrPCRMismatch) {
		t.Errorf("Verify with PCR 0 and 16 values swapped = %v, want ErrPCRMismatch", err)
	}
	if _, err := tpm.Verify(q, ak, "sha256:nothex"); err == nil || errors.Is(err, tpm.ErrNonceMismatch) {
		t.Errorf("Verify with an invalid digest = %v, want a digest error", err)
	}
}

// TestParseQuoteRejects: hostile or broken JSON forms fail with ErrMalformed.
func TestParseQuoteRejects(t *testing.T) {
	good := testdataQuote(t)
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"not JSON", []byte("quote")},
		{"too large", append(bytes.Repeat([]byte(" "), tpm.MaxQuoteSize), good...)},
		{"trailing object", append(bytes.Clone(good), []byte(`{}`)...)},
		{"unknown field", edit(func(m map[string]any) { m["akPKIX"] = "" })},
		{"unknown PCR field", edit(func(m map[string]any) {
			m["pcrs"].([]any)[0].(map[string]any)["bank"] = "sha1"
		})},
		{"no akPublic", edit(func(m map[string]any) { delete(m, "akPublic") })},
		{"akPublic garbage", edit(func(m map[string]any) { m["akPublic"] = "AAEC" })},
		{"quote garbage", edit(func(m map[string]any) { m["quote"] = "AAEC" })},
		{"signature garbage", edit(func(m map[string]any) { m["signature"] = "AAEC" })},
		{"bank sha1", edit(func(m map[string]any) { m["pcrBank"] = "sha1" })},
		{"no PCRs", edit(func(m map[string]any) { m["pcrs"] = []any{} })},
		{"PCR digest not hex", edit(func(m map[string]any) { m["pcrs"].([]any)[0].(map[string]any)["digest"] = "zz" })},
		{"PCR digest short", edit(func(m map[string]any) { m["pcrs"].([]any)[0].(map[string]any)["digest"] = "00" })},
		{"PCR out of range", edit(func(m map[string]any) { m["pcrs"].([]any)[0].(map[string]any)["index"] = 99 })},
		{"PCRs out of order", edit(func(m map[string]any) {
			p := m["pcrs"].([]any)
			p[0], p[1] = p[1], p[0]
		})},
		{"no nonce", edit(func(m map[string]any) { delete(m, "nonce") })},
		{"nonce differs from the signed one", edit(func(m map[string]any) { m["nonce"] = "AAAA" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := tpm.ParseQuote(tt.in)
			if !errors.Is(err, tpm.ErrMalformed) {
				t.Fatalf("ParseQuote = %v, %v; want ErrMalformed", q, err)
			}
			var ve *tpm.VerifyError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), ve.Reason) {
				t.Errorf("error %v: not a *VerifyError naming its reason", err)
			}
		})
	}
}

// TestParseAKPublicRejects: only a restricted signing key is accepted as an AK.
func TestParseAKPublicRejects(t *testing.T) {
	q, err := tpm.ParseQuote(testdataQuote(t))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := tpm2.DecodePublic(q.AKPublic)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		attrs tpm2.KeyProp
	}{
		{"unrestricted signing key", pub.Attributes &^ tpm2.FlagRestricted},
		{"decryption key", pub.Attributes&^tpm2.FlagSign | tpm2.FlagDecrypt},
		{"sign and decrypt", pub.Attributes | tpm2.FlagDecrypt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := pub
			p.Attributes = tt.attrs
			b, err := p.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tpm.ParseAKPublic(b); !errors.Is(err, tpm.ErrKey) {
				t.Errorf("ParseAKPublic = %v, want ErrKey", err)
			}
		})
	}
	big := pub
	rp := *pub.RSAParameters
	rp.KeyBits, rp.ModulusRaw = 16384, bytes.Repeat([]byte{0xff}, 2048)
	big.RSAParameters = &rp
	b, err := big.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpm.ParseAKPublic(b); !errors.Is(err, tpm.ErrKey) {
		t.Errorf("ParseAKPublic(16384-bit RSA) = %v, want ErrKey", err)
	}
	if _, err := tpm.ParseAKPublic([]byte{1, 2, 3}); !errors.Is(err, tpm.ErrKey) {
		t.Errorf("ParseAKPublic(garbage) = %v, want ErrKey", err)
	}
}

// BenchmarkVerify measures ParseQuote + Verify of a stored swtpm quote (RSA-2048 AK, 3 PCRs).
func BenchmarkVerify(b *testing.B) {
	raw := testdataQuote(b)
	q, err := tpm.ParseQuote(raw)
	if err != nil {
		b.Fatal(err)
	}
	ak := mustAK(b, q)
	d := digest.FromBytes(statement)
	b.ReportAllocs()
	for b.Loop() {
		q, err := tpm.ParseQuote(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tpm.Verify(q, ak, d); err != nil {
			b.Fatal(err)
		}
	}
}
