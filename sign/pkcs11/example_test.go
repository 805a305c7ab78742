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
