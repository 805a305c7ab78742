package auditlog_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"os"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/mod/sumdb/note"

	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/auditlog"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "audit")
	defer os.RemoveAll(dir)

	// The log's two keys: one signs checkpoints, the other events.
	skey, vkey, _ := note.GenerateKey(rand.Reader, "audit.example.com")
	checkpoints, _ := note.NewSigner(skey)
	eventKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := sign.NewKeySigner(eventKey)

	l, err := auditlog.Open(ctx, dir, checkpoints, signer, auditlog.WithActor("gate@example.com"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, kind := range []audit.Kind{audit.KindAttested, audit.KindAttached, audit.KindPromoted} {
		_ = l.Record(ctx, audit.Event{Kind: kind, Subject: digest.FromString("image"), Time: time.Now()})
	}
	if err := l.Close(ctx); err != nil {
		fmt.Println(err)
		return
	}

	// An auditor holds only public keys.
	verifier, _ := note.NewVerifier(vkey)
	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "audit", Key: eventKey.Public()})
	events, _ := verify.New(keys, verify.WithUntimestampedKeysUnsafe())
	a, _ := auditlog.NewAuditor(auditlog.Dir(dir), auditlog.Trust{Checkpoints: verifier, Events: events, Signer: verify.KeyIDs("audit")})
	report, err := a.Audit(ctx, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(report.Checkpoint.Origin, report.Checkpoint.Size)
	for e, err := range a.Entries(ctx, report.Checkpoint, 0) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(e.Index, e.Event.Kind, e.Event.Actor)
	}
	// Output:
	// audit.example.com 3
	// 0 attested gate@example.com
	// 1 attached gate@example.com
	// 2 promoted gate@example.com
}
