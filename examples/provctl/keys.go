package main

import (
	"crypto"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

// Environment variables holding the password of encrypted private keys.
const (
	envPassword       = "PROVKIT_PASSWORD"
	envCosignPassword = "COSIGN_PASSWORD"
)

// password returns the key password: PROVKIT_PASSWORD when set (even empty), else
// COSIGN_PASSWORD, else empty, which cosign allows.
func password(env map[string]string) []byte {
	if p, ok := env[envPassword]; ok {
		return []byte(p)
	}
	return []byte(env[envCosignPassword])
}

// keyCmd runs "provctl key generate".
func keyCmd(args []string, stdout, stderr io.Writer, env map[string]string) error {
	if len(args) == 0 || args[0] != "generate" {
		return usagef("usage: provctl key generate --out PREFIX")
	}
	fset := newFlagSet("key generate", stderr, "key generate --out PREFIX")
	out := fset.String("out", "", "write `PREFIX`.key and PREFIX.pub (required)")
	if _, err := parseFlags(fset, args[1:], 0); err != nil {
		return err
	}
	if *out == "" {
		return usagef("key generate: --out is required")
	}
	keyPath, pubPath := *out+".key", *out+".pub"
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("key generate: %s exists; refusing to overwrite it", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	pair, err := sign.GenerateKeyPair(0, password(env))
	if err != nil {
		return fmt.Errorf("key generate: %w", err)
	}
	if err := os.WriteFile(keyPath, pair.PrivatePEM, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(pubPath, pair.PublicPEM, 0o644); err != nil {
		return err
	}
	return textout.New(stdout).Printf("Private key written to %s\nPublic key written to %s\n", keyPath, pubPath)
}

// loadSigner reads a private key file: cosign.key or a PEM private key.
func loadSigner(path string, env map[string]string) (crypto.Signer, error) {
	key, err := sign.LoadPrivateKey(path, password(env))
	if err != nil {
		return nil, configError(fmt.Errorf("key %s: %w", path, err))
	}
	return key, nil
}

// loadTrustedKey reads a key file for verification: a public key (cosign.pub, PEM "PUBLIC KEY")
// or a private key whose public half is trusted. The key's id is its fingerprint.
func loadTrustedKey(path string, env map[string]string) (verify.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return verify.PublicKey{}, configError(err)
	}
	var pub crypto.PublicKey
	if block, _ := pem.Decode(data); block != nil && block.Type == sign.PEMTypePublicKey {
		k, err := verify.ParsePublicKeyPEM("", data)
		if err != nil {
			return verify.PublicKey{}, configError(fmt.Errorf("key %s: %w", path, err))
		}
		pub = k.Key
	} else {
		key, err := sign.ParsePrivateKey(data, password(env))
		if err != nil {
			return verify.PublicKey{}, configError(fmt.Errorf("key %s: %w", path, err))
		}
		pub = key.Public()
	}
	id, err := verify.Fingerprint(pub)
	if err != nil {
		return verify.PublicKey{}, configError(fmt.Errorf("key %s: %w", path, err))
	}
	return verify.PublicKey{ID: id, Key: pub}, nil
}
