// Package setup holds the set-up that the admission and promote examples share: a verifier that
// trusts one public key file, a policy file, and registry references.
package setup

import (
	"fmt"
	"os"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/verify"
)

// KeyID is the id under which KeyVerifier trusts its key.
const KeyID = "trusted"

// KeyVerifier returns a verifier that trusts the public key in path (cosign.pub or PEM) under
// KeyID. insecureIgnoreTlog accepts key signatures with no transparency-log entry or timestamp.
func KeyVerifier(path string, insecureIgnoreTlog bool) (*verify.Verifier, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := verify.ParsePublicKeyPEM(KeyID, data)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	keys, err := verify.TrustedKeys(key)
	if err != nil {
		return nil, err
	}
	var opts []verify.Option
	if insecureIgnoreTlog {
		opts = append(opts, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	}
	return verify.New(keys, opts...)
}

// LoadPolicy reads and compiles the policy file at path.
func LoadPolicy(path string) (*policy.Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pol, err := policy.Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pol, nil
}

// OpenRemote opens the registry repository repo, over plain HTTP when asked (loopback only).
func OpenRemote(repo string, plainHTTP bool) (*oras.Store, error) {
	var opts []oras.Option
	if plainHTTP {
		opts = append(opts, oras.WithPlainHTTPUnsafe())
	}
	return oras.NewRemote(repo, opts...)
}

// SplitReference splits a registry reference, host[:port]/repo[:tag|@digest], into the
// repository and the tag or digest, parsing it with oras.ParseReference; a reference with
// neither means the tag "latest". OCI layouts are refused: these examples gate registries.
func SplitReference(s string) (repo, ref string, err error) {
	r, err := oras.ParseReference(s)
	if err != nil {
		return "", "", err
	}
	if r.Repository == "" {
		return "", "", fmt.Errorf("reference %q: want host[:port]/repo[:tag|@digest], not a layout", s)
	}
	ref = r.TagOrDigest()
	if ref == "" {
		ref = "latest"
	}
	return r.Registry + "/" + r.Repository, ref, nil
}
