package kms

import (
	"errors"
	"strings"
	"testing"
)

func FuzzSplitURI(f *testing.F) {
	for _, s := range []string{
		"awskms:///arn:aws:kms:eu-west-1:111122223333:key/k",
		"gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
		"hashivault://key",
		"plugin://a://b",
		"://x", "x://", "no-scheme", "../x://y", "a b://c", "\x00://x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		scheme, ref, err := splitURI(uri)
		if err != nil {
			if !errors.Is(err, ErrInvalidURI) {
				t.Fatalf("splitURI(%q) error %v does not wrap ErrInvalidURI", uri, err)
			}
			return
		}
		if scheme+"://"+ref != uri {
			t.Fatalf("splitURI(%q) = %q, %q: does not rebuild the URI", uri, scheme, ref)
		}
		if scheme == "" || ref == "" || strings.ContainsAny(scheme, `/\: `) {
			t.Fatalf("splitURI(%q) accepted scheme %q, reference %q", uri, scheme, ref)
		}
	})
}
