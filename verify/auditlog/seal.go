package auditlog

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
)

// SealPredicateType is the predicate type of a seal: the statement signed once for a batch of
// events appended together. Its one subject, named "events", has as sha256 digest the RFC 6962
// Merkle root of the batch's event statements (each leaf the statement's canonical JSON); its
// predicate is {"size": N}, the number of events in the batch. The verify.Verifier of an
// Auditor's Trust must accept it.
const SealPredicateType = "https://provkit.dev/audit/seal/v1"

// EntryMediaType is the media type of a log entry: a JSON object holding one event's statement
// ("event", its canonical JSON in base64), the Sigstore bundle of its batch's seal ("seal"), its
// position in the batch ("index"), the batch's size ("size") and its RFC 6962 inclusion proof in
// the batch's tree ("proof", base64 hashes). One signature thus covers a batch of events, and
// each entry is checked alone: its statement hashes, through its proof, to the root its seal
// signs.
const EntryMediaType = "application/vnd.provkit.audit.entry.v1+json"

// Limits of a batch and of one entry.
const (
	// MaxSealedEvents is the most events one seal covers.
	MaxSealedEvents = 256
	// MaxEntryBytes is the largest entry read.
	MaxEntryBytes = 4 * audit.MaxEventBytes
	sealSubject   = "events"
	maxProofDepth = 8 // log2(MaxSealedEvents)
)

type entryWire struct {
	MediaType string          `json:"mediaType"`
	Event     []byte          `json:"event"`
	Seal      json.RawMessage `json:"seal"`
	Index     uint64          `json:"index"`
	Size      uint64          `json:"size"`
	Proof     [][]byte        `json:"proof"`
}

// sealEvents signs one seal over events, with actor for those that name none, and returns
// the log entry of each, in order.
func sealEvents(ctx context.Context, signer Signer, actor string, events []audit.Event) ([][]byte, error) {
	if len(events) == 0 || len(events) > MaxSealedEvents {
		return nil, fmt.Errorf("auditlog: seal of %d events (1 to %d)", len(events), MaxSealedEvents)
	}
	statements := make([][]byte, len(events))
	tree := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	nodes := map[compact.NodeID][]byte{}
	remember := func(id compact.NodeID, hash []byte) { nodes[id] = hash }
	for i, e := range events {
		if e.Actor == "" {
			e.Actor = actor
		}
		st, err := e.Statement()
		if err != nil {
			return nil, err
		}
		if statements[i], err = provenance.Marshal(st); err != nil {
			return nil, err
		}
		if err := tree.Append(rfc6962.DefaultHasher.HashLeaf(statements[i]), remember); err != nil {
			return nil, err
		}
	}
	root, err := tree.GetRootHash(nil)
	if err != nil {
		return nil, err
	}
	size := uint64(len(events))
	seal, err := provenance.NewStatement([]*intoto.ResourceDescriptor{{Name: sealSubject, Digest: map[string]string{"sha256": hex.EncodeToString(root)}}},
		SealPredicateType, map[string]any{"size": size})
	if err != nil {
		return nil, err
	}
	b, err := signer.Sign(ctx, seal)
	if err != nil {
		return nil, fmt.Errorf("auditlog: sign seal of %d events (first %s of %s): %w", size, events[0].Kind, events[0].Subject, err)
	}
	// Every entry of the batch shares the media type and the seal: encoded once, the rest per
	// entry (encoding/json would re-validate the seal for each).
	if !json.Valid(b.Data) {
		return nil, fmt.Errorf("auditlog: the signer returned a seal bundle that is not JSON")
	}
	var shared bytes.Buffer
	shared.WriteString(`,"seal":`)
	if err := json.Compact(&shared, b.Data); err != nil {
		return nil, err
	}
	entries := make([][]byte, len(events))
	for i := range events {
		ids, err := proof.Inclusion(uint64(i), size)
		if err != nil {
			return nil, err
		}
		hashes := make([][]byte, len(ids.IDs))
		for k, id := range ids.IDs {
			hashes[k] = nodes[id]
		}
		path, err := ids.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
		if err != nil {
			return nil, err
		}
		entries[i] = encodeEntry(statements[i], shared.Bytes(), uint64(i), size, path)
	}
	return entries, nil
}

// encodeEntry writes an entry as entryWire would marshal, with the seal pre-encoded.
func encodeEntry(statement, seal []byte, index, size uint64, path [][]byte) []byte {
	enc := base64.StdEncoding
	out := make([]byte, 0, 64+enc.EncodedLen(len(statement))+len(seal)+len(path)*48)
	out = append(out, `{"mediaType":"`+EntryMediaType+`","event":"`...)
	out = enc.AppendEncode(out, statement)
	out = append(out, '"')
	out = append(out, seal...)
	out = append(out, `,"index":`...)
	out = strconv.AppendUint(out, index, 10)
	out = append(out, `,"size":`...)
	out = strconv.AppendUint(out, size, 10)
	out = append(out, `,"proof":[`...)
	for k, h := range path {
		if k > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = enc.AppendEncode(out, h)
		out = append(out, '"')
	}
	return append(out, "]}"...)
}

// openedEntry is an entry parsed and its seal's signed root recomputed, before verification.
type openedEntry struct {
	statement []byte
	seal      provenance.Bundle
	root      digest.Digest
	size      uint64
}

// openEntry parses entry data and recomputes the root its seal must sign.
func openEntry(data []byte) (*openedEntry, error) {
	if len(data) > MaxEntryBytes {
		return nil, &provenance.SizeError{What: "audit log entry", Limit: MaxEntryBytes, Size: int64(len(data))}
	}
	var w entryWire
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("malformed entry: %w", err)
	}
	if dec.More() {
		return nil, errors.New("malformed entry: data after the object")
	}
	switch {
	case w.MediaType != EntryMediaType:
		return nil, fmt.Errorf("media type %q, want %q", w.MediaType, EntryMediaType)
	case len(w.Event) == 0 || len(w.Seal) == 0:
		return nil, errors.New("entry lacks its event or its seal")
	case w.Size == 0 || w.Size > MaxSealedEvents || w.Index >= w.Size:
		return nil, fmt.Errorf("position %d in a batch of %d (at most %d)", w.Index, w.Size, MaxSealedEvents)
	case len(w.Proof) > maxProofDepth:
		return nil, fmt.Errorf("inclusion proof of %d hashes (at most %d)", len(w.Proof), maxProofDepth)
	}
	root, err := proof.RootFromInclusionProof(rfc6962.DefaultHasher, w.Index, w.Size, rfc6962.DefaultHasher.HashLeaf(w.Event), w.Proof)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof in the batch: %w", err)
	}
	return &openedEntry{statement: w.Event, root: digest.NewDigestFromBytes(digest.SHA256, root), size: w.Size,
		seal: provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: w.Seal, PredicateType: SealPredicateType}}, nil
}
