package gate

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/verify"
)

// Option configures a Checker.
type Option func(*config) error

type config struct {
	policy      *policy.Policy
	environment string
	concurrency int
	clock       provenance.Clock
	progress    func(Progress)
	recorder    audit.Recorder
	actor       string
	roles       map[string]verify.Identity
	cache       *Cache
}

// WithPolicy decides with p after verification: Check then fails with a *policy.DeniedError
// when p denies. Without it, Check passes when at least one attestation verified.
func WithPolicy(p *policy.Policy) Option {
	return func(c *config) error {
		if p == nil {
			return fmt.Errorf("%w: WithPolicy(nil)", ErrInvalidConfig)
		}
		c.policy = p
		return nil
	}
}

// WithCache keeps the Checker's allowed decisions in c and answers Check from it while one
// holds (see Cache for what a decision is kept under and for how long). Several Checkers may
// share c. A report from the Cache is the one the first Check returned: treat reports as
// read-only. With WithRecorder, a decision answered from the Cache is recorded like any other.
func WithCache(c *Cache) Option {
	return func(cfg *config) error {
		if c == nil {
			return fmt.Errorf("%w: WithCache(nil)", ErrInvalidConfig)
		}
		cfg.cache = c
		return nil
	}
}

// WithEnvironment decides with the policy's gate for environment name (policy.Policy.Gate);
// without it every rule is enforced (policy.Policy.Evaluate). It needs WithPolicy, and the
// policy must define name.
func WithEnvironment(name string) Option {
	return func(c *config) error {
		if name == "" {
			return fmt.Errorf("%w: empty environment", ErrInvalidConfig)
		}
		c.environment = name
		return nil
	}
}

// WithConcurrency sets how many attestations are verified at once (1 to 64; the default is
// GOMAXPROCS). How many are fetched at once is the Store's (oras.WithConcurrency).
func WithConcurrency(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 64 {
			return fmt.Errorf("%w: concurrency %d is outside 1..64", ErrInvalidConfig, n)
		}
		c.concurrency = n
		return nil
	}
}

// WithClock sets the time the policy decides at (freshness rules read it); the default is
// provenance.SystemClock.
func WithClock(clock provenance.Clock) Option {
	return func(c *config) error {
		if clock == nil {
			return fmt.Errorf("%w: WithClock(nil)", ErrInvalidConfig)
		}
		c.clock = clock
		return nil
	}
}

// WithProgress calls fn as Check moves through its stages: once when discovery is done, once
// when the bundles are fetched, and after each verification. fn is called from the goroutines
// that verify, one call at a time.
func WithProgress(fn func(Progress)) Option {
	return func(c *config) error {
		c.progress = fn
		return nil
	}
}

// WithRecorder records every decision Check makes in r (such as an auditlog.Log) as an event
// by actor, the gate's identity: a "verified" event when Check passes, a "denied" one when the
// evidence or the policy says no, each with the artifact, the attestations concerned, the
// environment and the policy's reasons rule by rule. A check that could not be made records
// nothing. When r fails to take the event, Check fails with a *CheckError (Op "record"): a
// decision that cannot be recorded is not made.
func WithRecorder(r audit.Recorder, actor string) Option {
	return func(c *config) error {
		if r == nil || actor == "" {
			return fmt.Errorf("%w: WithRecorder needs a recorder and an actor", ErrInvalidConfig)
		}
		c.recorder, c.actor = r, actor
		return nil
	}
}

func newConfig(opts []Option) (*config, error) {
	c := &config{concurrency: min(64, runtime.GOMAXPROCS(0)), clock: provenance.SystemClock()}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.environment != "" {
		if c.policy == nil {
			return nil, fmt.Errorf("%w: WithEnvironment needs WithPolicy", ErrInvalidConfig)
		}
		if !slices.Contains(c.policy.Environments(), c.environment) {
			return nil, fmt.Errorf("%w: policy %q has no environment %q (has %v)", ErrInvalidConfig, c.policy.Name(), c.environment, c.policy.Environments())
		}
	}
	return c, nil
}

// WithRole gives the statements of predicateType their own signers: such attestations must be
// signed by signers instead of the Checker's identity, and no other statement counts when
// signed under the role. So with a role for VSAs held by the promotion key, a VSA signed by
// the build key is rejected, and SLSA provenance signed by the promotion key does not count as
// build provenance. An attestation whose verified predicate type differs from the one it was
// listed under, where either has a role, is rejected with a *RoleError. Give one WithRole per
// predicate type.
func WithRole(predicateType string, signers verify.Identity) Option {
	return func(c *config) error {
		switch {
		case predicateType == "":
			return fmt.Errorf("%w: WithRole needs a predicate type", ErrInvalidConfig)
		case signers.IsZero():
			return fmt.Errorf("%w: %w: the zero Identity accepts no signer", ErrInvalidConfig, verify.ErrInvalidIdentity)
		}
		if _, dup := c.roles[predicateType]; dup {
			return fmt.Errorf("%w: two roles for %s", ErrInvalidConfig, predicateType)
		}
		if c.roles == nil {
			c.roles = map[string]verify.Identity{}
		}
		c.roles[predicateType] = signers
		return nil
	}
}
