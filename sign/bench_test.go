package sign_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"runtime"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"golang.org/x/sys/unix"
)

// statement4K returns a statement whose canonical JSON is 4 KiB, and that JSON.
func statement4K(b *testing.B) (*intoto.Statement, []byte) {
	b.Helper()
	base, err := provenance.Marshal(newStatement(b, 0))
	if err != nil {
		b.Fatal(err)
	}
	st := newStatement(b, 4096-len(base))
	payload, err := provenance.Marshal(st)
	if err != nil {
		b.Fatal(err)
	}
	if len(payload) != 4096 {
		b.Fatalf("statement is %d bytes", len(payload))
	}
	return st, payload
}

// BenchmarkSign measures, per key kind and side by side: "bundle" is Sign of a 4 KiB statement
// (canonical marshalling, DSSE, signature, protojson bundle); "payload" is SignPayload of the
// same 4 KiB already marshalled; "raw" is the bare crypto.Signer signature of the same DSSE
// pre-authentication encoding (hash plus Sign; pure Ed25519 signs the message itself).
func BenchmarkSign(b *testing.B) {
	ctx := context.Background()
	st, payload := statement4K(b)
	pae := (&sgsign.DSSEData{Data: payload, PayloadType: provenance.MediaTypeInToto}).PreAuthEncoding()
	for _, kk := range keyKinds() {
		if kk.name == "rsa3072-pkcs1v15" || kk.name == "rsa4096-pss" {
			continue
		}
		key, err := kk.gen()
		if err != nil {
			b.Fatal(err)
		}
		var opts []sign.Option
		var signOpts crypto.SignerOpts = kk.hash
		if kk.pss {
			opts = append(opts, sign.WithRSAPSS())
			signOpts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: kk.hash}
		}
		s, err := sign.NewKeySigner(key, opts...)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(kk.name+"/raw", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				msg := pae
				if kk.hash != 0 {
					h := kk.hash.New()
					h.Write(pae)
					msg = h.Sum(nil)
				}
				if _, err := key.Sign(rand.Reader, msg, signOpts); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(kk.name+"/payload", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if _, err := s.SignPayload(ctx, provenance.MediaTypeInToto, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(kk.name+"/bundle", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if _, err := s.Sign(ctx, st); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMarshalStatement is the statement-marshalling share of BenchmarkSign's "bundle".
func BenchmarkMarshalStatement(b *testing.B) {
	st, _ := statement4K(b)
	b.ReportAllocs()
	b.SetBytes(4096)
	for b.Loop() {
		if _, err := provenance.Marshal(st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParsePrivateKey measures key file parsing; the encrypted format's cost is scrypt.
func BenchmarkParsePrivateKey(b *testing.B) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	sealed, err := sign.MarshalEncryptedPrivateKey(key, []byte("pw"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encrypted", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := sign.ParsePrivateKey(sealed, []byte("pw")); err != nil {
				b.Fatal(err)
			}
		}
	})

}

// threadCPU returns the CPU time the calling OS thread has used.
func threadCPU(b *testing.B) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ts.Nano())
}

// BenchmarkSignRatio interleaves, in each iteration, the raw signature of the DSSE
// pre-authentication encoding of a 4 KiB statement, SignPayload of that statement and Sign of
// it, and reports each one's CPU time on the benchmark's locked OS thread and the ratios to raw.
// Thread CPU time, unlike wall time, is not inflated when other processes hold the cores,
// so the ratios hold on a busy machine; background GC work on other threads is not counted.
func BenchmarkSignRatio(b *testing.B) {
	ctx := context.Background()
	st, payload := statement4K(b)
	pae := (&sgsign.DSSEData{Data: payload, PayloadType: provenance.MediaTypeInToto}).PreAuthEncoding()
	for _, kk := range keyKinds() {
		if kk.name != "ecdsa-p256" && kk.name != "ed25519" && kk.name != "rsa2048-pkcs1v15" {
			continue
		}
		b.Run(kk.name, func(b *testing.B) {
			key, err := kk.gen()
			if err != nil {
				b.Fatal(err)
			}
			s, err := sign.NewKeySigner(key)
			if err != nil {
				b.Fatal(err)
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var raw, pay, full time.Duration
			b.ReportAllocs()
			for b.Loop() {
				t0 := threadCPU(b)
				msg := pae
				if kk.hash != 0 {
					h := kk.hash.New()
					h.Write(pae)
					msg = h.Sum(nil)
				}
				if _, err := key.Sign(rand.Reader, msg, kk.hash); err != nil {
					b.Fatal(err)
				}
				t1 := threadCPU(b)
				if _, err := s.SignPayload(ctx, provenance.MediaTypeInToto, payload); err != nil {
					b.Fatal(err)
				}
				t2 := threadCPU(b)
				if _, err := s.Sign(ctx, st); err != nil {
					b.Fatal(err)
				}
				t3 := threadCPU(b)
				raw, pay, full = raw+t1-t0, pay+t2-t1, full+t3-t2
			}
			n := float64(b.N)
			b.ReportMetric(float64(raw.Nanoseconds())/n, "raw-cpu-ns/op")
			b.ReportMetric(float64(pay.Nanoseconds())/n, "payload-cpu-ns/op")
			b.ReportMetric(float64(full.Nanoseconds())/n, "sign-cpu-ns/op")
			b.ReportMetric(float64(pay)/float64(raw), "payload/raw")
			b.ReportMetric(float64(full)/float64(raw), "sign/raw")
		})
	}
}
