package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/collect"
	"github.com/provkit/provkit/sign"
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
	fset := newFlagSet("attest", stderr, "attest --key FILE [--predicate FILE --type URI] [--source DIR] [--env NAME]... [--plain-http] [--oci-layout] REF")
	keyPath := fset.String("key", "", "private key: cosign.key (password from PROVKIT_PASSWORD, else COSIGN_PASSWORD) or PEM (required)")
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
	if *keyPath == "" {
		return usagef("attest: --key is required")
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
	key, err := loadSigner(*keyPath, env)
	if err != nil {
		return err
	}
	signer, err := sign.NewKeySigner(key)
	if err != nil {
		return configError(err)
	}
	store, image, err := resolve(ctx, ref, storeOptions{plainHTTP: *plainHTTP}, env)
	if err != nil {
		return err
	}
	name := ref.name
	if ref.layout {
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
	return textout.New(stdout).Printf("%s\n", attached.Digest)
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
