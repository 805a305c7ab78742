//go:build cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ThalesGroup/crypto11"
	p11 "github.com/miekg/pkcs11"
)

// Config selects a PKCS#11 module, a token in it and a key pair on the token.
type Config struct {
	// Module is the path of the PKCS#11 module, a shared library such as
	// /usr/lib/softhsm/libsofthsm2.so. Required.
	Module string
	// TokenLabel selects the token by its label. Give exactly one of TokenLabel and Slot.
	TokenLabel string
	// Slot selects the token by the number of the slot holding it.
	Slot *int
	// PIN is the user PIN that logs in to the token. It is passed to the module and kept by
	// it for the life of the Key; it is never read from the environment and never appears in
	// errors.
	PIN string
	// KeyLabel selects the key pair by CKA_LABEL. Give KeyLabel, KeyID or both; a key pair
	// must match all that are given.
	KeyLabel string
	// KeyID selects the key pair by CKA_ID.
	KeyID []byte
	// MaxSessions caps the sessions opened on the token, at least 2; zero means crypto11's
	// default (1024, or fewer if the token allows fewer). Each concurrent Sign uses one.
	MaxSessions int
}

func (c *Config) validate() error {
	var problems []string
	if c.Module == "" {
		problems = append(problems, "no module path")
	}
	switch {
	case c.TokenLabel == "" && c.Slot == nil:
		problems = append(problems, "no token label or slot")
	case c.TokenLabel != "" && c.Slot != nil:
		problems = append(problems, "both a token label and a slot")
	case c.Slot != nil && *c.Slot < 0:
		problems = append(problems, fmt.Sprintf("negative slot %d", *c.Slot))
	}
	if c.KeyLabel == "" && len(c.KeyID) == 0 {
		problems = append(problems, "no key label or id")
	}
	if c.MaxSessions == 1 || c.MaxSessions < 0 {
		problems = append(problems, fmt.Sprintf("MaxSessions %d (want 0 or at least 2)", c.MaxSessions))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(problems, ", "))
	}
	return nil
}

func (c *Config) tokenName() string {
	switch {
	case c.TokenLabel != "":
		return fmt.Sprintf("label %q", c.TokenLabel)
	case c.Slot != nil:
		return fmt.Sprintf("slot %d", *c.Slot)
	}
	return ""
}

func (c *Config) keyName() string {
	var parts []string
	if c.KeyLabel != "" {
		parts = append(parts, fmt.Sprintf("label %q", c.KeyLabel))
	}
	if len(c.KeyID) > 0 {
		parts = append(parts, "id "+hex.EncodeToString(c.KeyID))
	}
	return strings.Join(parts, " ")
}

func (c *Config) errorf(op string, err error) *Error {
	return &Error{Op: op, Module: c.Module, Token: c.tokenName(), Key: c.keyName(), Err: err}
}

// Key is a key pair on a PKCS#11 token: a crypto.Signer whose private key stays on the token,
// and an io.Closer. A Key is safe for concurrent use; concurrent signatures use separate
// sessions, up to Config.MaxSessions.
type Key struct {
	cfg    Config
	ctx    *crypto11.Context
	signer crypto11.Signer
	pub    crypto.PublicKey

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var (
	_ crypto.Signer = (*Key)(nil)
	_ io.Closer     = (*Key)(nil)
)

// Open loads cfg.Module, logs in to the token with cfg.PIN and finds the one key pair that
// matches cfg.KeyLabel and cfg.KeyID. The caller must Close the Key.
//
// PKCS#11 calls cannot be interrupted: if ctx is done first, Open returns ctx's error at once
// and closes the abandoned session when the module returns.
func Open(ctx context.Context, cfg Config) (*Key, error) {
	cfg.KeyID = append([]byte(nil), cfg.KeyID...)
	if cfg.Slot != nil {
		slot := *cfg.Slot
		cfg.Slot = &slot
	}
	if err := cfg.validate(); err != nil {
		return nil, cfg.errorf("open", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, cfg.errorf("open", err)
	}
	type result struct {
		key *Key
		err error
	}
	done := make(chan result, 1)
	go func() {
		k, err := open(cfg)
		done <- result{k, err}
	}()
	select {
	case r := <-done:
		return r.key, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.key != nil {
				_ = r.key.Close()
			}
		}()
		return nil, cfg.errorf("open", ctx.Err())
	}
}

func open(cfg Config) (*Key, error) {
	if _, err := os.Stat(cfg.Module); err != nil {
		return nil, cfg.errorf("open", fmt.Errorf("%w: %w", ErrModule, err))
	}
	c, err := crypto11.Configure(&crypto11.Config{
		Path:        cfg.Module,
		TokenLabel:  cfg.TokenLabel,
		SlotNumber:  cfg.Slot,
		Pin:         cfg.PIN,
		MaxSessions: cfg.MaxSessions,
	})
	if err != nil {
		return nil, cfg.errorf("open", classifyConfigure(err))
	}
	k, err := findKey(c, cfg)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return k, nil
}

func findKey(c *crypto11.Context, cfg Config) (*Key, error) {
	var label []byte
	if cfg.KeyLabel != "" {
		label = []byte(cfg.KeyLabel)
	}
	var id []byte
	if len(cfg.KeyID) > 0 {
		id = cfg.KeyID
	}
	signers, err := c.FindKeyPairs(id, label)
	if err != nil {
		return nil, cfg.errorf("open", classify(err))
	}
	switch len(signers) {
	case 0:
		return nil, cfg.errorf("open", ErrKeyNotFound)
	case 1:
	default:
		return nil, cfg.errorf("open", fmt.Errorf("%w: %d key pairs", ErrAmbiguousKey, len(signers)))
	}
	pub := signers[0].Public()
	switch pub.(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey:
	default:
		return nil, cfg.errorf("open", fmt.Errorf("%w: %T", ErrUnsupportedKey, pub))
	}
	cfg.PIN = ""
	return &Key{cfg: cfg, ctx: c, signer: signers[0], pub: pub}, nil
}

// Public returns the public key of the key pair.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// Sign signs digest on the token. opts.HashFunc() names the hash that made digest; for RSA
// keys, *rsa.PSSOptions selects PSS and anything else PKCS#1 v1.5. ECDSA signatures are ASN.1
// DER. The random source is unused: the token supplies its own randomness.
func (k *Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if k.closed.Load() {
		return nil, k.cfg.errorf("sign", ErrClosed)
	}
	if h := opts.HashFunc(); h != 0 && len(digest) != h.Size() {
		return nil, k.cfg.errorf("sign", fmt.Errorf("%d-byte digest for %v, which makes %d bytes", len(digest), h, h.Size()))
	}
	sig, err := k.signer.Sign(nil, digest, opts)
	if err != nil {
		if k.closed.Load() {
			return nil, k.cfg.errorf("sign", fmt.Errorf("%w: %w", ErrClosed, err))
		}
		return nil, k.cfg.errorf("sign", classify(err))
	}
	return sig, nil
}

// Close logs out, closes the sessions and unloads the module once no other Key uses it. It
// waits for signatures in progress. Close is idempotent; Sign after Close fails with ErrClosed.
func (k *Key) Close() error {
	k.closeOnce.Do(func() {
		k.closed.Store(true)
		if err := k.ctx.Close(); err != nil {
			k.closeErr = k.cfg.errorf("close", err)
		}
	})
	return k.closeErr
}

// tokenNotFound is the text of crypto11's unexported error for a token that no slot holds;
// TestOpenErrors checks that it still matches.
const tokenNotFound = "could not find PKCS#11 token"

// classifyConfigure maps an error of crypto11.Configure to a sentinel, keeping the cause.
func classifyConfigure(err error) error {
	msg := err.Error()
	switch {
	case msg == tokenNotFound:
		return fmt.Errorf("%w: %w", ErrTokenNotFound, err)
	case strings.HasPrefix(msg, "failed to create module context"):
		return fmt.Errorf("%w: %w", ErrModule, err)
	}
	return classify(err)
}

// classify maps a PKCS#11 return value to a sentinel, keeping the cause.
func classify(err error) error {
	var rv p11.Error
	if !errors.As(err, &rv) {
		return err
	}
	switch rv {
	case p11.CKR_PIN_INCORRECT, p11.CKR_PIN_INVALID, p11.CKR_PIN_LEN_RANGE:
		return fmt.Errorf("%w: %w", ErrIncorrectPIN, err)
	case p11.CKR_PIN_LOCKED:
		return fmt.Errorf("%w: %w", ErrPINLocked, err)
	case p11.CKR_SLOT_ID_INVALID, p11.CKR_TOKEN_NOT_PRESENT:
		return fmt.Errorf("%w: %w", ErrTokenNotFound, err)
	}
	return err
}
