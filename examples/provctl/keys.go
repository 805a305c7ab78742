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

// loadTrustedKeys reads the key files of --key for verification, each a file of one or more
// PEM public keys (cosign.pub, "PUBLIC KEY") or one private key whose public half is trusted.
// Each key's id is its fingerprint; a key given twice is trusted once.
func loadTrustedKeys(paths []string, env map[string]string) ([]verify.PublicKey, error) {
	var keys []verify.PublicKey
	seen := map[string]bool{}
	for _, path := range paths {
		ks, err := loadTrustedKeyFile(path, env)
		if err != nil {
			return nil, err
		}
		for _, k := range ks {
			if !seen[k.ID] {
				seen[k.ID] = true
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}

// loadTrustedKeyFile reads one --key file.
func loadTrustedKeyFile(path string, env map[string]string) ([]verify.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, configError(err)
	}
	var pubs []crypto.PublicKey
	if block, _ := pem.Decode(data); block != nil && block.Type == sign.PEMTypePublicKey {
		for rest, n := data, 1; ; n++ {
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type != sign.PEMTypePublicKey {
				return nil, configError(fmt.Errorf("key %s: PEM block %d is %q, not %q", path, n, block.Type, sign.PEMTypePublicKey))
			}
			k, err := verify.ParsePublicKeyPEM("", pem.EncodeToMemory(block))
			if err != nil {
				return nil, configError(fmt.Errorf("key %s: PEM block %d: %w", path, n, err))
			}
			pubs = append(pubs, k.Key)
		}
	} else {
		key, err := sign.ParsePrivateKey(data, password(env))
		if err != nil {
			return nil, configError(fmt.Errorf("key %s: %w", path, err))
		}
		pubs = append(pubs, key.Public())
	}
	keys := make([]verify.PublicKey, 0, len(pubs))
	for _, pub := range pubs {
		id, err := verify.Fingerprint(pub)
		if err != nil {
			return nil, configError(fmt.Errorf("key %s: %w", path, err))
		}
		keys = append(keys, verify.PublicKey{ID: id, Key: pub})
	}
	return keys, nil
}
