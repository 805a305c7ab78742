package oras

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/provkit/provkit/provenance"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// Option configures a Store. Options are checked when the Store is made; a rejected option
// fails the constructor with an *OptionError.
type Option func(*options) error

type options struct {
	clock         provenance.Clock
	logger        *slog.Logger
	pageSize      int
	maxReferrers  int
	concurrency   int
	attempts      int
	plainHTTP     bool
	plainHosts    []string // hosts named in WithPlainHTTPUnsafe, besides loopback
	stallTimeout  time.Duration
	maxFetchBytes int64
	transport     http.RoundTripper
	credStore     credentials.Store
	dockerConfig  *string // nil: no credentials; "": the default location; else a path
	referrersAPI  *bool
	retryBase     time.Duration
	remoteOnlyOpt string // name of the first remote-only option given, to reject it for local stores
	maxPages      int
}

func defaultOptions() options {
	return options{
		clock:         provenance.SystemClock(),
		logger:        slog.New(slog.DiscardHandler),
		maxReferrers:  provenance.MaxReferrers,
		concurrency:   8,
		attempts:      10,
		retryBase:     20 * time.Millisecond,
		maxPages:      1000,
		stallTimeout:  DefaultStallTimeout,
		maxFetchBytes: DefaultMaxFetchBytes,
	}
}

func buildOptions(opts []Option) (options, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if opt == nil {
			return o, &OptionError{Option: "nil", Reason: "option is nil"}
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

func (o *options) remoteOnly(name string) {
	if o.remoteOnlyOpt == "" {
		o.remoteOnlyOpt = name
	}
}

// WithClock sets the clock that stamps org.opencontainers.image.created on attestation
// manifests. The default is the system clock. With a fixed clock (provenance.FixedClock or
// SOURCE_DATE_EPOCH) attaching the same bundle always produces the same manifest, byte for byte.
func WithClock(c provenance.Clock) Option {
	return func(o *options) error {
		if c == nil {
			return &OptionError{Option: "WithClock", Reason: "clock is nil"}
		}
		o.clock = c
		return nil
	}
}

// WithLogger makes the Store log what it does at debug level, and retries and skipped
// content at warn level. The default is silent.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return &OptionError{Option: "WithLogger", Reason: "logger is nil"}
		}
		o.logger = l
		return nil
	}
}

// WithPageSize asks registries for at most n referrers per page (1 to 1000). Registries may
// ignore it. The default leaves the page size to the registry.
func WithPageSize(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 1000 {
			return &OptionError{Option: "WithPageSize", Reason: fmt.Sprintf("%d is outside 1..1000", n)}
		}
		o.pageSize = n
		return nil
	}
}

// WithMaxReferrers lowers the number of referrers read for one subject (1 to
// provenance.MaxReferrers, the default). Listing more fails with a *provenance.SizeError.
func WithMaxReferrers(n int) Option {
	return func(o *options) error {
		if n < 1 || n > provenance.MaxReferrers {
			return &OptionError{Option: "WithMaxReferrers",
				Reason: fmt.Sprintf("%d is outside 1..%d", n, provenance.MaxReferrers)}
		}
		o.maxReferrers = n
		return nil
	}
}

// WithConcurrency sets how many manifests and bundles Discover and FetchAll read at once
// (1 to 64, default 8).
func WithConcurrency(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 64 {
			return &OptionError{Option: "WithConcurrency", Reason: fmt.Sprintf("%d is outside 1..64", n)}
		}
		o.concurrency = n
		return nil
	}
}

// WithAttempts sets how many rounds a write makes before it gives up (1 to 100, default 10),
// with jittered exponential backoff between rounds: how many times Attach and Copy re-read a
// subject's referrers and list again the entries a concurrent writer's tag index overwrote
// before reporting a *LostUpdateError, and how many times Copy uploads a blob or manifest the
// registry refused for the moment (429 or 5xx). Requests that break in transit are re-sent
// separately, up to three times each; within a listing every one counts against the page budget.
func WithAttempts(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 100 {
			return &OptionError{Option: "WithAttempts", Reason: fmt.Sprintf("%d is outside 1..100", n)}
		}
		o.attempts = n
		return nil
	}
}

// WithPlainHTTPUnsafe makes a remote Store talk plain HTTP instead of HTTPS to a registry on
// loopback ("localhost", 127.0.0.0/8, ::1), or on one of hosts ("host[:port]", as the
// repository names it): credentials and content travel unprotected. NewRemote refuses it for
// any other registry. Plain-HTTP requests go only to the repository's registry and to hosts:
// a redirect, Link header or token realm naming plain HTTP elsewhere, even on loopback, fails
// with a *RedirectError.
func WithPlainHTTPUnsafe(hosts ...string) Option {
	return func(o *options) error {
		for _, h := range hosts {
			if h == "" || strings.ContainsAny(h, "/ ") {
				return &OptionError{Option: "WithPlainHTTPUnsafe", Reason: fmt.Sprintf("%q is not host[:port]", h)}
			}
			o.plainHosts = append(o.plainHosts, strings.ToLower(h))
		}
		o.remoteOnly("WithPlainHTTPUnsafe")
		o.plainHTTP = true
		return nil
	}
}

// DefaultStallTimeout is how long a remote Store waits, by default, for a registry that sends
// nothing (WithStallTimeout).
const DefaultStallTimeout = time.Minute

// WithStallTimeout sets how long a remote Store waits for a registry that sends nothing: for
// the response headers once a request is sent, and for the next bytes of a response body
// (1 ms to 1 h, default DefaultStallTimeout). A stalled request fails with a *StallError
// (wrapping ErrStalled) and is not retried. The dial (30 s) and TLS handshake (10 s) of the
// default transport are bounded too. These bound silence, not work: a registry trickling bytes
// keeps a call alive, so give every call a context with a deadline to bound the whole of it.
func WithStallTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < time.Millisecond || d > time.Hour {
			return &OptionError{Option: "WithStallTimeout", Reason: fmt.Sprintf("%s is outside 1ms..1h", d)}
		}
		o.remoteOnly("WithStallTimeout")
		o.stallTimeout = d
		return nil
	}
}

// DefaultMaxFetchBytes is the default byte budget of one FetchAll or FetchAttestation call
// (WithMaxFetchBytes): 128 MiB, two bundles of the largest size provenance.MaxBundleBytes
// allows.
const DefaultMaxFetchBytes = 2 * provenance.MaxBundleBytes

// WithMaxFetchBytes sets the byte budget of one FetchAll, FetchAttestation or Fetch call: the most
// bytes of manifests and bundles it downloads, counted by their declared sizes before each
// download starts (1 MiB to 16 GiB, default DefaultMaxFetchBytes). Past it the call fails with
// a *provenance.SizeError (wrapping provenance.ErrTooLarge), before downloading what would
// exceed it. Each distinct blob counts once, however many attestations name it.
func WithMaxFetchBytes(n int64) Option {
	return func(o *options) error {
		if n < 1<<20 || n > 16<<30 {
			return &OptionError{Option: "WithMaxFetchBytes", Reason: fmt.Sprintf("%d is outside 1 MiB..16 GiB", n)}
		}
		o.maxFetchBytes = n
		return nil
	}
}

// WithTransport sets the HTTP transport under the retrying, authenticating client of a remote
// Store. The default is a clone of http.DefaultTransport with dial, TLS handshake, response
// header and idle connection timeouts; a transport given here keeps its own, and the stall
// timeout (WithStallTimeout) applies over it either way.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) error {
		if rt == nil {
			return &OptionError{Option: "WithTransport", Reason: "transport is nil"}
		}
		o.remoteOnly("WithTransport")
		o.transport = rt
		return nil
	}
}

// WithDockerConfig reads registry credentials from the Docker config file at path, including
// the credential helpers it names. The file need not exist yet. Without a credentials option
// a remote Store sends no credentials.
func WithDockerConfig(path string) Option {
	return func(o *options) error {
		if path == "" {
			return &OptionError{Option: "WithDockerConfig", Reason: "path is empty (use WithDefaultDockerConfig)"}
		}
		o.remoteOnly("WithDockerConfig")
		o.dockerConfig = &path
		return nil
	}
}

// WithDefaultDockerConfig reads registry credentials from the Docker config file where Docker
// keeps it ($DOCKER_CONFIG/config.json or ~/.docker/config.json), including the credential
// helpers it names. Only this option makes the Store look at the user's home.
func WithDefaultDockerConfig() Option {
	return func(o *options) error {
		o.remoteOnly("WithDefaultDockerConfig")
		empty := ""
		o.dockerConfig = &empty
		return nil
	}
}

// WithCredentials takes registry credentials from an oras-go credentials store the caller
// built (for example credentials.NewMemoryStore).
func WithCredentials(s credentials.Store) Option {
	return func(o *options) error {
		if s == nil {
			return &OptionError{Option: "WithCredentials", Reason: "store is nil"}
		}
		o.remoteOnly("WithCredentials")
		o.credStore = s
		return nil
	}
}

// WithReferrersAPI tells a remote Store whether the registry serves the OCI referrers API,
// skipping detection: true always uses the API, false always uses the referrers tag schema.
// Without it the Store detects the capability on first use and remembers it.
func WithReferrersAPI(served bool) Option {
	return func(o *options) error {
		o.remoteOnly("WithReferrersAPI")
		o.referrersAPI = &served
		return nil
	}
}

// plainAllowed reports whether plain HTTP may go to host ("host[:port]"): the repository's
// registry, checked to be on loopback or named by NewRemote, or a host named in
// WithPlainHTTPUnsafe.
func (o *options) plainAllowed(registry, host string) bool {
	if !o.plainHTTP {
		return false
	}
	host = strings.ToLower(host)
	if host == strings.ToLower(registry) {
		return true
	}
	for _, h := range o.plainHosts {
		if h == host || h+":80" == host || h == host+":80" {
			return true
		}
	}
	return false
}
