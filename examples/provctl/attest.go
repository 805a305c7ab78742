package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/provenance/collect"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/auditlog"
)

// predicateAliases are the short predicate type names cosign's --type accepts.
var predicateAliases = map[string]string{
	"slsaprovenance":   provenance.PredicateSLSAProvenanceV02,
	"slsaprovenance02": provenance.PredicateSLSAProvenanceV02,
	"slsaprovenance1":  provenance.PredicateSLSAProvenanceV1,
	"spdx":             provenance.PredicateSPDX,
	"spdxjson":         provenance.PredicateSPDX,
	"cyclonedx":        provenance.PredicateCycloneDX,
	"vuln":             provenance.PredicateCosignVuln,
	"openvex":          provenance.PredicateOpenVEX,
	"custom":           "https://cosign.sigstore.dev/attestation/v1",
}

// predicateType expands a cosign short name to its URI; anything else is taken as a URI.
func predicateType(s string) string {
	if uri, ok := predicateAliases[s]; ok {
		return uri
	}
	return s
}

// attestCmd runs "provctl attest".
func attestCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	fset := newFlagSet("attest", stderr, "attest (--key FILE | keyless) [--timestamp-server-url URL] [--rekor-url URL [--rekor-version 2]]\n"+
		"    [--fulcio-url URL] [--identity-token TOKEN|FILE] [--signing-config FILE] [--trusted-root FILE]\n"+
		"    [--predicate FILE --type URI] [--source DIR] [--env NAME]... [--plain-http] [--oci-layout]\n"+
		"    [--audit-log DIR --audit-log-key FILE --audit-key FILE [--audit-actor ID]] REF")
	var sf signFlags
	sf.register(fset)
	var af auditFlags
	af.register(fset)
	predPath := fset.String("predicate", "", "predicate JSON `file`; without it, SLSA provenance v1 is generated from --source")
	typ := fset.String("type", "", "predicate type `URI`, or a cosign name such as slsaprovenance1 (required with --predicate)")
	source := fset.String("source", ".", "build context `dir` the generated provenance describes (git state, environment)")
	plainHTTP := fset.Bool("plain-http", false, "talk plain HTTP to the registry (loopback only)")
	layout := fset.Bool("oci-layout", false, "REF is an OCI layout: PATH[:tag|@digest]")
	var envNames []string
	fset.Func("env", "also record environment variable `NAME` in generated provenance (repeatable); the CI platform's documented variables are recorded without it, and a variable whose name or value looks secret never is", func(name string) error {
		if name == "" || strings.ContainsRune(name, '=') {
			return fmt.Errorf("%q is not a variable name", name)
		}
		envNames = append(envNames, name)
		return nil
	})
	pos, err := parseFlags(fset, args, 1)
	if err != nil {
		return err
	}
	if (*predPath == "") != (*typ == "") {
		return usagef("attest: --predicate and --type go together")
	}
	if *predPath != "" && len(envNames) > 0 {
		return usagef("attest: --env applies to generated provenance, not to --predicate")
	}
	ref, err := parseReference(pos[0], *layout)
	if err != nil {
		return err
	}
	signer, err := sf.signer("attest", env)
	if err != nil {
		return err
	}
	store, image, err := resolve(ctx, ref, storeOptions{plainHTTP: *plainHTTP}, env)
	if err != nil {
		return err
	}
	log, err := af.open(ctx, env)
	if err != nil {
		return err
	}
	if log != nil {
		defer log.Close(ctx)
	}
	name := ref.name
	if ref.Layout != "" {
		name = filepath.Base(filepath.Clean(ref.name))
	}
	subject, err := provenance.SubjectFromDescriptor(name, image)
	if err != nil {
		return err
	}
	subjects := []*intoto.ResourceDescriptor{subject}

	var statement *intoto.Statement
	if *predPath != "" {
		statement, err = statementFromFile(subjects, *predPath, predicateType(*typ))
	} else {
		statement, err = generatedProvenance(ctx, subjects, *source, env, envNames)
	}
	if err != nil {
		return err
	}
	bundle, err := signer.Sign(ctx, statement)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	attached, err := store.Attach(ctx, image, bundle)
	if err != nil {
		return fmt.Errorf("attach to %s: %w", ref, err)
	}
	if log != nil {
		if err := recordAttestation(ctx, log, image.Digest, pos[0], statement.GetPredicateType(), bundle.Digest(), attached.Digest); err != nil {
			return fmt.Errorf("attached %s to %s, but the audit log %s did not record it: %w", attached.Digest, ref, af.log, err)
		}
	}
	return textout.New(stdout).Printf("%s\n", attached.Digest)
}

// recordAttestation records that a bundle was signed about image and attached to it as the
// manifest attached, and waits until the log's checkpoint covers both events.
func recordAttestation(ctx context.Context, log *auditlog.Log, image digest.Digest, name, predicateType string, bundle, attached digest.Digest) error {
	now := time.Now().UTC()
	attrs := map[string]string{"predicateType": predicateType}
	if err := log.Record(ctx, audit.Event{Kind: audit.KindAttested, Subject: image, SubjectName: name,
		Evidence: []digest.Digest{bundle}, Time: now, Attributes: attrs}); err != nil {
		return err
	}
	if err := log.Record(ctx, audit.Event{Kind: audit.KindAttached, Subject: image, SubjectName: name,
		Evidence: []digest.Digest{attached, bundle}, Time: now, Attributes: attrs}); err != nil {
		return err
	}
	return log.Close(ctx)
}

// Sigstore's public-good services, which keyless signing uses when no service is named, as
// cosign does.
const (
	publicGoodFulcio = "https://fulcio.sigstore.dev"
	publicGoodRekor  = "https://rekor.sigstore.dev"
)

// signFlags are the flags that say how attest signs: with a key or keyless, and with which
// timestamp authority, transparency log and certificate authority; cosign's names.
type signFlags struct {
	key           string
	tsaURL        string
	rekorURL      string
	rekorVersion  uint
	fulcioURL     string
	identityToken string
	signingConfig string
	trustedRoot   string
}

// register adds the signing flags to fset.
func (f *signFlags) register(fset *flag.FlagSet) {
	fset.StringVar(&f.key, "key", "", "private key `file`: cosign.key (password from PROVKIT_PASSWORD, else COSIGN_PASSWORD) or PEM; without it, sign keyless")
	fset.StringVar(&f.tsaURL, "timestamp-server-url", "", "RFC 3161 timestamp authority `URL`, the full endpoint, e.g. https://timestamp.example/api/v1/timestamp")
	fset.StringVar(&f.rekorURL, "rekor-url", "", "Rekor transparency log `URL` to record each signature in (keyless default "+publicGoodRekor+" when no service is named)")
	fset.UintVar(&f.rekorVersion, "rekor-version", 1, "major API `version` of --rekor-url: 1, or 2 (which records no time, so it needs --timestamp-server-url)")
	fset.StringVar(&f.fulcioURL, "fulcio-url", "", "keyless: Fulcio `URL` that certifies the ephemeral key (default "+publicGoodFulcio+" when no service is named)")
	fset.StringVar(&f.identityToken, "identity-token", "", "keyless: OIDC identity `token`, or a file holding it; default $SIGSTORE_ID_TOKEN, else GitHub Actions' ID-token endpoint")
	fset.StringVar(&f.signingConfig, "signing-config", "", "Sigstore signing_config.json `file` naming the services, instead of the URL flags")
	fset.StringVar(&f.trustedRoot, "trusted-root", "", "check each signature against this trusted_root.json `file` before attaching it")
}

// signer builds the Signer the flags describe; cmd names the command in errors. With --key,
// only the services named are used (none: an offline signature). Keyless signing uses the
// services named, or public-good Fulcio and Rekor when none is.
func (f *signFlags) signer(cmd string, env map[string]string) (sign.Signer, error) {
	named := f.tsaURL != "" || f.rekorURL != "" || f.fulcioURL != ""
	if f.signingConfig != "" && named {
		return nil, usagef("%s: --signing-config and the service URL flags exclude each other", cmd)
	}
	if f.key != "" && (f.fulcioURL != "" || f.identityToken != "") {
		return nil, usagef("%s: --fulcio-url and --identity-token are for keyless signing, without --key", cmd)
	}
	fulcio, rekor := f.fulcioURL, f.rekorURL
	if f.key == "" && !named && f.signingConfig == "" {
		fulcio, rekor = publicGoodFulcio, publicGoodRekor
	}
	var opts []sign.Option
	if f.signingConfig != "" {
		sc, err := root.NewSigningConfigFromPath(f.signingConfig)
		if err != nil {
			return nil, configError(fmt.Errorf("signing config %s: %w", f.signingConfig, err))
		}
		opts = append(opts, sign.WithSigningConfig(sc))
	}
	if f.tsaURL != "" {
		opts = append(opts, sign.WithTimestampAuthority(f.tsaURL))
	}
	if f.rekorVersion != 1 && f.rekorVersion != 2 {
		return nil, usagef("%s: --rekor-version is 1 or 2, not %d", cmd, f.rekorVersion)
	}
	if rekor != "" {
		if f.rekorVersion == 2 && f.tsaURL == "" {
			return nil, usagef("%s: Rekor v2 records no signing time: add --timestamp-server-url", cmd)
		}
		opts = append(opts, sign.WithTransparencyLog(rekor, uint32(f.rekorVersion)))
	}
	if f.trustedRoot != "" {
		tr, err := verify.LoadTrustedRoot(f.trustedRoot)
		if err != nil {
			return nil, configError(err)
		}
		opts = append(opts, sign.WithVerification(tr))
	}
	if f.key != "" {
		key, err := loadSigner(f.key, env)
		if err != nil {
			return nil, err
		}
		s, err := sign.NewKeySigner(key, opts...)
		return s, configError(err)
	}
	if fulcio == "" && f.signingConfig == "" {
		return nil, usagef("%s: keyless signing needs --fulcio-url (or --key to sign with a key)", cmd)
	}
	if rekor == "" && f.tsaURL == "" && f.signingConfig == "" {
		return nil, usagef("%s: keyless signing needs --rekor-url or --timestamp-server-url: a verifier must know the short-lived certificate was valid when it signed", cmd)
	}
	if fulcio != "" {
		opts = append(opts, sign.WithFulcio(fulcio))
	}
	tokens, err := f.tokens(cmd, env)
	if err != nil {
		return nil, err
	}
	s, err := sign.NewKeylessSigner(tokens, opts...)
	return s, configError(err)
}

// tokens returns the OIDC identity token source of keyless signing, as cosign finds it:
// --identity-token (a token, or a file holding one), else SIGSTORE_ID_TOKEN, else GitHub
// Actions' ID-token endpoint.
func (f *signFlags) tokens(cmd string, env map[string]string) (sign.TokenSource, error) {
	switch {
	case f.identityToken != "":
		if st, err := os.Stat(f.identityToken); err == nil && st.Mode().IsRegular() {
			return sign.TokenFile(f.identityToken), nil
		}
		return sign.StaticToken(f.identityToken), nil
	case strings.TrimSpace(env[sign.EnvSigstoreIDToken]) != "":
		return sign.TokenFromEnv(env), nil
	case env[sign.EnvGitHubTokenRequestURL] != "" && env[sign.EnvGitHubTokenRequestToken] != "":
		return sign.GitHubActionsToken(env, nil), nil
	}
	return nil, usagef("%s: keyless signing needs an identity token: --identity-token, %s, or GitHub Actions' %s and %s (permissions: id-token: write)",
		cmd, sign.EnvSigstoreIDToken, sign.EnvGitHubTokenRequestURL, sign.EnvGitHubTokenRequestToken)
}

// statementFromFile makes a statement about subjects with the JSON predicate in path.
func statementFromFile(subjects []*intoto.ResourceDescriptor, path, typ string) (*intoto.Statement, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, configError(err)
	}
	if !json.Valid(data) {
		return nil, usagef("predicate %s is not JSON", path)
	}
	st, err := provenance.NewStatement(subjects, typ, json.RawMessage(data))
	if err != nil {
		return nil, configError(fmt.Errorf("predicate %s: %w", path, err))
	}
	return st, nil
}

// generatedProvenance collects the build facts of dir (git state, CI platform, the platform's
// documented environment variables and those named in envNames, less any that look secret) and
// returns SLSA provenance v1 about subjects. Outside a git checkout it records the folder as the
// build's parameter instead of a source.
func generatedProvenance(ctx context.Context, subjects []*intoto.ResourceDescriptor, dir string, env map[string]string, envNames []string) (*intoto.Statement, error) {
	capture := collect.WithEnvCapture(collect.WithEnvNames(envNames...))
	facts, err := collect.Build(ctx, dir, collect.WithEnv(env), capture)
	if errors.Is(err, collect.ErrNotGitRepository) {
		abs, aerr := filepath.Abs(dir)
		if aerr != nil {
			return nil, aerr
		}
		facts, err = collect.Build(ctx, dir, collect.WithEnv(env), capture, collect.WithoutGit(),
			collect.WithParameters(map[string]any{"source": abs}))
	}
	if err != nil {
		return nil, fmt.Errorf("collect build facts in %s: %w", dir, err)
	}
	facts.FinishedOn = time.Now().UTC()
	if facts.FinishedOn.Before(facts.StartedOn) {
		facts.FinishedOn = facts.StartedOn
	}
	st, err := facts.Statement(subjects)
	if err != nil {
		return nil, fmt.Errorf("make statement: %w", err)
	}
	return st, nil
}
