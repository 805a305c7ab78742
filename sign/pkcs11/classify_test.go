//go:build cgo

package pkcs11

import (
	"errors"
	"fmt"
	"testing"

	p11 "github.com/miekg/pkcs11"
)

// TestClassify covers the mapping of module return values, including those SoftHSM2 never
// returns (it does not lock PINs), so ErrPINLocked is checked here and not end to end.
func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{name: "incorrect PIN", err: fmt.Errorf("log in: %w", p11.Error(p11.CKR_PIN_INCORRECT)), want: ErrIncorrectPIN},
		{name: "PIN of bad length", err: p11.Error(p11.CKR_PIN_LEN_RANGE), want: ErrIncorrectPIN},
		{name: "PIN locked", err: fmt.Errorf("log in: %w", p11.Error(p11.CKR_PIN_LOCKED)), want: ErrPINLocked},
		{name: "slot gone", err: p11.Error(p11.CKR_SLOT_ID_INVALID), want: ErrTokenNotFound},
		{name: "token removed", err: p11.Error(p11.CKR_TOKEN_NOT_PRESENT), want: ErrTokenNotFound},
		{name: "crypto11 token not found", err: errors.New(tokenNotFound), want: ErrTokenNotFound},
		{name: "module not loadable", err: fmt.Errorf("failed to create module context: %w", errors.New("failed to open module")), want: ErrModule},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := classifyConfigure(tc.err)
			if !errors.Is(got, tc.want) {
				t.Fatalf("classifyConfigure(%v) = %v, want %v", tc.err, got, tc.want)
			}
			if !errors.Is(got, tc.err) {
				t.Fatalf("classifyConfigure(%v) = %v dropped the cause", tc.err, got)
			}
		})
	}
	t.Run("other return value", func(t *testing.T) {
		err := p11.Error(p11.CKR_DEVICE_ERROR)
		if got := classify(err); got != error(err) {
			t.Fatalf("classify(%v) = %v, want it unchanged", err, got)
		}
	})
}
