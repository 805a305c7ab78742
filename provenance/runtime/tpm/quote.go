package tpm

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/google/go-tpm/legacy/tpm2"
)

// MediaType is the media type of a Quote's JSON form, for when it travels as a blob beside an
// attestation (for example as an OCI layer or a bundle's companion file).
const MediaType = "application/vnd.provkit.tpm.quote.v1+json"

// MaxQuoteSize caps the JSON form ParseQuote accepts. A real quote with 24 sha256 PCRs and an
// RSA-2048 key is under 3 KiB.
const MaxQuoteSize = 64 << 10

// BankSHA256 names the only PCR bank this package quotes and verifies.
const BankSHA256 = "sha256"

// maxNonce is the largest qualifying data a TPM 2.0 accepts (sizeof(TPMU_HA) with SHA-512).
const maxNonce = 64

// numPCRs is the number of PCRs a PC Client TPM has in a bank.
const numPCRs = 24

// PCR is the value of one platform configuration register. Its JSON form is
// {"index": 7, "digest": "<lower-case hex>"}.
type PCR struct {
	// Index is the register number, 0 to 23.
	Index int
	// Digest is the register's value in the quote's bank: 32 bytes for sha256.
	Digest []byte
}

type pcrJSON struct {
	Index  int    `json:"index"`
	Digest string `json:"digest"`
}

// MarshalJSON writes the digest as lower-case hex.
func (p PCR) MarshalJSON() ([]byte, error) {
	return json.Marshal(pcrJSON{Index: p.Index, Digest: hex.EncodeToString(p.Digest)})
}

// UnmarshalJSON reads the form MarshalJSON writes.
func (p *PCR) UnmarshalJSON(b []byte) error {
	var j pcrJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	d, err := hex.DecodeString(j.Digest)
	if err != nil {
		return fmt.Errorf("PCR %d digest: %w", j.Index, err)
	}
	p.Index, p.Digest = j.Index, d
	return nil
}

// Quote is a TPM 2.0 quote over sha256 PCRs whose qualifying data (nonce) is a statement's
// digest, with what a verifier needs beside it. It is plain data: safe to copy, and safe for
// concurrent reads.
//
// Its JSON form (media type MediaType), with byte strings in standard base64:
//
//	{
//	  "akPublic":  "<TPMT_PUBLIC of the attestation key>",
//	  "quote":     "<TPMS_ATTEST, the signed bytes>",
//	  "signature": "<TPMT_SIGNATURE over quote>",
//	  "pcrBank":   "sha256",
//	  "pcrs":      [{"index": 0, "digest": "<hex>"}, ...],
//	  "nonce":     "<the qualifying data: the raw statement digest>"
//	}
//
// AKPublic says which key made the quote; it is not a reason to trust that key. Verify takes
// the key to trust as a separate argument.
type Quote struct {
	// AKPublic is the attestation key's TPMT_PUBLIC area, as the TPM encodes it. Read it
	// with ParseAKPublic.
	AKPublic []byte `json:"akPublic"`
	// Attest is the TPMS_ATTEST structure the TPM signed.
	Attest []byte `json:"quote"`
	// Signature is the TPMT_SIGNATURE over Attest.
	Signature []byte `json:"signature"`
	// Bank is the PCR bank: always BankSHA256.
	Bank string `json:"pcrBank"`
	// PCRs are the values of the quoted registers, in ascending index order.
	PCRs []PCR `json:"pcrs"`
	// Nonce is the qualifying data inside Attest: the statement digest's raw bytes.
	Nonce []byte `json:"nonce"`
}

// ParseQuote decodes the JSON form of a Quote. It rejects input larger than MaxQuoteSize,
// unknown fields, trailing data, and TPM structures that do not decode or disagree with the
// fields beside them. Every error wraps ErrMalformed. A parsed quote is not verified: pass it
// to Verify.
func ParseQuote(b []byte) (*Quote, error) {
	if len(b) > MaxQuoteSize {
		return nil, fail(ErrMalformed, fmt.Sprintf("%d bytes, more than the %d allowed", len(b), MaxQuoteSize))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var q Quote
	if err := dec.Decode(&q); err != nil {
		return nil, fail(ErrMalformed, "JSON: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail(ErrMalformed, "trailing data after the quote object")
	}
	if _, err := q.decode(); err != nil {
		return nil, err
	}
	return &q, nil
}

// decoded holds the TPM structures of a well-formed quote.
type decoded struct {
	attest *tpm2.AttestationData
	sig    *tpm2.Signature
}

// decode checks the quote's shape without any key: the structures decode, the bank is sha256,
// the PCR list is sorted, unique, in range and of the bank's size, and the quote's own nonce
// and PCR selection agree with the fields beside it.
func (q *Quote) decode() (*decoded, error) {
	if q.Bank != BankSHA256 {
		return nil, fail(ErrMalformed, fmt.Sprintf("PCR bank %q, want %q", q.Bank, BankSHA256))
	}
	if len(q.AKPublic) == 0 {
		return nil, fail(ErrMalformed, "no akPublic")
	}
	if _, err := tpm2.DecodePublic(q.AKPublic); err != nil {
		return nil, fail(ErrMalformed, "akPublic: "+err.Error())
	}
	if len(q.PCRs) == 0 {
		return nil, fail(ErrMalformed, "no PCR values")
	}
	for i, p := range q.PCRs {
		if p.Index < 0 || p.Index >= numPCRs {
			return nil, fail(ErrMalformed, fmt.Sprintf("PCR index %d out of range 0..%d", p.Index, numPCRs-1))
		}
		if i > 0 && p.Index <= q.PCRs[i-1].Index {
			return nil, fail(ErrMalformed, fmt.Sprintf("PCR %d listed after PCR %d: indices must ascend without repeats", p.Index, q.PCRs[i-1].Index))
		}
		if len(p.Digest) != 32 {
			return nil, fail(ErrMalformed, fmt.Sprintf("PCR %d digest is %d bytes, want 32 for sha256", p.Index, len(p.Digest)))
		}
	}
	if len(q.Nonce) == 0 || len(q.Nonce) > maxNonce {
		return nil, fail(ErrMalformed, fmt.Sprintf("nonce is %d bytes, want 1 to %d", len(q.Nonce), maxNonce))
	}
	sig, err := tpm2.DecodeSignature(bytes.NewBuffer(q.Signature))
	if err != nil {
		return nil, fail(ErrMalformed, "signature: "+err.Error())
	}
	att, err := decodeAttest(q.Attest)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(att.ExtraData, q.Nonce) {
		return nil, fail(ErrMalformed, fmt.Sprintf("nonce field %x differs from the quote's qualifying data %x", q.Nonce, []byte(att.ExtraData)))
	}
	sel := att.AttestedQuoteInfo.PCRSelection
	if sel.Hash != tpm2.AlgSHA256 {
		return nil, fail(ErrMalformed, fmt.Sprintf("quote selects PCR bank %v, want sha256", sel.Hash))
	}
	idx := append([]int(nil), sel.PCRs...)
	sort.Ints(idx)
	if len(idx) != len(q.PCRs) {
		return nil, fail(ErrMalformed, fmt.Sprintf("quote selects PCRs %v but %d values are given", idx, len(q.PCRs)))
	}
	for i, p := range q.PCRs {
		if idx[i] != p.Index {
			return nil, fail(ErrMalformed, fmt.Sprintf("quote selects PCRs %v, values given for PCR %d", idx, p.Index))
		}
	}
	return &decoded{attest: att, sig: sig}, nil
}

// decodeAttest decodes a TPMS_ATTEST and requires it to be a quote with one PCR selection.
func decodeAttest(b []byte) (att *tpm2.AttestationData, err error) {
	defer func() {
		// The decoder indexes into lengths taken from the input; never let hostile bytes
		// take the process down.
		if r := recover(); r != nil {
			att, err = nil, fail(ErrMalformed, fmt.Sprintf("quote structure: %v", r))
		}
	}()
	att, err = tpm2.DecodeAttestationData(b)
	if err != nil {
		return nil, fail(ErrMalformed, "quote structure: "+err.Error())
	}
	if att.Type != tpm2.TagAttestQuote || att.AttestedQuoteInfo == nil {
		return nil, fail(ErrMalformed, fmt.Sprintf("attestation type 0x%x is not a quote", att.Type))
	}
	return att, nil
}
