package verify

import (
	"fmt"
	"log/slog"

	"github.com/provkit/provkit/provenance"
)

// Option configures a Verifier. Options that weaken verification end in Unsafe.
type Option func(*config) error

type config struct {
	tlog           int  // transparency-log entries required unless noTlog
	noTlog         bool // WithoutTransparencyLog: entries only verified when present
	observer       int  // observer timestamps (log integration times or RFC 3161) required
	signedTS       int  // RFC 3161 timestamps required
	sct            int  // SCTs required in certificates; -1 means "decide from the trust material"
	noSCT          bool
	untimedKeys    bool
	predicateTypes []string
	clock          provenance.Clock
	logger         *slog.Logger
	progress       func(done, total int)
	maxPayload     int
}

func defaultConfig() config {
	return config{
		tlog:       1,
		observer:   1,
		sct:        -1,
		clock:      provenance.SystemClock(),
		maxPayload: provenance.MaxStatementBytes,
	}
}

// WithTransparencyLog requires at least n verified transparency-log entries (inclusion proof
// or promise, checked against the trust material's Rekor logs), from n different logs. The
// default is 1. It undoes WithoutTransparencyLog given before it.
func WithTransparencyLog(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: transparency-log threshold %d < 1 (use WithoutTransparencyLog)", ErrInvalidConfig, n)
		}
		c.tlog, c.noTlog = n, false
		return nil
	}
}

// WithoutTransparencyLog makes transparency-log entries optional, for a private deployment
// that dates signatures with its own RFC 3161 timestamp authority and runs no log: a bundle
// without an entry passes when it meets the observer-timestamp threshold (WithObserverTimestamps,
// 1 by default) with timestamps from the trust material's authorities. A bundle that carries
// entries of a log in the trust material still has them verified, and their integrated times
// count as signing times, so a bundle that passes the default Verifier passes this one too.
//
// The signing time is as trustworthy as with a log: a trusted authority signed it. What is
// lost is public auditability: nothing but the authority saw the signature, so a stolen key or
// a misissued certificate signing in private is never seen by a log monitor. Key-signed
// bundles without any timestamp still need WithUntimestampedKeysUnsafe.
func WithoutTransparencyLog() Option {
	return func(c *config) error {
		c.noTlog = true
		return nil
	}
}

// WithObserverTimestamps requires at least n verified signing times, counting log integration
// times and RFC 3161 timestamps together. The default is 1. Certificates and key validity
// windows are checked at every verified time.
func WithObserverTimestamps(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: observer timestamp threshold %d < 1", ErrInvalidConfig, n)
		}
		c.observer = n
		return nil
	}
}

// WithSignedTimestamps requires at least n verified RFC 3161 timestamps from the trust
// material's timestamp authorities, in addition to the observer-timestamp threshold. The
// default is 0.
func WithSignedTimestamps(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: signed timestamp threshold %d < 1", ErrInvalidConfig, n)
		}
		c.signedTS = n
		return nil
	}
}

// WithCertificateTransparency requires at least n verified SCTs in signing certificates. By
// default 1 is required when the trust material holds CT logs (as Sigstore trusted roots do)
// and none otherwise (a private PKI).
func WithCertificateTransparency(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: SCT threshold %d < 1 (use WithoutCertificateTransparencyUnsafe)", ErrInvalidConfig, n)
		}
		c.sct, c.noSCT = n, false
		return nil
	}
}

// WithoutCertificateTransparencyUnsafe accepts certificates without SCTs even when the trust
// material has CT logs: a certificate the CA never published is then accepted.
func WithoutCertificateTransparencyUnsafe() Option {
	return func(c *config) error {
		c.sct, c.noSCT = 0, true
		return nil
	}
}

// WithUntimestampedKeysUnsafe accepts key-signed bundles and envelopes that carry neither a
// log entry nor a timestamp, as cosign writes with --tlog-upload=false and as bare DSSE
// envelopes always are. Without a verified time, nothing shows when the signature was made:
// a key's validity window is then checked at the Verifier's clock (WithClock), and a leaked
// key can sign "old" provenance forever.
//
// So that more evidence never turns a pass into a denial, it drops every log and timestamp
// threshold for key-signed bundles: entries of trusted logs a bundle carries must verify, and
// when the bundle has a signing time the trust material can verify (an RFC 3161 timestamp, or
// a log entry's integrated time), one such time is required and the key's validity is checked
// at it instead of at the clock. Certificates always need a verified time, and certificate-signed
// bundles keep every threshold.
func WithUntimestampedKeysUnsafe() Option {
	return func(c *config) error {
		c.untimedKeys = true
		return nil
	}
}

// WithPredicateTypes accepts only statements whose predicate type is one of types; others fail
// with a PredicateTypeError. By default any predicate type is accepted.
func WithPredicateTypes(types ...string) Option {
	return func(c *config) error {
		if len(types) == 0 {
			return fmt.Errorf("%w: WithPredicateTypes needs at least one type", ErrInvalidConfig)
		}
		for _, t := range types {
			if t == "" {
				return fmt.Errorf("%w: empty predicate type", ErrInvalidConfig)
			}
		}
		c.predicateTypes = append([]string(nil), types...)
		return nil
	}
}

// WithClock sets the clock used where no verified time exists (WithUntimestampedKeysUnsafe).
// The default is the system clock.
func WithClock(clock provenance.Clock) Option {
	return func(c *config) error {
		if clock == nil {
			return fmt.Errorf("%w: nil clock", ErrInvalidConfig)
		}
		c.clock = clock
		return nil
	}
}

// WithLogger logs each verification's outcome at debug level, and failures at info level. The
// default is silent.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// WithProgress calls fn after each item VerifyAll finishes, with the number done and the total.
// fn may be called from several goroutines at once.
func WithProgress(fn func(done, total int)) Option {
	return func(c *config) error {
		c.progress = fn
		return nil
	}
}

// WithMaxPayloadBytes lowers the cap on a DSSE payload (the signed statement), which is
// provenance.MaxStatementBytes by default.
func WithMaxPayloadBytes(n int) Option {
	return func(c *config) error {
		if n < 1 || n > provenance.MaxStatementBytes {
			return fmt.Errorf("%w: payload cap %d outside 1..%d", ErrInvalidConfig, n, provenance.MaxStatementBytes)
		}
		c.maxPayload = n
		return nil
	}
}
