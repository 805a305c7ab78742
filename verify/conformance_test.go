package verify_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// conformanceVectors returns the directory of the shared conformance vectors (../shared of the
// repository root, found by walking up from the package), or skips.
func conformanceVectors(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		v := filepath.Join(dir, "shared", "conformance", "vectors")
		if st, err := os.Stat(v); err == nil && st.IsDir() {
			return v
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no shared/conformance/vectors above the repository")
		}
		dir = parent
	}
}

// TestThresholdsRekorV2Vector holds a real keyless bundle to the matrix of doc.go:
// sigstore-conformance's rekor2-dsse-happy-path has a Rekor v2 entry, which proves inclusion
// and dates nothing, and an RFC 3161 timestamp. Without its timestamp nothing dates the
// certificate; without its log entry it is a private deployment's bundle.
func TestThresholdsRekorV2Vector(t *testing.T) {
	dir := filepath.Join(conformanceVectors(t), "sigstore-conformance", "bundle-verify", "rekor2-dsse-happy-path")
	tr, err := verify.LoadTrustedRoot(filepath.Join(dir, "trusted_root.json"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "bundle.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	valid := &protobundle.Bundle{}
	if err := protojson.Unmarshal(data, valid); err != nil {
		t.Fatal(err)
	}
	// The statement's subject: bundle-verify/a.txt.
	subject := digest.Digest("sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf")
	variants := map[string]func(*protobundle.Bundle){
		"as published": func(*protobundle.Bundle) {},
		"no timestamp": func(pb *protobundle.Bundle) { pb.VerificationMaterial.TimestampVerificationData = nil },
		"no log entry": func(pb *protobundle.Bundle) { pb.VerificationMaterial.TlogEntries = nil },
		"neither of them": func(pb *protobundle.Bundle) {
			pb.VerificationMaterial.TlogEntries, pb.VerificationMaterial.TimestampVerificationData = nil, nil
		},
	}
	for _, tc := range []struct {
		config, variant string
		opts            []verify.Option
		want            verify.Check // "" passes
	}{
		{cfgDefault, "as published", nil, ""},
		{cfgDefault, "no timestamp", nil, verify.CheckTimestamp},
		{cfgDefault, "no log entry", nil, verify.CheckTransparencyLog},
		{cfgDefault, "neither of them", nil, verify.CheckTransparencyLog},
		{cfgUntimedKeys, "as published", []verify.Option{verify.WithUntimestampedKeysUnsafe()}, ""},
		{cfgUntimedKeys, "no log entry", []verify.Option{verify.WithUntimestampedKeysUnsafe()}, verify.CheckTransparencyLog},
		{cfgWithoutLog, "as published", []verify.Option{verify.WithoutTransparencyLog()}, ""},
		{cfgWithoutLog, "no timestamp", []verify.Option{verify.WithoutTransparencyLog()}, verify.CheckTimestamp},
		{cfgWithoutLog, "no log entry", []verify.Option{verify.WithoutTransparencyLog()}, ""},
		{cfgWithoutLog, "neither of them", []verify.Option{verify.WithoutTransparencyLog()}, verify.CheckTimestamp},
	} {
		t.Run(tc.config+"/"+tc.variant, func(t *testing.T) {
			pb := proto.Clone(valid).(*protobundle.Bundle)
			variants[tc.variant](pb)
			b := bundleOf(t, pb)
			if b.MediaType != provenance.MediaTypeBundleV03 {
				t.Fatalf("media type %q", b.MediaType)
			}
			_, err := newVerifier(t, tr, tc.opts...).Verify(bg, b, subject, verify.AnyIdentityUnsafe())
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCheck(t, err, tc.want)
		})
	}
}
