//go:build cgo

package pkcs11_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/provkit/provkit/sign/pkcs11"
)

// A Config must select exactly one token and at least one key attribute; Open checks that
// before it loads the module.
func ExampleOpen_invalidConfig() {
	_, err := pkcs11.Open(context.Background(), pkcs11.Config{
		Module:   "/usr/lib/softhsm/libsofthsm2.so",
		PIN:      "1234",
		KeyLabel: "provenance",
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, pkcs11.ErrInvalidConfig))
	// Output:
	// pkcs11: open key label "provenance" (/usr/lib/softhsm/libsofthsm2.so): invalid configuration: no token label or slot
	// true
}

// A PKCS#11 URI, as cosign and p11-kit accept it, gives the whole Config.
func ExampleParseURI() {
	cfg, err := pkcs11.ParseURI("pkcs11:token=release;object=provenance;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Module)
	fmt.Println(cfg.TokenLabel, cfg.KeyLabel, cfg.KeyID)
	// Output:
	// /usr/lib/softhsm/libsofthsm2.so
	// release provenance [1]
}
