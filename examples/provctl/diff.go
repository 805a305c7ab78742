package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/diff"
	"github.com/provkit/provkit/verify"
)

// diffCmd runs "provctl diff": it compares a current image with a known-good baseline (layers,
// configuration, annotations and, with trust flags, verified provenance), or with --environments
// what one tag resolves to in several registries. Exit status 0 means no difference, 1 drift,
// or a tag that no environment has.
func diffCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	var trust trustFlags
	fset := newFlagSet("diff", stderr, "diff [--key FILE | keyless flags] [--output text|json] [--plain-http] [--oci-layout] BASELINE CURRENT\n"+
		"       provctl diff --environments [--output text|json] [--plain-http] NAME=REF NAME=REF...")
	trust.register(fset)
	environments := fset.Bool("environments", false, "compare what each NAME=REF resolves to; the first is the baseline")
	output := fset.String("output", "text", "output `format`: text or json")
	plainHTTP := fset.Bool("plain-http", false, "talk plain HTTP to the registries (loopback only)")
	layout := fset.Bool("oci-layout", false, "references are OCI layouts: PATH[:tag|@digest]")
	pos, err := parseFlagsAtLeast(fset, args, 2)
	if err != nil {
		return err
	}
	if *output != "text" && *output != "json" {
		return usagef("diff: --output must be text or json, not %q", *output)
	}
	opts := storeOptions{plainHTTP: *plainHTTP}
	var report *diff.Report
	if *environments {
		if trust.given() {
			return usagef("diff: --environments compares digests only; it takes no trust flags")
		}
		report, err = diffEnvironments(ctx, pos, *layout, opts, env)
	} else {
		if len(pos) != 2 {
			return usagef("diff: want BASELINE and CURRENT, got %d argument(s)", len(pos))
		}
		report, err = diffImages(ctx, pos[0], pos[1], *layout, opts, &trust, env)
	}
	if err != nil {
		return err
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(report)
	} else {
		err = report.WriteText(textout.New(stdout))
	}
	if err != nil {
		return err
	}
	if report.Drifted() {
		return &exitError{exitDenied}
	}
	return nil
}

// diffImages compares the images baseline and current name, and, when trust flags are given,
// their verified SLSA provenance.
func diffImages(ctx context.Context, baseline, current string, layout bool, opts storeOptions, trust *trustFlags, env map[string]string) (*diff.Report, error) {
	var (
		verifier *verify.Verifier
		identity verify.Identity
		err      error
	)
	if trust.given() {
		if verifier, identity, err = trust.verifier(ctx, "diff", env); err != nil {
			return nil, err
		}
	}
	var images [2]diff.Image
	var statements [2]*verifiedProvenance
	var names [2]string
	for i, s := range []string{baseline, current} {
		ref, err := parseReference(s, layout)
		if err != nil {
			return nil, err
		}
		store, desc, err := resolve(ctx, ref, opts, env)
		if err != nil {
			return nil, err
		}
		if images[i], err = store.Image(ctx, desc); err != nil {
			return nil, fmt.Errorf("read %s: %w", ref, err)
		}
		names[i] = ref.name + "@" + desc.Digest.String()
		if verifier != nil {
			if statements[i], err = slsaProvenance(ctx, store, desc, desc.Digest, verifier, identity); err != nil {
				return nil, err
			}
		}
	}
	changes := diff.Images(images[0], images[1])
	if verifier != nil {
		more, err := diffProvenance(statements[0], statements[1])
		if err != nil {
			return nil, err
		}
		changes = append(changes, more...)
		diff.Sort(changes)
	}
	return &diff.Report{Schema: diff.ReportSchema, Baseline: names[0], Current: names[1], Changes: changes}, nil
}

// verifiedProvenance is the SLSA provenance of an artifact that verified, or why none did.
type verifiedProvenance struct {
	result *verify.Result
	// none says why there is no result: no attestation, or what the failures were.
	none string
}

// slsaProvenance verifies the SLSA Provenance v1 attestations of subject in store against
// artifact and returns the first that verified, or why none did. Only infrastructure errors fail.
func slsaProvenance(ctx context.Context, store *oras.Store, subject ocispec.Descriptor, artifact digest.Digest, v *verify.Verifier, id verify.Identity) (*verifiedProvenance, error) {
	report, err := check(ctx, store, subject, v, id, nil, "")
	if err != nil && !errors.Is(err, policy.ErrDenied) {
		return nil, err
	}
	if report.Artifact != artifact {
		return nil, fmt.Errorf("the statements of %s name %s, not %s", subject.Digest, report.Artifact, artifact)
	}
	for _, r := range report.Results() {
		if r.PredicateType() == provenance.PredicateSLSAProvenanceV1 {
			return &verifiedProvenance{result: r}, nil
		}
	}
	var failures []string
	for _, r := range report.Rejected {
		if r.Found.PredicateType == "" || r.Found.PredicateType == provenance.PredicateSLSAProvenanceV1 {
			failures = append(failures, r.Err.Error())
		}
	}
	if len(failures) == 0 {
		return &verifiedProvenance{none: "no SLSA provenance attached"}, nil
	}
	return &verifiedProvenance{none: "none verified: " + strings.Join(failures, "; ")}, nil
}

// diffProvenance compares two artifacts' verified provenance; an artifact without any is a
// change of its own.
func diffProvenance(baseline, current *verifiedProvenance) ([]diff.Change, error) {
	switch {
	case baseline.result != nil && current.result != nil:
		return diff.Provenance(baseline.result.Statement(), current.result.Statement())
	case baseline.result == nil && current.result == nil:
		// Trust flags ask for provenance to be compared: with none on either side, saying
		// "no differences" would claim a comparison that was not made.
		return nil, deniedf("diff: no verified provenance on either side: baseline: %s; current: %s", baseline.none, current.none)
	case baseline.result == nil:
		return []diff.Change{{Field: "provenance", Kind: diff.Changed, Baseline: baseline.none, Current: "verified"}}, nil
	}
	return []diff.Change{{Field: "provenance", Kind: diff.Changed, Baseline: "verified", Current: current.none}}, nil
}

// diffEnvironments resolves one tag in each NAME=REF's repository, concurrently, and compares
// every environment with the first. Every REF must name the same tag.
func diffEnvironments(ctx context.Context, pairs []string, layout bool, opts storeOptions, env map[string]string) (*diff.Report, error) {
	stores := map[string]*oras.Store{}
	var names, repos []string
	tag := ""
	for _, p := range pairs {
		name, s, ok := strings.Cut(p, "=")
		if !ok || name == "" || s == "" {
			return nil, usagef("diff: --environments takes NAME=REF arguments, not %q", p)
		}
		if _, dup := stores[name]; dup {
			return nil, usagef("diff: environment %q given twice", name)
		}
		ref, err := parseReference(s, layout)
		if err != nil {
			return nil, err
		}
		if tag != "" && ref.ref() != tag {
			return nil, usagef("diff: --environments compares one tag; got %q and %q", tag, ref.ref())
		}
		tag = ref.ref()
		if stores[name], err = openStore(ctx, ref, opts, env); err != nil {
			return nil, err
		}
		names, repos = append(names, name), append(repos, name+"="+ref.name)
	}
	found, err := oras.ResolveAll(ctx, tag, stores)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		// With the tag nowhere, every environment "agrees": saying "no differences" would
		// claim a comparison of releases that do not exist.
		return nil, deniedf("diff: tag %q is in none of the environments %s: %w", tag, strings.Join(names, ", "), provenance.ErrNotFound)
	}
	resolved := map[string]digest.Digest{}
	for _, name := range names {
		resolved[name] = found[name].Digest // the empty digest where the tag is absent
	}
	return &diff.Report{
		Schema:   diff.ReportSchema,
		Baseline: fmt.Sprintf("%s:%s (%s)", repos[0], tag, resolved[names[0]]),
		Current:  fmt.Sprintf("%s:%s", strings.Join(repos[1:], ", "), tag),
		Changes:  diff.Environments(names[0], resolved),
	}, nil
}
