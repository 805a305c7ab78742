package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/diff"
	"github.com/provkit/provkit/provenance/rebuild"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify/rerun"
)

// rerunCmd runs "provctl rerun": it verifies the workflow step recorded for REF (a file stored
// as an OCI artifact, or an image), re-runs the step from the record (the same image, command,
// environment and inputs, fetched by digest from REF's store) in a fresh folder, prints what
// was compared and the outcome, and with --sign-key signs the rebuild statement and attaches
// it to REF. Exit status 0 only when the re-run matched.
func rerunCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	var trust trustFlags
	fset := newFlagSet("rerun", stderr, "rerun (--key FILE | keyless flags) [--sign-key FILE] [--step-timeout DURATION] [--keep]\n"+
		"    [--output text|json] [--plain-http] [--oci-layout] REF")
	trust.register(fset)
	signKey := fset.String("sign-key", "", "sign the rebuild statement with this private key `file` and attach it to REF")
	stepTimeout := fset.Duration("step-timeout", rerun.DefaultTimeout, "stop the step's command after this `duration`")
	keep := fset.Bool("keep", false, "keep the folder the step ran in, and print where it is")
	output := fset.String("output", "text", "output `format`: text, or json (the rebuild statement)")
	plainHTTP := fset.Bool("plain-http", false, "talk plain HTTP to the registry (loopback only)")
	layout := fset.Bool("oci-layout", false, "REF is an OCI layout: PATH[:tag|@digest]")
	pos, err := parseFlags(fset, args, 1)
	if err != nil {
		return err
	}
	if *output != "text" && *output != "json" {
		return usagef("rerun: --output must be text or json, not %q", *output)
	}
	if *stepTimeout <= 0 {
		return usagef("rerun: --step-timeout must be positive, not %v", *stepTimeout)
	}
	verifier, identity, err := trust.verifier(ctx, "rerun", env)
	if err != nil {
		return err
	}
	var signer sign.Signer
	if *signKey != "" {
		key, err := loadSigner(*signKey, env)
		if err != nil {
			return err
		}
		if signer, err = sign.NewKeySigner(key); err != nil {
			return configError(err)
		}
	}
	ref, err := parseReference(pos[0], *layout)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, ref, storeOptions{plainHTTP: *plainHTTP}, env)
	if err != nil {
		return err
	}
	stored, err := storedArtifact(ctx, store, ref)
	if err != nil {
		return err
	}
	record, err := slsaProvenance(ctx, store, stored.Subject, stored.Artifact, verifier, identity)
	if err != nil {
		return err
	}
	if record.result == nil {
		_ = textout.New(stderr).Printf("provctl: %s: %s\n", ref, record.none)
		return &exitError{exitDenied}
	}
	step, err := rerun.StepFromResult(record.result)
	if err != nil {
		return deniedf("%s: %w", ref, err)
	}
	p := textout.New(stdout)
	if *output == "text" {
		if err := p.Printf("rerun    step %q in %s: %s\n", step.Name, step.Image, strings.Join(step.Command, " ")); err != nil {
			return err
		}
	}
	out, err := rerun.Run(ctx, record.result, store, store.Target(), rerun.WithTimeout(*stepTimeout),
		rerun.WithClock(provenance.SystemClock()))
	if out != nil && out.Dir != "" {
		if *keep {
			_ = textout.New(stderr).Printf("provctl: the step ran in %s\n", out.Dir)
		} else {
			defer os.RemoveAll(out.Dir)
		}
	}
	if err != nil {
		return rerunError(stderr, out, err)
	}
	result := out.Rebuild
	return finishRebuild(ctx, stdout, store, stored.Subject, ref, signer, *output == "json", result, printRerun)
}

// printRerun prints a re-run's outcome: what was compared, and each difference from the record.
func printRerun(w io.Writer, ref reference, result *rebuild.Result) error {
	p := textout.New(w)
	var err error
	if result.Matched() {
		err = p.Printf("match    %s: %s\n", ref, result.Summary())
	} else if err = p.Printf("mismatch %s: %s\n", ref, result.Summary()); err == nil {
		report := diff.Report{Schema: diff.ReportSchema, Baseline: "the record " + result.Original.Statement.String(), Current: "the re-run", Changes: result.Differences}
		err = report.WriteText(p)
	}
	return err
}

// rerunError reports a re-run that stopped before its rebuild check. Evidence that is bad (an
// input or layer that does not match its digest, an unsafe layer, a command that fails as
// recorded) is a denial; anything else (not stored, not root, a registry error) is a failure
// to check.
func rerunError(stderr io.Writer, out *rerun.Outcome, err error) error {
	if out != nil && len(out.Stderr) > 0 && errors.Is(err, rerun.ErrCommand) {
		_ = textout.New(stderr).Printf("provctl: the step's standard error:\n%s\n", tailLines(string(out.Stderr), 20))
	}
	if errors.Is(err, rerun.ErrIntegrity) || errors.Is(err, rerun.ErrUnsafeLayer) || errors.Is(err, rerun.ErrCommand) || errors.Is(err, rerun.ErrInvalidRecord) {
		return &deniedError{err}
	}
	return err
}

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
