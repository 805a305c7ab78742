package sign

import (
	"encoding/json"
	"fmt"

	"github.com/provkit/provkit/provenance"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
)

// Envelope returns the bare DSSE envelope inside a Sigstore bundle, as a Bundle of media type
// provenance.MediaTypeDSSE whose Data is the envelope's JSON ({"payloadType", "payload",
// "signatures": [{"keyid", "sig"}]}, payload and signatures base64-encoded). Tools that read
// ".intoto.jsonl" files expect one such envelope per line: write Data followed by a newline.
// The envelope carries no certificate, timestamp or log entry: keep the bundle for verification.
//
// b is parsed with sigstore-go's bundle reader; nothing is verified. Bundles over
// provenance.MaxBundleBytes fail with a *provenance.SizeError, anything not a bundle holding a
// DSSE envelope with an error wrapping ErrInvalidBundle. A b that already is a bare envelope is
// checked and returned as is.
func Envelope(b provenance.Bundle) (provenance.Bundle, error) {
	if len(b.Data) > provenance.MaxBundleBytes {
		return provenance.Bundle{}, &provenance.SizeError{What: "bundle", Limit: provenance.MaxBundleBytes, Size: int64(len(b.Data))}
	}
	if b.MediaType == provenance.MediaTypeDSSE {
		var env struct {
			PayloadType string            `json:"payloadType"`
			Payload     []byte            `json:"payload"`
			Signatures  []json.RawMessage `json:"signatures"`
		}
		if err := json.Unmarshal(b.Data, &env); err != nil {
			return provenance.Bundle{}, fmt.Errorf("%w: DSSE envelope: %v", ErrInvalidBundle, err)
		}
		if env.PayloadType == "" || len(env.Signatures) == 0 {
			return provenance.Bundle{}, fmt.Errorf("%w: DSSE envelope without payload type or signatures", ErrInvalidBundle)
		}
		return b, nil
	}
	var sb sgbundle.Bundle
	if err := sb.UnmarshalJSON(b.Data); err != nil {
		return provenance.Bundle{}, fmt.Errorf("%w: %v", ErrInvalidBundle, err)
	}
	env, err := sb.Envelope()
	if err != nil {
		return provenance.Bundle{}, fmt.Errorf("%w: %v", ErrInvalidBundle, err)
	}
	data, err := json.Marshal(env.Envelope)
	if err != nil {
		return provenance.Bundle{}, fmt.Errorf("%w: encode envelope: %v", ErrInvalidBundle, err)
	}
	return provenance.Bundle{MediaType: provenance.MediaTypeDSSE, Data: data, PredicateType: b.PredicateType}, nil
}
