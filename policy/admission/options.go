package admission

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy/gate"
)

// DefaultTimeout is how long, by default, the handler takes to answer one review: under the
// API server's default webhook timeout of 10 s.
const DefaultTimeout = 8 * time.Second

// MaxBodyBytes is the largest request body the handler reads: 3 MiB, what the API server
// sends at most (an object and its old version).
const MaxBodyBytes = 3 << 20

// StoreOpener opens the Store of a registry repository, "host[:port]/name". It is called for
// each repository a review names, from several goroutines at once.
type StoreOpener func(ctx context.Context, repository string) (*oras.Store, error)

// RemoteOpener returns a StoreOpener that opens registry repositories with oras.NewRemote and
// opts, and keeps the Stores it opened (up to 256) so that their registry sessions and
// referrers-API detection serve later reviews.
func RemoteOpener(opts ...oras.Option) StoreOpener {
	var (
		mu     sync.Mutex
		stores = map[string]*oras.Store{}
	)
	return func(_ context.Context, repository string) (*oras.Store, error) {
		mu.Lock()
		defer mu.Unlock()
		if s, ok := stores[repository]; ok {
			return s, nil
		}
		s, err := oras.NewRemote(repository, opts...)
		if err != nil {
			return nil, err
		}
		if len(stores) >= 256 {
			clear(stores)
		}
		stores[repository] = s
		return s, nil
	}
}

// Option configures a Handler.
type Option func(*config) error

type config struct {
	namespaces    map[string]*gate.Checker
	timeout       time.Duration
	failOpen      bool
	warnOnly      bool
	requireDigest bool
	open          StoreOpener
	logger        *slog.Logger
}

// WithNamespace checks the images of requests in namespace with c instead of the default
// Checker: a Checker for the namespace's environment. Give one WithNamespace per namespace.
func WithNamespace(namespace string, c *gate.Checker) Option {
	return func(cfg *config) error {
		if namespace == "" || c == nil {
			return fmt.Errorf("%w: WithNamespace needs a namespace and a Checker", ErrInvalidConfig)
		}
		if _, dup := cfg.namespaces[namespace]; dup {
			return fmt.Errorf("%w: namespace %q given twice", ErrInvalidConfig, namespace)
		}
		cfg.namespaces[namespace] = c
		return nil
	}
}

// WithTimeout sets how long the handler takes at most to answer one review (1 ms to 30 s,
// default DefaultTimeout); an image not checked by then is not checked (see
// WithFailOpenUnsafe). Keep it under the webhook configuration's timeoutSeconds.
func WithTimeout(d time.Duration) Option {
	return func(cfg *config) error {
		if d < time.Millisecond || d > 30*time.Second {
			return fmt.Errorf("%w: timeout %s is outside 1ms..30s", ErrInvalidConfig, d)
		}
		cfg.timeout = d
		return nil
	}
}

// WithFailOpenUnsafe allows, with a warning, an image that could not be checked (a registry
// that fails or stalls, the end of the timeout) instead of denying it. Images the evidence or
// the policy denies are still denied.
func WithFailOpenUnsafe() Option {
	return func(cfg *config) error {
		cfg.failOpen = true
		return nil
	}
}

// WithWarnOnlyUnsafe allows images the evidence or the policy denies, returning each denial as
// a warning: for trying a policy on a cluster before enforcing it. Images that could not be
// checked are still denied unless WithFailOpenUnsafe is given too.
func WithWarnOnlyUnsafe() Option {
	return func(cfg *config) error {
		cfg.warnOnly = true
		return nil
	}
}

// WithRequireDigest denies images that name a tag and no digest, instead of resolving the tag.
func WithRequireDigest() Option {
	return func(cfg *config) error {
		cfg.requireDigest = true
		return nil
	}
}

// WithStoreOpener sets how registry repositories are opened; the default is RemoteOpener().
func WithStoreOpener(open StoreOpener) Option {
	return func(cfg *config) error {
		if open == nil {
			return fmt.Errorf("%w: nil StoreOpener", ErrInvalidConfig)
		}
		cfg.open = open
		return nil
	}
}

// WithLogger logs each decision at info level, and requests refused at warn level; the
// default is silent.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidConfig)
		}
		cfg.logger = l
		return nil
	}
}
