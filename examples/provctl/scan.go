package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/vuln"
)

const scanUsage = `scan (--key FILE | keyless) [--timestamp-server-url URL] [--rekor-url URL] [--format auto|grype|trivy|sarif|osv-scanner|in-toto]
      [--plain-http] [--oci-layout] REPORT IMAGE`

// scanCmd runs "provctl scan": REPORT, a vulnerability scan of IMAGE as grype, Trivy, a SARIF
// tool or OSV-Scanner wrote it (or an in-toto vulns v0.2 statement), becomes a signed in-toto
// vulns v0.2 statement about IMAGE's digest, attached to it as a referrer. The report is read
// before anything else is done: one that is not a scan report of a known format, or is
// malformed, is a usage error and nothing is signed or attached. It prints the attached
// manifest's digest.
func scanCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	fset := newFlagSet("scan", stderr, scanUsage)
	var sf signFlags
	sf.register(fset)
	format := fset.String("format", "auto", "the report's `format`: auto (detected from its content), "+formatNames())
	plainHTTP := fset.Bool("plain-http", false, "talk plain HTTP to the registry (loopback only)")
	layout := fset.Bool("oci-layout", false, "IMAGE is an OCI layout: PATH[:tag|@digest]")
	pos, err := parseFlags(fset, args, 2)
	if err != nil {
		return err
	}
	reportPath := pos[0]
	report, err := readScanReport(reportPath, *format)
	if err != nil {
		return err
	}
	ref, err := parseReference(pos[1], *layout)
	if err != nil {
		return err
	}
	signer, err := sf.signer("scan", env)
	if err != nil {
		return err
	}
	store, image, err := resolve(ctx, ref, storeOptions{plainHTTP: *plainHTTP}, env)
	if err != nil {
		return err
	}
	name := ref.name
	if ref.Layout != "" {
		name = filepath.Base(filepath.Clean(ref.name))
	}
	st, err := report.Statement(image.Digest, name)
	if err != nil {
		return &usageError{fmt.Errorf("scan: %s: %w", reportPath, err)}
	}
	bundle, err := signer.Sign(ctx, st)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	attached, err := store.Attach(ctx, image, bundle)
	if err != nil {
		return fmt.Errorf("attach to %s: %w", ref, err)
	}
	return textout.New(stdout).Printf("%s\n", attached.Digest)
}

// readScanReport reads and parses the report at path, of format ("auto" to detect it).
func readScanReport(path, format string) (*vuln.Report, error) {
	f := vuln.Format(format)
	if format != "auto" && !slices.Contains(vuln.Formats(), f) {
		return nil, usagef("scan: --format %q is not auto, %s", format, formatNames())
	}
	file, err := provenance.OpenRegular(path)
	if err != nil {
		return nil, configError(err)
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, vuln.MaxReportBytes+1))
	if err != nil {
		return nil, configError(fmt.Errorf("read %s: %w", path, err))
	}
	var report *vuln.Report
	if format == "auto" {
		report, err = vuln.Parse(data)
	} else {
		report, err = vuln.ParseFormat(data, f)
	}
	if err != nil {
		return nil, &usageError{fmt.Errorf("scan: %s: %w", path, err)}
	}
	return report, nil
}

func formatNames() string {
	var names []string
	for _, f := range vuln.Formats() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}
