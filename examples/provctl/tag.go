package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"time"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/provenance/release"
	"github.com/provkit/provkit/verify/lineage/index"
)

const tagUsage = `tag --version SEMVER --commit SHA [--output json]   (build day from SOURCE_DATE_EPOCH)
  provctl tag --parse TAG [--output json]
  provctl tag check --index FILE [--seen-by NAME] REF   (exit 1 when the tag moved)`

// tagCmd runs "provctl tag": it builds a release tag, VERSION-YYYYMMDD.COMMIT, from a version,
// a commit and SOURCE_DATE_EPOCH, or reads one back, and prints it with its release type and
// the OCI annotations that match.
func tagCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	if len(args) > 0 && args[0] == "check" {
		return tagCheck(ctx, args[1:], stdout, stderr, env)
	}
	fset := newFlagSet("tag", stderr, tagUsage)
	version := fset.String("version", "", "the release's semantic `version`, such as 1.4.2 or 2.0.0-rc.1")
	commit := fset.String("commit", "", "the `commit` built, full or short")
	parse := fset.String("parse", "", "read this `tag` instead of building one")
	output := fset.String("output", "text", "text or json")
	if _, err := parseFlags(fset, args, 0); err != nil {
		return err
	}
	var tag release.Tag
	var err error
	switch {
	case *parse != "" && (*version != "" || *commit != ""):
		return usagef("tag: --parse excludes --version and --commit")
	case *parse != "":
		tag, err = release.ParseTag(*parse)
	case *version != "" && *commit != "":
		tag, err = release.TagFromEnvironment(*version, *commit, env)
	default:
		return usagef("tag: give --version and --commit, or --parse")
	}
	if err != nil {
		return &usageError{err}
	}
	annotations := tag.Annotations()
	if *output == "json" {
		return json.NewEncoder(stdout).Encode(map[string]any{"tag": tag.String(), "version": tag.Version,
			"date": tag.Date.Format(time.DateOnly), "commit": tag.Commit, "releaseType": tag.ReleaseType(), "annotations": annotations})
	}
	out := textout.New(stdout)
	if err := out.Printf("%s\nrelease type  %s\n", tag.String(), tag.ReleaseType()); err != nil {
		return err
	}
	names := make([]string, 0, len(annotations))
	for name := range annotations {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := out.Printf("%s=%s\n", name, annotations[name]); err != nil {
			return err
		}
	}
	return nil
}

// tagCheck runs "provctl tag check": it resolves REF's tag, records where it points in the
// index, and fails with exit 1 when the index saw the tag point at another digest before, from
// this command or from the audit events it ingested.
func tagCheck(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	fset := newFlagSet("tag check", stderr, tagUsage)
	indexPath := fset.String("index", "", "the SQLite index `file` that keeps where tags were seen (required)")
	seenBy := fset.String("seen-by", "provctl", "the `name` the sighting is recorded under")
	plainHTTP := fset.Bool("plain-http", false, "talk plain HTTP to the registry (loopback only)")
	layout := fset.Bool("oci-layout", false, "REF is an OCI layout: PATH:tag")
	pos, err := parseFlags(fset, args, 1)
	if err != nil {
		return err
	}
	if *indexPath == "" {
		return usagef("tag check: --index is required")
	}
	ref, err := parseReference(pos[0], *layout)
	if err != nil {
		return err
	}
	if ref.Tag == "" || ref.Digest != "" {
		return usagef("tag check: %s must name a tag and no digest", pos[0])
	}
	_, desc, err := resolve(ctx, ref, storeOptions{plainHTTP: *plainHTTP}, env)
	if err != nil {
		return err
	}
	ix, err := index.OpenSQLite(ctx, *indexPath)
	if err != nil {
		return err
	}
	defer ix.Close()
	tagged := ref.name + ":" + ref.Tag
	err = ix.ObserveTag(ctx, tagged, desc.Digest, time.Now().UTC(), *seenBy)
	if errors.Is(err, index.ErrTagDrift) {
		return &deniedError{err}
	}
	if err != nil {
		return err
	}
	return textout.New(stdout).Printf("%s -> %s: never seen pointing elsewhere\n", tagged, desc.Digest)
}
