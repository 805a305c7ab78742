package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/auditlog"
)

// verifyFlags are the flags of "provctl verify".
type verifyFlags struct {
	trustFlags
	policy    string
	env       string
	plainHTTP bool
	layout    bool
	output    string
	audit     auditFlags
}

// auditFlags name the audit log a command records its decisions in.
type auditFlags struct {
	log, logKey, key, actor string
}

func (a *auditFlags) register(fset *flag.FlagSet) {
	fset.StringVar(&a.log, "audit-log", "", "record what the command did or decided in the audit log `folder` (with --audit-log-key and --audit-key)")
	fset.StringVar(&a.logKey, "audit-log-key", "", "checkpoint signing key `file` of --audit-log (from audit keygen)")
	fset.StringVar(&a.key, "audit-key", "", "event signing key `file` of --audit-log")
	fset.StringVar(&a.actor, "audit-actor", "provctl", "`identity` recorded as the events' actor")
}

// open opens the audit log, or returns nil without --audit-log.
func (a *auditFlags) open(ctx context.Context, env map[string]string) (*auditlog.Log, error) {
	if a.log == "" {
		return nil, nil
	}
	if a.logKey == "" || a.key == "" {
		return nil, usagef("--audit-log needs --audit-log-key and --audit-key")
	}
	return openAuditLog(ctx, a.log, a.logKey, a.key, a.actor, env)
}

// verifiedAttestation is one attestation's verification outcome, as verify prints it.
type verifiedAttestation struct {
	// Manifest is the digest of the manifest holding the attestation.
	Manifest digest.Digest `json:"manifest"`
	// Source says where it was found.
	Source oras.Source `json:"source"`
	// MediaType is the bundle's or envelope's media type.
	MediaType string `json:"mediaType,omitempty"`
	// PredicateType is the verified predicate type, or the recorded one when verification failed.
	PredicateType string `json:"predicateType,omitempty"`
	// Verified says whether the attestation verified.
	Verified bool `json:"verified"`
	// Signer is who signed, when it verified.
	Signer *verify.Signer `json:"signer,omitempty"`
	// Check names the verification step that failed.
	Check verify.Check `json:"check,omitempty"`
	// Error says why it did not verify.
	Error string `json:"error,omitempty"`
}

// verifyOutput is the JSON document verify prints with --output json.
type verifyOutput struct {
	// Reference is REF as given.
	Reference string `json:"reference"`
	// Digest is the digest REF resolved to.
	Digest digest.Digest `json:"digest"`
	// Verdict is allow or deny.
	Verdict policy.Verdict `json:"verdict"`
	// Reason says why, when no policy decided.
	Reason string `json:"reason,omitempty"`
	// Attestations lists every attestation tried.
	Attestations []verifiedAttestation `json:"attestations"`
	// Decision is the policy's decision, with every rule's outcome and reason.
	Decision *policy.Decision `json:"decision,omitempty"`
}

// verifyCmd runs "provctl verify".
func verifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	var f verifyFlags
	fset := newFlagSet("verify", stderr, "verify (--key FILE | --certificate-identity[-regexp] X --certificate-oidc-issuer[-regexp] Y --trusted-root FILE)\n"+
		"    [--type URI] [--policy FILE] [--env NAME] [--insecure-ignore-tlog] [--plain-http] [--oci-layout] [--output json] REF")
	f.trustFlags.register(fset)
	fset.StringVar(&f.policy, "policy", "", "policy `file` to decide with after verification")
	fset.StringVar(&f.env, "env", "", "policy environment `name` to gate for (default: enforce every rule)")
	fset.BoolVar(&f.plainHTTP, "plain-http", false, "talk plain HTTP to the registry (loopback only)")
	fset.BoolVar(&f.layout, "oci-layout", false, "REF is an OCI layout: PATH[:tag|@digest]")
	fset.StringVar(&f.output, "output", "text", "output `format`: text or json")
	f.audit.register(fset)
	pos, err := parseFlags(fset, args, 1)
	if err != nil {
		return err
	}
	ref, err := parseReference(pos[0], f.layout)
	if err != nil {
		return err
	}
	if f.output != "text" && f.output != "json" {
		return usagef("verify: --output must be text or json, not %q", f.output)
	}
	if f.env != "" && f.policy == "" {
		return usagef("verify: --env needs --policy")
	}
	verifier, identity, err := f.verifier(ctx, "verify", env)
	if err != nil {
		return err
	}
	pol, err := f.loadPolicy()
	if err != nil {
		return err
	}

	store, image, err := resolve(ctx, ref, storeOptions{plainHTTP: f.plainHTTP}, env)
	if err != nil {
		return err
	}
	log, err := f.audit.open(ctx, env)
	if err != nil {
		return err
	}
	var record []gate.Option
	if log != nil {
		record = append(record, gate.WithRecorder(log, f.audit.actor))
	}
	report, err := check(ctx, store, image, verifier, identity, pol, f.env, record...)
	if log != nil {
		if cerr := log.Close(ctx); cerr != nil {
			return fmt.Errorf("audit log %s: %w", f.audit.log, cerr)
		}
	}
	if err != nil && !errors.Is(err, policy.ErrDenied) {
		return err
	}
	out := verifyOutput{Reference: pos[0], Digest: image.Digest, Attestations: []verifiedAttestation{}}
	for _, v := range report.Verified {
		signer := v.Result.Signer()
		out.Attestations = append(out.Attestations, verifiedAttestation{Manifest: v.Found.Manifest.Digest, Source: v.Found.Source,
			MediaType: v.MediaType, PredicateType: v.Result.PredicateType(), Verified: true, Signer: &signer})
	}
	for _, r := range report.Rejected {
		va := verifiedAttestation{Manifest: r.Found.Manifest.Digest, Source: r.Found.Source, MediaType: r.MediaType,
			PredicateType: r.Found.PredicateType, Error: r.Err.Error()}
		if ve := (*verify.VerificationError)(nil); errors.As(r.Err, &ve) {
			va.Check = ve.Check
		}
		out.Attestations = append(out.Attestations, va)
	}
	tried := len(out.Attestations)
	what := "attestation"
	if wantType := predicateType(f.typ); wantType != "" {
		what = wantType + " attestation"
	}
	out.Verdict = policy.VerdictAllow
	switch {
	case len(report.Verified) == 0:
		out.Verdict = policy.VerdictDeny
		out.Reason = fmt.Sprintf("no %s verified (%d tried)", what, tried)
	case report.Decision != nil:
		out.Decision, out.Verdict = report.Decision, report.Decision.Verdict
	default:
		out.Reason = fmt.Sprintf("%d of %d attestations verified", len(report.Verified), tried)
	}

	if f.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else if err := printVerify(stdout, ref, out); err != nil {
		return err
	}
	if out.Verdict != policy.VerdictAllow {
		return &exitError{exitDenied}
	}
	return nil
}

// loadPolicy loads --policy and checks --env against it; it returns nil without --policy.
func (f *verifyFlags) loadPolicy() (*policy.Policy, error) {
	if f.policy == "" {
		return nil, nil
	}
	file, err := os.Open(f.policy)
	if err != nil {
		return nil, configError(err)
	}
	defer file.Close()
	pol, err := policy.Load(file)
	if err != nil {
		return nil, configError(fmt.Errorf("%s: %w", f.policy, err))
	}
	if f.env != "" && !slices.Contains(pol.Environments(), f.env) {
		return nil, usagef("policy %s has no environment %q (has %v)", f.policy, f.env, pol.Environments())
	}
	return pol, nil
}

// printVerify prints the outcome of verify as text: each attestation, each rule, the verdict.
func printVerify(w io.Writer, ref reference, out verifyOutput) error {
	p := textout.New(w)
	p.Printf("%s@%s\n", ref.name, out.Digest)
	for _, a := range out.Attestations {
		if a.Verified {
			by := "key " + a.Signer.KeyID
			if c := a.Signer.Certificate; c != nil {
				by = c.SubjectAlternativeName + " (" + c.Issuer + ")"
			}
			p.Printf("verified %s %s %s signed by %s\n", a.Manifest, a.Source, a.PredicateType, by)
			continue
		}
		p.Printf("failed   %s %s %s: %s\n", a.Manifest, a.Source, a.PredicateType, a.Error)
	}
	if d := out.Decision; d != nil {
		for _, r := range d.Rules {
			p.Printf("%-8s %-24s %s\n", r.Outcome, r.Name, r.Reason)
		}
		for _, r := range d.Reasons {
			p.Printf("reason   %s\n", r)
		}
		env := d.Environment
		if env == "" {
			env = "every rule enforced"
		}
		return p.Printf("verdict  %s (policy %s, %s)\n", d.Verdict, d.Policy.Name, env)
	}
	return p.Printf("verdict  %s: %s\n", out.Verdict, out.Reason)
}

// check runs the one-call check of subject in store (package gate): discover, fetch, verify,
// and with pol decide, for env when not empty. The error is nil, one that matches
// policy.ErrDenied (the report says why), or one that means the check could not be made.
func check(ctx context.Context, store *oras.Store, subject ocispec.Descriptor, v *verify.Verifier, id verify.Identity, pol *policy.Policy, env string, opts ...gate.Option) (*gate.Report, error) {
	if pol != nil {
		opts = append(opts, gate.WithPolicy(pol))
		if env != "" {
			opts = append(opts, gate.WithEnvironment(env))
		}
	}
	checker, err := gate.New(v, id, opts...)
	if err != nil {
		return nil, configError(err)
	}
	report, err := checker.Check(ctx, store, subject)
	if ce := (*gate.CheckError)(nil); errors.As(err, &ce) && errors.Is(err, gate.ErrInvalidConfig) {
		return nil, configError(err)
	}
	return report, err
}
