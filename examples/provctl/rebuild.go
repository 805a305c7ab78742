package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/diff"
	"github.com/provkit/provkit/provenance/rebuild"
	"github.com/provkit/provkit/sign"
)

// rebuildCheckCmd runs "provctl rebuild-check": it verifies REF's SLSA provenance, compares it
// with a rebuilt file, folder or image, prints what was compared and what differs, and with
// --sign-key signs the result as a rebuild statement about REF's artifact, whether it matched
// or not, and attaches it to REF. It compares outputs only: the inputs of a rebuild made
// elsewhere are not known here (provctl rerun fetches them by digest and compares them too).
// Exit status 0 means the rebuild matched.
func rebuildCheckCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	var trust trustFlags
	fset := newFlagSet("rebuild-check", stderr, "rebuild-check (--key FILE | keyless flags) (--file PATH | --dir PATH | --image REF2)\n"+
		"    [--sign-key FILE] [--output text|json] [--plain-http] [--oci-layout] REF")
	trust.register(fset)
	file := fset.String("file", "", "the rebuilt artifact is this `file`")
	dir := fset.String("dir", "", "the rebuilt artifacts are the files under this `folder`")
	image := fset.String("image", "", "the rebuilt artifact is this image `reference` (same registry flags as REF)")
	signKey := fset.String("sign-key", "", "sign the result with this private key `file` and attach it to REF")
	output := fset.String("output", "text", "output `format`: text, or json (the rebuild statement)")
	plainHTTP := fset.Bool("plain-http", false, "talk plain HTTP to the registry (loopback only)")
	layout := fset.Bool("oci-layout", false, "REF and --image are OCI layouts: PATH[:tag|@digest]")
	pos, err := parseFlags(fset, args, 1)
	if err != nil {
		return err
	}
	if n := countSet(*file, *dir, *image); n != 1 {
		return usagef("rebuild-check: give one of --file, --dir and --image")
	}
	if *output != "text" && *output != "json" {
		return usagef("rebuild-check: --output must be text or json, not %q", *output)
	}
	verifier, identity, err := trust.verifier(ctx, "rebuild-check", env)
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
	opts := storeOptions{plainHTTP: *plainHTTP}
	store, err := openStore(ctx, ref, opts, env)
	if err != nil {
		return err
	}
	stored, err := storedArtifact(ctx, store, ref)
	if err != nil {
		return err
	}
	original, err := slsaProvenance(ctx, store, stored.Subject, stored.Artifact, verifier, identity)
	if err != nil {
		return err
	}
	if original.result == nil {
		_ = textout.New(stderr).Printf("provctl: %s: %s\n", ref, original.none)
		return &exitError{exitDenied}
	}

	in := rebuild.Input{Original: original.result.Statement(), CheckedOn: time.Now().UTC()}
	switch {
	case *file != "":
		rd, err := provenance.SubjectFromFile(*file)
		if err != nil {
			return err
		}
		in.Rebuilt = []*intoto.ResourceDescriptor{rd}
	case *dir != "":
		if in.Rebuilt, err = provenance.SubjectsFromDir(ctx, *dir); err != nil {
			return err
		}
	default:
		if in.OriginalImage, in.RebuiltImage, in.Rebuilt, err = rebuiltImage(ctx, store, stored.Subject, *image, *layout, opts, in.Original, env); err != nil {
			return err
		}
	}
	result, err := rebuild.Check(in)
	if err != nil {
		return err
	}
	return finishRebuild(ctx, stdout, store, stored.Subject, ref, signer, *output == "json", result, printRebuild)
}

// finishRebuild ends rebuild-check and rerun alike: with signer, it signs result's statement and
// attaches it to subject; it prints the statement as JSON, or the result with printText; and it
// exits 1 unless the rebuild matched.
func finishRebuild(ctx context.Context, stdout io.Writer, store *oras.Store, subject ocispec.Descriptor, ref reference, signer sign.Signer,
	asJSON bool, result *rebuild.Result, printText func(io.Writer, reference, *rebuild.Result) error) error {
	if signer != nil {
		st, err := result.Statement()
		if err != nil {
			return err
		}
		b, err := signer.Sign(ctx, st)
		if err != nil {
			return fmt.Errorf("sign: %w", err)
		}
		if _, err := store.Attach(ctx, subject, b); err != nil {
			return fmt.Errorf("attach to %s: %w", ref, err)
		}
	}
	if asJSON {
		st, err := result.Statement()
		if err != nil {
			return err
		}
		data, err := provenance.Marshal(st)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(json.RawMessage(data)); err != nil {
			return err
		}
	} else if err := printText(stdout, ref, result); err != nil {
		return err
	}
	if !result.Matched() {
		return &exitError{exitDenied}
	}
	return nil
}

// rebuiltImage reads the original image (in store) and the rebuilt one, and returns both, with
// the rebuilt image as a subject named like the original's only subject: the rebuild stands for
// it, wherever it was pushed.
func rebuiltImage(ctx context.Context, store *oras.Store, original ocispec.Descriptor, rebuiltRef string, layout bool, opts storeOptions, statement *intoto.Statement, env map[string]string) (*diff.Image, *diff.Image, []*intoto.ResourceDescriptor, error) {
	before, err := store.Image(ctx, original)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read %s: %w", original.Digest, err)
	}
	ref, err := parseReference(rebuiltRef, layout)
	if err != nil {
		return nil, nil, nil, err
	}
	rebuiltStore, desc, err := resolve(ctx, ref, opts, env)
	if err != nil {
		return nil, nil, nil, err
	}
	after, err := rebuiltStore.Image(ctx, desc)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read %s: %w", ref, err)
	}
	name := ref.name
	if subjects := statement.GetSubject(); len(subjects) == 1 && subjects[0].GetName() != "" {
		name = subjects[0].GetName()
	}
	rd, err := provenance.SubjectFromDescriptor(name, desc)
	if err != nil {
		return nil, nil, nil, err
	}
	return &before, &after, []*intoto.ResourceDescriptor{rd}, nil
}

// printRebuild prints the outcome, what was compared, and on a mismatch each difference as
// diff reports them.
func printRebuild(w io.Writer, ref reference, r *rebuild.Result) error {
	p := textout.New(w)
	if r.Matched() {
		return p.Printf("match    %s: %s\n", ref, r.Summary())
	}
	if err := p.Printf("mismatch %s: %s\n", ref, r.Summary()); err != nil {
		return err
	}
	report := diff.Report{Schema: diff.ReportSchema, Baseline: "the original " + r.Original.Statement.String(), Current: "the rebuild", Changes: r.Differences}
	return report.WriteText(p)
}

// countSet counts the non-empty strings.
func countSet(values ...string) int {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	return n
}
