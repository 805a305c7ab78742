package sign_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
)

func TestWithLogger(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := sign.NewKeySigner(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)), sign.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(context.Background(), newStatement(t, 0)); err != nil {
		t.Fatal(err)
	}
	if got := logs.String(); !strings.Contains(got, "msg=signed") || !strings.Contains(got, "payloadType=application/vnd.in-toto+json") {
		t.Fatalf("log: %q", got)
	}
}

// countingTransport counts the requests it carries.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestWithHTTPTransport(t *testing.T) {
	issuer := newOIDCIssuer(t)
	fulcioURL, _ := fulcioRefusing(t)
	tsa := newLocalTSA(t)
	rt := &countingTransport{}
	s, err := sign.NewKeylessSigner(sign.StaticToken(issuer.token(t, testEmail, time.Minute)),
		sign.WithFulcio(fulcioURL), sign.WithTimestampAuthority(tsa.URL), sign.WithHTTPTransport(rt))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Sign(context.Background(), newStatement(t, 0))
	if !errors.Is(err, sign.ErrService) {
		t.Fatalf("got %v", err)
	}
	if rt.n.Load() != 1 {
		t.Fatalf("%d requests went through the transport, want 1 (to Fulcio)", rt.n.Load())
	}
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	ks, err := sign.NewKeySigner(key, sign.WithTimestampAuthority(tsa.URL), sign.WithHTTPTransport(rt))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.SignPayload(context.Background(), provenance.MediaTypeInToto, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if rt.n.Load() != 2 {
		t.Fatalf("%d requests went through the transport, want 2 (Fulcio, then the TSA)", rt.n.Load())
	}
}

// TestWithClock picks services from a signing configuration by the signer's clock: a timestamp
// authority that starts service in a week is not chosen today, and is a week from now.
func TestWithClock(t *testing.T) {
	tsa := newLocalTSA(t)
	start := time.Now().Add(7 * 24 * time.Hour)
	sc, err := root.NewSigningConfig(root.SigningConfigMediaType02, nil, nil, nil,
		root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ANY},
		[]root.Service{{URL: tsa.URL, MajorAPIVersion: 1, ValidityPeriodStart: start, Operator: "provkit-test"}},
		root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ALL})
	if err != nil {
		t.Fatal(err)
	}
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	tests := []struct {
		name  string
		clock provenance.Clock
		want  error
	}{
		{name: "today", clock: provenance.SystemClock(), want: sign.ErrInvalidOption},
		{name: "in a week", clock: provenance.FixedClock(start.Add(time.Hour))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sign.NewKeySigner(key, sign.WithSigningConfig(sc), sign.WithClock(tt.clock))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err != nil {
				return
			}
			b, err := s.Sign(context.Background(), newStatement(t, 0))
			if err != nil {
				t.Fatal(err)
			}
			if n := len(mustParseBundle(t, b.Data).GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()); n != 1 {
				t.Fatalf("%d timestamps, want 1", n)
			}
		})
	}
}
