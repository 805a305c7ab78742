package tpm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/google/go-attestation/attest"
	digest "github.com/opencontainers/go-digest"
)

// TPM is an open TPM 2.0 that makes quotes bound to statement digests. It is safe for
// concurrent use: commands to the TPM are serialised. After a context ends in the middle of a
// command the command stream may be out of step, so the TPM refuses further work: Close it and
// Open the connection again.
type TPM struct {
	mu     sync.Mutex
	rwc    io.ReadWriteCloser
	at     *attest.TPM
	ak     *attest.AK
	akPub  []byte
	broken error
	closed bool
}

// commandChannel lets go-attestation speak raw TPM 2.0 commands over any stream.
type commandChannel struct{ io.ReadWriteCloser }

// MeasurementLog implements attest.CommandChannelTPM20. A bare command channel has no event
// log, and this package quotes PCRs without one.
func (commandChannel) MeasurementLog() ([]byte, error) {
	return nil, errors.New("tpm: no measurement log over a command channel")
}

// Open takes a stream that carries raw TPM 2.0 commands and responses (for example a
// net.Conn to swtpm's server port, or an opened /dev/tpmrm0) and checks that a TPM 2.0
// answers on it. The TPM owns conn from then on: Close closes it. If conn has a SetDeadline
// method (as a net.Conn does), each call's context deadline and cancellation apply to it.
func Open(ctx context.Context, conn io.ReadWriteCloser) (*TPM, error) {
	if conn == nil {
		return nil, errors.New("tpm: open: nil connection")
	}
	at, err := attest.OpenTPM(&attest.OpenConfig{CommandChannel: commandChannel{conn}})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("tpm: open: %w", err)
	}
	t := &TPM{rwc: conn, at: at}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.do(ctx, func() error {
		_, err := at.Info()
		return err
	}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("tpm: open: no TPM 2.0 answers: %w", err)
	}
	return t, nil
}

// Close flushes the attestation key from the TPM and closes the connection. It is safe to call
// more than once.
func (t *TPM) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	var errs []error
	if t.ak != nil && t.broken == nil {
		errs = append(errs, t.ak.Close(t.at))
	}
	errs = append(errs, t.at.Close())
	return errors.Join(errs...)
}

// AKPublic returns the TPMT_PUBLIC area of this TPM's attestation key, creating the key on
// first use. Record it (after checking the key's certification, see the package
// documentation) and give ParseAKPublic's result to Verify. The key lives as long as the TPM
// value: a new TPM value makes a new key.
func (t *TPM) AKPublic(ctx context.Context) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.ensureAK(ctx); err != nil {
		return nil, err
	}
	return bytes.Clone(t.akPub), nil
}

// AKBlob returns this TPM's attestation key as an opaque blob, its private part encrypted by
// the TPM under its storage root key, creating the key on first use. Keep it beside the
// enrolment record: LoadAK on a later TPM value of the same TPM quotes with the same key, so
// the AK a verifier enrolled once keeps verifying. The blob is of no use with another TPM.
func (t *TPM) AKBlob(ctx context.Context) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.ensureAK(ctx); err != nil {
		return nil, err
	}
	var blob []byte
	err := t.do(ctx, func() error {
		var err error
		blob, err = t.ak.Marshal()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tpm: save attestation key: %w", err)
	}
	return blob, nil
}

// LoadAK makes the attestation key saved in blob (by AKBlob, on this TPM) the key this TPM
// value quotes with. It fails, leaving the TPM value without a key, when the TPM cannot load
// the blob (another TPM's, or corrupt) or when a key is already in use.
func (t *TPM) LoadAK(ctx context.Context, blob []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errors.New("tpm: closed")
	}
	if t.ak != nil {
		return errors.New("tpm: load attestation key: this TPM value already has one")
	}
	return t.do(ctx, func() error {
		ak, err := t.at.LoadAK(blob)
		if err != nil {
			return fmt.Errorf("tpm: load attestation key: %w", err)
		}
		pub := ak.AttestationParameters().Public
		if _, err := ParseAKPublic(pub); err != nil {
			ak.Close(t.at)
			return fmt.Errorf("tpm: the loaded attestation key: %w", err)
		}
		t.ak, t.akPub = ak, pub
		return nil
	})
}

// Quote makes a TPM quote over the given sha256 PCRs (0 to 23, any order, no repeats) whose
// nonce is statement's raw digest bytes, signed by this TPM's attestation key (created on
// first use, then reused). It reads the PCR values after the quote and checks that they are
// the ones the quote covers, retrying if a PCR was extended in between.
func (t *TPM) Quote(ctx context.Context, statement digest.Digest, pcrs []int) (*Quote, error) {
	nonce, err := nonceOf(statement)
	if err != nil {
		return nil, err
	}
	sel, err := selection(pcrs)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.ensureAK(ctx); err != nil {
		return nil, err
	}
	const attempts = 3
	for range attempts {
		q, err := t.quoteOnce(ctx, nonce, sel)
		if err != nil {
			return nil, err
		}
		if _, err := q.verifyDigest(); err == nil {
			return q, nil
		} else if !errors.Is(err, ErrPCRMismatch) {
			return nil, fmt.Errorf("tpm: quote for %s: %w", statement, err)
		}
	}
	return nil, fmt.Errorf("tpm: quote for %s: PCRs %v changed between the quote and reading them, %d times", statement, sel, attempts)
}

func (t *TPM) quoteOnce(ctx context.Context, nonce []byte, sel []int) (*Quote, error) {
	var aq *attest.Quote
	var all []attest.PCR
	err := t.do(ctx, func() error {
		var err error
		if aq, err = t.ak.QuotePCRs(t.at, nonce, attest.HashSHA256, sel); err != nil {
			return fmt.Errorf("quote: %w", err)
		}
		if all, err = t.at.PCRs(attest.HashSHA256); err != nil {
			return fmt.Errorf("read PCRs: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tpm: %w", err)
	}
	byIndex := make(map[int][]byte, len(all))
	for _, p := range all {
		byIndex[p.Index] = p.Digest
	}
	q := &Quote{
		AKPublic:  bytes.Clone(t.akPub),
		Attest:    aq.Quote,
		Signature: aq.Signature,
		Bank:      BankSHA256,
		Nonce:     bytes.Clone(nonce),
		PCRs:      make([]PCR, len(sel)),
	}
	for i, idx := range sel {
		d, ok := byIndex[idx]
		if !ok {
			return nil, fmt.Errorf("tpm: the TPM has no sha256 PCR %d", idx)
		}
		q.PCRs[i] = PCR{Index: idx, Digest: bytes.Clone(d)}
	}
	return q, nil
}

// verifyDigest checks the quote's PCR digest against its PCR values without a key: Quote uses
// it to catch a PCR extended between quoting and reading.
func (q *Quote) verifyDigest() (*Verified, error) {
	key, err := ParseAKPublic(q.AKPublic)
	if err != nil {
		return nil, err
	}
	return verify(q, key, q.Nonce, "the requested nonce")
}

// ensureAK creates the attestation key on first use. t.mu is held.
func (t *TPM) ensureAK(ctx context.Context) error {
	if t.closed {
		return errors.New("tpm: closed")
	}
	if t.ak != nil {
		return nil
	}
	return t.do(ctx, func() error {
		ak, err := t.at.NewAK(nil)
		if err != nil {
			return fmt.Errorf("tpm: create attestation key: %w", err)
		}
		pub := ak.AttestationParameters().Public
		if _, err := ParseAKPublic(pub); err != nil {
			ak.Close(t.at)
			return fmt.Errorf("tpm: the new attestation key: %w", err)
		}
		t.ak, t.akPub = ak, pub
		return nil
	})
}

// do runs f against the TPM under ctx. t.mu is held.
func (t *TPM) do(ctx context.Context, f func() error) error {
	if t.closed {
		return errors.New("tpm: closed")
	}
	if t.broken != nil {
		return fmt.Errorf("tpm: unusable after an interrupted command (%v): close it and open again", t.broken)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dl, ok := t.rwc.(interface{ SetDeadline(time.Time) error })
	if ok {
		if d, has := ctx.Deadline(); has {
			dl.SetDeadline(d)
		}
		stop := context.AfterFunc(ctx, func() { dl.SetDeadline(time.Unix(1, 0)) })
		defer func() {
			stop()
			dl.SetDeadline(time.Time{})
		}()
	}
	err := f()
	if err != nil && ctx.Err() != nil {
		t.broken = ctx.Err()
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}

// selection validates and sorts the requested PCR indices.
func selection(pcrs []int) ([]int, error) {
	if len(pcrs) == 0 {
		return nil, errors.New("tpm: quote: no PCRs selected")
	}
	sel := append([]int(nil), pcrs...)
	sort.Ints(sel)
	for i, p := range sel {
		if p < 0 || p >= numPCRs {
			return nil, fmt.Errorf("tpm: quote: PCR %d out of range 0..%d", p, numPCRs-1)
		}
		if i > 0 && sel[i-1] == p {
			return nil, fmt.Errorf("tpm: quote: PCR %d selected twice", p)
		}
	}
	return sel, nil
}
