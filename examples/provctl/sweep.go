package main

import (
	"context"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/provenance/lifecycle"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

const sweepUsage = `sweep --key FILE... --policy FILE [--env NAME] --status-key FILE --state deprecated|retired
      --decided-by ID [--insecure-ignore-tlog] [--audit-log DIR --audit-log-key FILE --audit-key FILE]
      [--plain-http] [--oci-layout] REF...`

// sweepCmd runs "provctl sweep": each REF the policy denies gets a deprecated or retired
// status, signed with --status-key and attached beside it.
func sweepCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	var f verifyFlags
	fset := newFlagSet("sweep", stderr, sweepUsage)
	f.trustFlags.register(fset)
	fset.StringVar(&f.policy, "policy", "", "policy `file` the artifacts must pass (required)")
	fset.StringVar(&f.env, "env", "", "policy environment `name` (default: enforce every rule)")
	fset.BoolVar(&f.plainHTTP, "plain-http", false, "talk plain HTTP to the registry (loopback only)")
	fset.BoolVar(&f.layout, "oci-layout", false, "each REF is an OCI layout: PATH[:tag|@digest]")
	f.audit.register(fset)
	statusKey := fset.String("status-key", "", "private key `file` of the identity entitled to set statuses; it signs them (required)")
	state := fset.String("state", "deprecated", "the status to set: deprecated or retired")
	decidedBy := fset.String("decided-by", "", "`identity` on whose authority the statuses are set (required)")
	refs, err := parseFlagsAtLeast(fset, args, 1)
	if err != nil {
		return err
	}
	switch {
	case f.policy == "" || *statusKey == "" || *decidedBy == "":
		return usagef("sweep: --policy, --status-key and --decided-by are required")
	case len(f.keys) == 0:
		return usagef("sweep: --key names the build signers")
	}
	builders, err := loadTrustedKeys(f.keys, env)
	if err != nil {
		return err
	}
	setters, err := loadTrustedKeys([]string{*statusKey}, env)
	if err != nil {
		return err
	}
	f.keys = append(f.keys, *statusKey) // trusted, under the lifecycle role only
	verifier, _, err := f.verifier(ctx, "sweep", env)
	if err != nil {
		return err
	}
	pol, err := f.loadPolicy()
	if err != nil {
		return err
	}
	k, err := loadSigner(*statusKey, env)
	if err != nil {
		return err
	}
	signer, err := sign.NewKeySigner(k)
	if err != nil {
		return configError(err)
	}
	opts := []gate.Option{gate.WithPolicy(pol), gate.WithRole(lifecycle.PredicateType, verify.KeyIDs(keyIDs(setters)...))}
	if f.env != "" {
		opts = append(opts, gate.WithEnvironment(f.env))
	}
	log, err := f.audit.open(ctx, env)
	if err != nil {
		return err
	}
	if log != nil {
		defer log.Close(ctx)
		opts = append(opts, gate.WithRecorder(log, f.audit.actor))
	}
	checker, err := gate.New(verifier, verify.KeyIDs(keyIDs(builders)...), opts...)
	if err != nil {
		return configError(err)
	}
	out := textout.New(stdout)
	failed := 0
	for _, r := range refs {
		ref, err := parseReference(r, f.layout)
		if err != nil {
			return err
		}
		store, image, err := resolve(ctx, ref, storeOptions{plainHTTP: f.plainHTTP}, env)
		if err != nil {
			return err
		}
		swept, err := checker.Sweep(ctx, store, []ocispec.Descriptor{image}, gate.Sweep{State: lifecycle.State(*state), Signer: signer, DecidedBy: *decidedBy})
		if err != nil {
			return &usageError{err}
		}
		if err := printSwept(out, r, swept[0]); err != nil {
			return err
		}
		if swept[0].Err != nil {
			failed++
		}
	}
	if log != nil {
		if err := log.Close(ctx); err != nil {
			return fmt.Errorf("audit log %s: %w", f.audit.log, err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("sweep: %d of %d artifacts could not be checked or marked", failed, len(refs))
	}
	return nil
}

func printSwept(out *textout.Printer, ref string, s gate.Swept) error {
	switch {
	case s.Err != nil:
		return out.Printf("error    %s: %v\n", ref, s.Err)
	case s.Denied == nil:
		return out.Printf("allowed  %s\n", ref)
	case s.Status.Digest == "":
		return out.Printf("already  %s\n", ref)
	}
	return out.Printf("marked   %s  status %s\n", ref, s.Status.Digest)
}

func keyIDs(keys []verify.PublicKey) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}
