//go:build cgo

package pkcs11_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/provkit/provkit/sign/pkcs11"
)

func TestParseURI(t *testing.T) {
	slot := func(n int) *int { return &n }
	tests := []struct {
		name string
		uri  string
		want pkcs11.Config
	}{
		{
			name: "token, object, module and PIN",
			uri:  "pkcs11:token=release;object=provenance?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234",
			want: pkcs11.Config{Module: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "release", PIN: "1234", KeyLabel: "provenance"},
		},
		{
			name: "slot, id and type",
			uri:  "pkcs11:slot-id=7;id=%01%ff;type=private",
			want: pkcs11.Config{Slot: slot(7), KeyID: []byte{0x01, 0xff}},
		},
		{
			name: "percent-encoded label",
			uri:  "pkcs11:token=My%20Token;object=a%3Bb",
			want: pkcs11.Config{TokenLabel: "My Token", KeyLabel: "a;b"},
		},
		{
			name: "public half named",
			uri:  "pkcs11:token=t;object=k;type=public",
			want: pkcs11.Config{TokenLabel: "t", KeyLabel: "k"},
		},
		{name: "empty", uri: "pkcs11:", want: pkcs11.Config{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pkcs11.ParseURI(tc.uri)
			if err != nil {
				t.Fatalf("ParseURI(%q): %v", tc.uri, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseURI(%q) = %+v, want %+v", tc.uri, got, tc.want)
			}
		})
	}
}

func TestParseURIErrors(t *testing.T) {
	const pin = "s3cr3t-pin"
	tests := []struct {
		name string
		uri  string
	}{
		{name: "other scheme", uri: "awskms:///key"},
		{name: "no scheme", uri: "token=x"},
		{name: "unknown path attribute", uri: "pkcs11:token=x;serial=123?pin-value=" + pin},
		{name: "unknown query attribute", uri: "pkcs11:token=x?pin-value=" + pin + "&max-sessions=3"},
		{name: "pin-source", uri: "pkcs11:token=x?pin-source=file:/etc/pin"},
		{name: "module-name", uri: "pkcs11:token=x?module-name=softhsm2"},
		{name: "repeated attribute", uri: "pkcs11:token=x;token=y?pin-value=" + pin},
		{name: "bad escape", uri: "pkcs11:token=%zz?pin-value=" + pin},
		{name: "bad escape in PIN", uri: "pkcs11:token=x?pin-value=" + pin + "%g"},
		{name: "no value", uri: "pkcs11:token"},
		{name: "slot not a number", uri: "pkcs11:slot-id=first"},
		{name: "negative slot", uri: "pkcs11:slot-id=-1"},
		{name: "type secret-key", uri: "pkcs11:object=k;type=secret-key"},
		{name: "name in upper case", uri: "pkcs11:TOKEN=x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := pkcs11.ParseURI(tc.uri)
			if !errors.Is(err, pkcs11.ErrInvalidURI) {
				t.Fatalf("ParseURI(%q) = %+v, %v; want ErrInvalidURI", tc.uri, cfg, err)
			}
			if strings.Contains(err.Error(), pin) {
				t.Fatalf("error %q shows the PIN", err)
			}
		})
	}
}

func TestParseURIOpen(t *testing.T) {
	tok := newToken(t)
	pubs := tok.generate(t, keySpec{label: "release key", id: []byte{0xa1}, curve: elliptic.P256()})
	cfg, err := pkcs11.ParseURI(fmt.Sprintf("pkcs11:token=%s;object=release%%20key;id=%%a1?module-path=%s&pin-value=%s", tok.label, tok.module, tok.pin))
	if err != nil {
		t.Fatal(err)
	}
	k := openKey(t, cfg)
	d := digest(crypto.SHA256, []byte("uri"))
	sig, err := k.Sign(rand.Reader, d, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(pubs[0].(*ecdsa.PublicKey), d, sig) {
		t.Fatal("signature does not verify")
	}
}
