package main

import (
	"encoding/json"
	"io"
	"slices"
	"time"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/provenance/release"
)

const tagUsage = `tag --version SEMVER --commit SHA [--output json]   (build day from SOURCE_DATE_EPOCH)
  provctl tag --parse TAG [--output json]`

// tagCmd runs "provctl tag": it builds a release tag, VERSION-YYYYMMDD.COMMIT, from a version,
// a commit and SOURCE_DATE_EPOCH, or reads one back, and prints it with its release type and
// the OCI annotations that match.
func tagCmd(args []string, stdout, stderr io.Writer, env map[string]string) error {
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
