package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/lifecycle"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

const lifecycleUsage = `lifecycle set --key FILE --state active|deprecated|retired|revoked [--reason R] [--successor DIGEST]
      --decided-by ID [--effective RFC3339] [--plain-http] [--oci-layout] REF
  provctl lifecycle show --key FILE... [--at RFC3339] [--output json] [--plain-http] [--oci-layout] REF`

// lifecycleCmd runs "provctl lifecycle set|show".
func lifecycleCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	if len(args) == 0 {
		return usagef("usage: provctl %s", lifecycleUsage)
	}
	switch args[0] {
	case "set":
		return lifecycleSet(ctx, args[1:], stdout, stderr, env)
	case "show":
		return lifecycleShow(ctx, args[1:], stdout, stderr, env)
	}
	return usagef("lifecycle: unknown command %q (set, show)", args[0])
}

func lifecycleSet(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	fset := newFlagSet("lifecycle set", stderr, lifecycleUsage)
	key := fset.String("key", "", "private key `file` that signs the status (required)")
	state := fset.String("state", "", "active, deprecated, retired or revoked (required)")
	reason := fset.String("reason", "", "why, for people (required but for active)")
	successor := fset.String("successor", "", "`digest` of the artifact to migrate to; it must be in the same repository or layout")
	decidedBy := fset.String("decided-by", "", "`identity` on whose authority the status is set (required)")
	effective := fset.String("effective", "", "when the status takes effect, RFC 3339 (default: now)")
	plainHTTP := fset.Bool("plain-http", false, "talk plain HTTP to the registry (loopback only)")
	layout := fset.Bool("oci-layout", false, "REF is an OCI layout: PATH[:tag|@digest]")
	pos, err := parseFlags(fset, args, 1)
	if err != nil {
		return err
	}
	if *key == "" || *state == "" || *decidedBy == "" {
		return usagef("lifecycle set: --key, --state and --decided-by are required")
	}
	when := time.Now().UTC()
	if *effective != "" {
		if when, err = time.Parse(time.RFC3339, *effective); err != nil {
			return usagef("lifecycle set: --effective %q is not an RFC 3339 time", *effective)
		}
	}
	ref, err := parseReference(pos[0], *layout)
	if err != nil {
		return err
	}
	store, image, err := resolve(ctx, ref, storeOptions{plainHTTP: *plainHTTP}, env)
	if err != nil {
		return err
	}
	status := lifecycle.Status{Subject: image.Digest, SubjectName: pos[0], State: lifecycle.State(*state), Reason: *reason,
		Effective: when.UTC(), DecidedBy: *decidedBy}
	if *successor != "" {
		d, err := provenance.ParseDigest(*successor)
		if err != nil {
			return &usageError{fmt.Errorf("lifecycle set: --successor: %w", err)}
		}
		if _, err := store.Resolve(ctx, d.String()); err != nil {
			return fmt.Errorf("lifecycle set: successor %s is not in %s: %w", d, ref.name, err)
		}
		status.Successor = d
	}
	st, err := status.Statement()
	if err != nil {
		return &usageError{err}
	}
	k, err := loadSigner(*key, env)
	if err != nil {
		return err
	}
	signer, err := sign.NewKeySigner(k)
	if err != nil {
		return configError(err)
	}
	b, err := signer.Sign(ctx, st)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	b.Effective = status.Effective
	attached, err := store.Attach(ctx, image, b)
	if err != nil {
		return fmt.Errorf("attach to %s: %w", ref, err)
	}
	return textout.New(stdout).Printf("%s\n", attached.Digest)
}

func lifecycleShow(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	fset := newFlagSet("lifecycle show", stderr, lifecycleUsage)
	var keyPaths []string
	fset.Func("key", "public key `file` of an identity entitled to set statuses (repeatable, required)", func(p string) error {
		keyPaths = append(keyPaths, p)
		return nil
	})
	at := fset.String("at", "", "the status in effect at this RFC 3339 time (default: now)")
	output := fset.String("output", "text", "text or json")
	plainHTTP := fset.Bool("plain-http", false, "talk plain HTTP to the registry (loopback only)")
	layout := fset.Bool("oci-layout", false, "REF is an OCI layout: PATH[:tag|@digest]")
	pos, err := parseFlags(fset, args, 1)
	if err != nil {
		return err
	}
	if len(keyPaths) == 0 {
		return usagef("lifecycle show: --key is required: only entitled signers' statuses count")
	}
	when := time.Now().UTC()
	if *at != "" {
		if when, err = time.Parse(time.RFC3339, *at); err != nil {
			return usagef("lifecycle show: --at %q is not an RFC 3339 time", *at)
		}
	}
	keys, err := loadTrustedKeys(keyPaths, env)
	if err != nil {
		return err
	}
	set, err := verify.TrustedKeys(keys...)
	if err != nil {
		return configError(err)
	}
	// Statuses carry no log entry or timestamp when signed by provctl lifecycle set.
	v, err := verify.New(set, verify.WithUntimestampedKeysUnsafe(), verify.WithPredicateTypes(lifecycle.PredicateType))
	if err != nil {
		return configError(err)
	}
	ref, err := parseReference(pos[0], *layout)
	if err != nil {
		return err
	}
	store, image, err := resolve(ctx, ref, storeOptions{plainHTTP: *plainHTTP}, env)
	if err != nil {
		return err
	}
	r, err := gate.Lifecycle(ctx, store, image, v, verify.KeyIDs(set.IDs()...), when)
	if err != nil {
		var ce *lifecycle.ConflictError
		if errors.As(err, &ce) {
			return &deniedError{err}
		}
		return err
	}
	return printResolution(stdout, *output, image.Digest, r)
}

func printResolution(stdout io.Writer, output string, subject digest.Digest, r *lifecycle.Resolution) error {
	if output == "json" {
		doc := map[string]any{"subject": subject, "state": r.State()}
		if c := r.Current; c != nil {
			doc["status"] = map[string]any{"reason": c.Status.Reason, "successor": c.Status.Successor, "effective": c.Status.Effective,
				"decidedBy": c.Status.DecidedBy, "signer": c.Signer, "bundle": c.Bundle}
		}
		var aside []map[string]any
		for _, s := range r.SetAside {
			aside = append(aside, map[string]any{"bundle": s.Signed.Bundle, "signer": s.Signed.Signer, "reason": s.Err.Error()})
		}
		doc["setAside"] = aside
		return json.NewEncoder(stdout).Encode(doc)
	}
	out := textout.New(stdout)
	if err := out.Printf("%s  %s\n", subject, r.State()); err != nil {
		return err
	}
	if c := r.Current; c != nil {
		lines := fmt.Sprintf("  since %s, decided by %s, signed by %s\n  reason: %s\n", c.Status.Effective.Format(time.RFC3339), c.Status.DecidedBy, c.Signer, c.Status.Reason)
		if c.Status.Successor != "" {
			lines += fmt.Sprintf("  successor: %s\n", c.Status.Successor)
		}
		if err := out.Printf("%s", lines); err != nil {
			return err
		}
	}
	for _, s := range r.SetAside {
		if err := out.Printf("  set aside %s: %v\n", s.Signed.Bundle, s.Err); err != nil {
			return err
		}
	}
	return nil
}
