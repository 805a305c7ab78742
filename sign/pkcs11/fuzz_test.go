//go:build cgo

package pkcs11_test

import (
	"errors"
	"testing"

	"github.com/provkit/provkit/sign/pkcs11"
)

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"pkcs11:token=release;object=provenance?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234",
		"pkcs11:slot-id=7;id=%01%ff;type=private",
		"pkcs11:token=My%20Token;object=a%3Bb",
		"pkcs11:", "pkcs11:;;", "pkcs11:?&", "pkcs11:token=%", "pkcs11:slot-id=99999999999",
		"pkcs11:token=x?pin-source=file:/etc/pin", "awskms:///key",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		cfg, err := pkcs11.ParseURI(uri)
		if err != nil {
			if !errors.Is(err, pkcs11.ErrInvalidURI) {
				t.Fatalf("ParseURI(%q) error %v does not wrap ErrInvalidURI", uri, err)
			}
			return
		}
		if cfg.Slot != nil && *cfg.Slot < 0 {
			t.Fatalf("ParseURI(%q) gave negative slot %d", uri, *cfg.Slot)
		}
		if cfg.MaxSessions != 0 {
			t.Fatalf("ParseURI(%q) set MaxSessions", uri)
		}
	})
}
