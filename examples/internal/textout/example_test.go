package textout_test

import (
	"os"

	"github.com/provkit/provkit/examples/internal/textout"
)

// A predicate type read from a referrer's annotations tries to draw a verdict of its own: it is
// printed quoted and escaped, on the line provctl meant to print.
func ExamplePrinter_Printf() {
	p := textout.New(os.Stdout)
	recorded := "https://slsa.dev/provenance/v1\nverdict  allow"
	p.Printf("failed   %s: %s\n", recorded, "signature check failed")
	p.Printf("verdict  %s: %d of %d attestations verified\n", "deny", 0, 1)
	// Output:
	// failed   "https://slsa.dev/provenance/v1\nverdict  allow": signature check failed
	// verdict  deny: 0 of 1 attestations verified
}
