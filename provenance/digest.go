package provenance

import (
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
)

// identifyingAlgorithms maps each in-toto DigestSet algorithm whose value identifies an artifact
// to the length of its value in hexadecimal. These are the collision-resistant hashes of at
// least 256 bits with a fixed output length. md5, sha1, sha224, the git object names, dirHash
// and every algorithm not listed here never identify an artifact: anyone can make a second
// artifact with the same weak digest, and an unknown name carries no meaning to check.
var identifyingAlgorithms = map[string]int{
	"sha256":     64,
	"sha384":     96,
	"sha512":     128,
	"sha512_256": 64,
	"sha3_256":   64,
	"sha3_384":   96,
	"sha3_512":   128,
	"blake2b":    128, // BLAKE2b-512, as the in-toto digest set names it
	"blake2s":    64,  // BLAKE2s-256
}

// IdentifyingAlgorithm reports whether digests of algorithm alg (an in-toto DigestSet name such
// as "sha256") identify an artifact. Only these take part in matching a subject, pinning a
// dependency, or joining two descriptors into one artifact.
func IdentifyingAlgorithm(alg string) bool {
	_, ok := identifyingAlgorithms[alg]
	return ok
}

// NormalizeDigest returns the digest alg:value in its one canonical form, lower-case hex, after
// checking that alg identifies an artifact (see IdentifyingAlgorithm) and that value is
// hexadecimal of that algorithm's length. Verification, policy, the lineage graph and the index
// all compare digests in this form, so "SHA256"-style upper-case values and the same digest
// written twice compare equal, and nothing else does. The error is a *DigestError.
func NormalizeDigest(alg, value string) (digest.Digest, error) {
	n, ok := identifyingAlgorithms[alg]
	if !ok {
		return "", &DigestError{Algorithm: alg, Reason: "algorithm does not identify an artifact"}
	}
	if len(value) != n {
		return "", &DigestError{Algorithm: alg, Value: value, Reason: fmt.Sprintf("want %d hexadecimal digits, have %d characters", n, len(value))}
	}
	for i := 0; i < len(value); i++ {
		if !isHex(value[i]) {
			return "", &DigestError{Algorithm: alg, Value: value, Reason: "not hexadecimal"}
		}
	}
	return digest.Digest(alg + ":" + strings.ToLower(value)), nil
}

// ParseDigest parses a digest written "alg:value", as OCI and users write them, and returns it
// normalised as NormalizeDigest does. The error is a *DigestError.
func ParseDigest(s string) (digest.Digest, error) {
	alg, value, ok := strings.Cut(s, ":")
	if !ok {
		return "", &DigestError{Value: s, Reason: `not of the form "algorithm:value"`}
	}
	return NormalizeDigest(alg, value)
}

// IdentifyingDigests returns the digests of a DigestSet that identify an artifact, normalised and
// sorted. Entries of other algorithms are left out: they neither identify nor conflict. An
// identifying algorithm with a malformed value is an error (a *DigestError), not skipped: the
// descriptor that carries it is malformed. A set with no identifying digest returns an empty
// slice and no error; callers decide whether that is acceptable.
func IdentifyingDigests(set map[string]string) ([]digest.Digest, error) {
	var out []digest.Digest
	for alg, value := range set {
		if !IdentifyingAlgorithm(alg) {
			continue
		}
		d, err := NormalizeDigest(alg, value)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return out, nil
}

// HasDigest reports whether the DigestSet set names d, comparing normalised values: d must
// identify an artifact, and set must hold the same algorithm with the same value in any case.
func HasDigest(set map[string]string, d digest.Digest) bool {
	want, err := ParseDigest(string(d))
	if err != nil {
		return false
	}
	value, ok := set[string(want.Algorithm())]
	if !ok {
		return false
	}
	got, err := NormalizeDigest(string(want.Algorithm()), value)
	return err == nil && got == want
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
