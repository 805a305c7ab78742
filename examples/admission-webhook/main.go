// Command admission-webhook serves the provkit validating admission webhook (package
// policy/admission) over TLS: every container image of the Pods and workloads the API server
// sends is checked against a policy environment, chosen by namespace.
//
//	go run ./examples/admission-webhook -cert tls.crt -tls-key tls.key -policy policy.yaml -key cosign.pub \
//	    -env prod -namespace-env dev=dev -namespace-env staging=staging [-addr :8443]
//
// The webhook answers at /validate; point a ValidatingWebhookConfiguration there.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/provkit/provkit/examples/internal/setup"
	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy/admission"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/verify"
)

// options are the command line.
type options struct {
	addr, certPath, tlsKeyPath     string
	policyPath, keyPath, env       string
	namespaces                     namespaceEnvs
	timeout                        time.Duration
	insecureIgnoreTlog, plainHTTP  bool
	failOpen, warnOnly, needDigest bool
}

// namespaceEnvs is the repeatable -namespace-env NS=ENV flag.
type namespaceEnvs map[string]string

func (n namespaceEnvs) String() string { return fmt.Sprint(map[string]string(n)) }

func (n namespaceEnvs) Set(s string) error {
	ns, env, ok := strings.Cut(s, "=")
	if !ok || ns == "" || env == "" {
		return fmt.Errorf("%q: want NAMESPACE=ENVIRONMENT", s)
	}
	n[ns] = env
	return nil
}

func main() {
	o := options{namespaces: namespaceEnvs{}}
	flag.StringVar(&o.addr, "addr", ":8443", "address to serve HTTPS on")
	flag.StringVar(&o.certPath, "cert", "", "TLS certificate file (required)")
	flag.StringVar(&o.tlsKeyPath, "tls-key", "", "TLS private key file (required)")
	flag.StringVar(&o.policyPath, "policy", "", "policy file (required)")
	flag.StringVar(&o.keyPath, "key", "", "trusted public key, cosign.pub or PEM (required)")
	flag.StringVar(&o.env, "env", "prod", "policy environment for namespaces without -namespace-env")
	flag.Var(o.namespaces, "namespace-env", "NAMESPACE=ENVIRONMENT, repeatable")
	flag.DurationVar(&o.timeout, "timeout", admission.DefaultTimeout, "time to answer one review")
	flag.BoolVar(&o.insecureIgnoreTlog, "insecure-ignore-tlog", false, "accept key signatures with no transparency-log entry or timestamp")
	flag.BoolVar(&o.plainHTTP, "plain-http", false, "talk plain HTTP to registries (loopback only)")
	flag.BoolVar(&o.failOpen, "fail-open", false, "allow, with a warning, images that could not be checked")
	flag.BoolVar(&o.warnOnly, "warn-only", false, "allow denied images, with a warning")
	flag.BoolVar(&o.needDigest, "require-digest", false, "deny images given by tag only")
	flag.Parse()
	if o.certPath == "" || o.tlsKeyPath == "" || o.policyPath == "" || o.keyPath == "" {
		_ = textout.New(os.Stderr).Literal("usage: admission-webhook -cert FILE -tls-key FILE -policy FILE -key FILE [-env NAME] [-namespace-env NS=ENV]...\n")
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	h, err := newHandler(o, logger)
	if err != nil {
		logger.Error("admission-webhook", "err", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, o, h); err != nil {
		logger.Error("admission-webhook", "err", err)
		os.Exit(1)
	}
}

// newHandler builds the webhook: one gate.Checker per environment named.
func newHandler(o options, logger *slog.Logger) (*admission.Handler, error) {
	pol, err := setup.LoadPolicy(o.policyPath)
	if err != nil {
		return nil, err
	}
	verifier, err := setup.KeyVerifier(o.keyPath, o.insecureIgnoreTlog)
	if err != nil {
		return nil, err
	}
	checkers := map[string]*gate.Checker{}
	checkerFor := func(env string) (*gate.Checker, error) {
		if c, ok := checkers[env]; ok {
			return c, nil
		}
		c, err := gate.New(verifier, verify.KeyIDs(setup.KeyID), gate.WithPolicy(pol), gate.WithEnvironment(env))
		if err != nil {
			return nil, fmt.Errorf("environment %q: %w", env, err)
		}
		checkers[env] = c
		return c, nil
	}
	def, err := checkerFor(o.env)
	if err != nil {
		return nil, err
	}
	var storeOpts []oras.Option
	if o.plainHTTP {
		storeOpts = append(storeOpts, oras.WithPlainHTTPUnsafe())
	}
	opts := []admission.Option{
		admission.WithTimeout(o.timeout),
		admission.WithLogger(logger),
		admission.WithStoreOpener(admission.RemoteOpener(storeOpts...)),
	}
	for ns, env := range o.namespaces {
		c, err := checkerFor(env)
		if err != nil {
			return nil, err
		}
		opts = append(opts, admission.WithNamespace(ns, c))
	}
	if o.failOpen {
		opts = append(opts, admission.WithFailOpenUnsafe())
	}
	if o.warnOnly {
		opts = append(opts, admission.WithWarnOnlyUnsafe())
	}
	if o.needDigest {
		opts = append(opts, admission.WithRequireDigest())
	}
	return admission.New(def, opts...)
}

// serve serves h at /validate over TLS until ctx ends.
func serve(ctx context.Context, o options, h http.Handler) error {
	mux := http.NewServeMux()
	mux.Handle("/validate", h)
	srv := &http.Server{Addr: o.addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12}}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServeTLS(o.certPath, o.tlsKeyPath) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			return err
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
