package verify

import (
	"fmt"
	"log/slog"

	"github.com/provkit/provkit/provenance"
)

// Option configures a Verifier. Options that weaken verification end in Unsafe.
type Option func(*config) error

type config struct {
	tlog           int  // transparency-log entries required; 0 with noTlog
	noTlog         bool // WithoutTransparencyLogUnsafe
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
// or promise, checked against the trust material's Rekor logs). The default is 1.
func WithTransparencyLog(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: transparency-log threshold %d < 1 (use WithoutTransparencyLogUnsafe)", ErrInvalidConfig, n)
		}
		c.tlog, c.noTlog = n, false
		return nil
	}
}

// WithoutTransparencyLogUnsafe drops the transparency-log requirement: log entries in a bundle
// are then not checked or used as signing times, so bundles must carry RFC 3161 timestamps
// (or the keys be trusted without a time, WithUntimestampedKeysUnsafe). Signatures no one can
// audit are accepted: use it only for private deployments without a log.
func WithoutTransparencyLogUnsafe() Option {
	return func(c *config) error {
		c.tlog, c.noTlog = 0, true
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
// key can sign "old" provenance forever. Certificates always need a verified time.
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
