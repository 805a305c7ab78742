package kms_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/provkit/provkit/sign/kms"
)

// Opening a key of a provider that the program did not blank-import fails with
// ErrProviderNotFound, naming the URI.
func ExampleOpen_providerNotImported() {
	_, err := kms.Open(context.Background(), "awskms:///arn:aws:kms:eu-west-1:111122223333:key/1234abcd")
	fmt.Println(errors.Is(err, kms.ErrProviderNotFound))
	var kerr *kms.Error
	if errors.As(err, &kerr) {
		fmt.Println(kerr.Op, kerr.URI)
	}
	// Output:
	// true
	// open awskms:///arn:aws:kms:eu-west-1:111122223333:key/1234abcd
}

// A key URI is scheme://reference; anything else is rejected before any provider is asked.
func ExampleOpen_invalidURI() {
	_, err := kms.Open(context.Background(), "arn:aws:kms:eu-west-1:111122223333:key/1234abcd")
	fmt.Println(err)
	fmt.Println(errors.Is(err, kms.ErrInvalidURI))
	// Output:
	// kms: open arn:aws:kms:eu-west-1:111122223333:key/1234abcd: invalid key URI: want scheme://reference
	// true
}
