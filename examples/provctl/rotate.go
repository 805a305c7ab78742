package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

const rotateUsage = `rotate --key FILE... --new-key FILE [--timestamp-server-url URL] [--type URI] [--insecure-ignore-tlog]
      [--trusted-root FILE] [--timestamp-certificate-chain FILE] [--decided-by ID] [--reason TEXT]
      [--audit-log DIR --audit-log-key FILE --audit-key FILE [--audit-actor ID]] [--plain-http] [--oci-layout] REF...`

// rotateCmd runs "provctl rotate": the attestations of each REF that verify as signed by a
// --key are signed again with --new-key, each new bundle attached beside the old one and
// naming it. It prints one line per attestation: re-signed, skipped (an earlier rotation
// re-signed it) or failed, with why.
func rotateCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	var f verifyFlags
	fset := newFlagSet("rotate", stderr, rotateUsage)
	f.trustFlags.register(fset)
	fset.BoolVar(&f.plainHTTP, "plain-http", false, "talk plain HTTP to the registry (loopback only)")
	fset.BoolVar(&f.layout, "oci-layout", false, "each REF is an OCI layout: PATH[:tag|@digest]")
	f.audit.register(fset)
	newKey := fset.String("new-key", "", "private key `file` that re-signs: cosign.key (password from PROVKIT_PASSWORD, else COSIGN_PASSWORD) or PEM (required)")
	tsaURL := fset.String("timestamp-server-url", "", "RFC 3161 timestamp authority `URL` that dates the new signatures")
	decidedBy := fset.String("decided-by", "", "`identity` on whose authority the keys rotate, recorded in each audit event")
	reason := fset.String("reason", "", "why the keys rotate, recorded in each audit event")
	refs, err := parseFlagsAtLeast(fset, args, 1)
	if err != nil {
		return err
	}
	switch {
	case *newKey == "":
		return usagef("rotate: --new-key is required")
	case len(f.keys) == 0:
		return usagef("rotate: --key names the signers whose attestations are re-signed")
	}
	oldKeys, err := loadTrustedKeys(f.keys, env)
	if err != nil {
		return err
	}
	newKeys, err := loadTrustedKeys([]string{*newKey}, env)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(oldKeys, func(k verify.PublicKey) bool { return k.ID == newKeys[0].ID }) {
		return usagef("rotate: --new-key %s is one of the --key keys: nothing would rotate", *newKey)
	}
	f.keys = append(f.keys, *newKey) // trusted to check each replacement before it is attached
	verifier, _, err := f.verifier(ctx, "rotate", env)
	if err != nil {
		return err
	}
	k, err := loadSigner(*newKey, env)
	if err != nil {
		return err
	}
	var signOpts []sign.Option
	if *tsaURL != "" {
		signOpts = append(signOpts, sign.WithTimestampAuthority(*tsaURL))
	}
	signer, err := sign.NewKeySigner(k, signOpts...)
	if err != nil {
		return configError(err)
	}
	var opts []gate.Option
	log, err := f.audit.open(ctx, env)
	if err != nil {
		return err
	}
	if log != nil {
		defer log.Close(ctx)
		opts = append(opts, gate.WithRecorder(log, f.audit.actor))
	}
	checker, err := gate.New(verifier, verify.KeyIDs(keyIDs(oldKeys)...), opts...)
	if err != nil {
		return configError(err)
	}
	rotation := gate.Rotation{Signer: signer, Identity: verify.KeyIDs(newKeys[0].ID), DecidedBy: *decidedBy, Reason: *reason}

	out := textout.New(stdout)
	var rows, denied, unchecked int
	for _, r := range refs {
		ref, err := parseReference(r, f.layout)
		if err != nil {
			return err
		}
		store, image, err := resolve(ctx, ref, storeOptions{plainHTTP: f.plainHTTP}, env)
		if err != nil {
			return err
		}
		rotated, err := checker.Rotate(ctx, store, []ocispec.Descriptor{image}, rotation)
		if err != nil {
			return &usageError{err}
		}
		if len(rotated) == 0 {
			if err := out.Printf("nothing    %s  no attestation signed by --key to re-sign\n", r); err != nil {
				return err
			}
		}
		for _, row := range rotated {
			rows++
			switch {
			case row.Err == nil:
			case notVerified(row.Err):
				denied++
			default:
				unchecked++
			}
			if err := printRotated(out, r, row); err != nil {
				return err
			}
		}
	}
	if log != nil {
		if err := log.Close(ctx); err != nil {
			return fmt.Errorf("audit log %s: %w", f.audit.log, err)
		}
	}
	switch {
	case unchecked > 0:
		return fmt.Errorf("rotate: %d of %d attestations could not be re-signed, %d did not verify", unchecked, rows, denied)
	case denied > 0:
		return deniedf("rotate: %d of %d attestations did not verify under --key and were not re-signed", denied, rows)
	}
	return nil
}

// notVerified says whether a row failed because its attestation did not verify: the evidence
// says no. Any other failure (a store, the signer, the audit log) is one to try again.
func notVerified(err error) bool {
	var re *gate.RotateError
	return errors.As(err, &re) && re.Op == "verify" &&
		(errors.Is(err, verify.ErrVerification) || errors.Is(err, verify.ErrUnsupportedMediaType) ||
			errors.Is(err, gate.ErrUnsigned) || errors.Is(err, gate.ErrWrongRole))
}

// printRotated prints one row of the rotation report.
func printRotated(out *textout.Printer, ref string, r gate.Rotated) error {
	var re *gate.RotateError
	switch {
	case r.Err != nil && errors.As(r.Err, &re) && re.Attestation == "":
		return out.Printf("failed     %s  %s: %v\n", ref, re.Op, re.Err)
	case r.Err != nil && errors.As(r.Err, &re):
		return out.Printf("failed     %s  %s  %s: %v\n", ref, r.Replaced.Manifest.Digest, re.Op, re.Err)
	case r.Err != nil:
		return out.Printf("failed     %s  %s  %v\n", ref, r.Replaced.Manifest.Digest, r.Err)
	case r.Resigned:
		return out.Printf("re-signed  %s  %s  %s signed by %s  ->  %s\n", ref, r.Replaced.Manifest.Digest, r.Replaced.PredicateType,
			signerLabel(r.Signer), r.Replacement.Digest)
	}
	return out.Printf("skipped    %s  %s  already re-signed as %s\n", ref, r.Replaced.Manifest.Digest, r.Replacement.Digest)
}

// signerLabel names a verified signer: its key ID, or its certificate identity and issuer.
func signerLabel(s verify.Signer) string {
	if s.Certificate != nil {
		return s.Certificate.SubjectAlternativeName + " (" + s.Certificate.Issuer + ")"
	}
	return "key " + s.KeyID
}
