package tpm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"

	digest "github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance/runtime/tpm"
)

// Verify a quote that travelled beside a runtime statement. The AK would come from an
// enrolment record; this example takes it from the quote only because it has no other.
func ExampleVerify() {
	raw, err := os.ReadFile("testdata/quote.json") // a quote swtpm made
	if err != nil {
		fmt.Println(err)
		return
	}
	q, err := tpm.ParseQuote(raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	ak, err := tpm.ParseAKPublic(q.AKPublic) // in production: the enrolled, certified AK
	if err != nil {
		fmt.Println(err)
		return
	}
	statementBytes := []byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://provkit.dev/runtime/v1"}`)
	v, err := tpm.Verify(q, ak, digest.FromBytes(statementBytes))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range v.PCRs {
		fmt.Printf("PCR %d: %x..\n", p.Index, p.Digest[:4])
	}

	_, err = tpm.Verify(q, ak, digest.FromString("some other statement"))
	fmt.Println(errors.Is(err, tpm.ErrNonceMismatch))
	// Output:
	// PCR 0: 00000000..
	// PCR 7: 00000000..
	// PCR 16: 4005ed8c..
	// true
}

// ParseQuote refuses anything but the documented shape.
func ExampleParseQuote() {
	_, err := tpm.ParseQuote([]byte(`{"quote": "", "extra": 1}`))
	fmt.Println(errors.Is(err, tpm.ErrMalformed))
	// Output: true
}

// Quote a runtime statement's digest on a TPM reached over TCP (swtpm's server port). This
// example needs a TPM, so it is compiled and not run.
func ExampleTPM_Quote() {
	ctx := context.Background()
	conn, err := net.Dial("tcp", "127.0.0.1:2321")
	if err != nil {
		fmt.Println(err)
		return
	}
	t, err := tpm.Open(ctx, conn)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer t.Close()
	statementBytes := []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)
	q, err := t.Quote(ctx, digest.FromBytes(statementBytes), []int{0, 1, 2, 3, 4, 5, 6, 7})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := json.Marshal(q) // store beside the statement, media type tpm.MediaType
	fmt.Println(len(b) > 0)
}
