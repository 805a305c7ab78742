// Command admission is a custom verifier in the style of an admission controller: it verifies
// the attestations of a list of images in one batch (verify.VerifyAll), gates each image with a
// policy environment, and prints a summary table. It exits 1 when any image is denied.
//
//	go run ./examples/admission -policy policy.yaml -env prod -key cosign.pub [-insecure-ignore-tlog] [-plain-http] IMAGE...
//
// IMAGE is host[:port]/repo[:tag|@digest]; tags are resolved once and the decision is about the
// digest.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/examples/internal/setup"
	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/verify"
)

func main() {
	var o options
	flag.StringVar(&o.policyPath, "policy", "", "policy file (required)")
	flag.StringVar(&o.env, "env", "prod", "policy environment to gate for")
	flag.StringVar(&o.keyPath, "key", "", "trusted public key, cosign.pub or PEM (required)")
	flag.BoolVar(&o.insecureIgnoreTlog, "insecure-ignore-tlog", false, "accept key signatures with no transparency-log entry or timestamp")
	flag.BoolVar(&o.plainHTTP, "plain-http", false, "talk plain HTTP to registries (loopback only)")
	flag.Parse()
	o.images = flag.Args()
	if o.policyPath == "" || o.keyPath == "" || len(o.images) == 0 {
		_ = textout.New(os.Stderr).Literal("usage: admission -policy FILE -key FILE [-env NAME] [-insecure-ignore-tlog] [-plain-http] IMAGE...\n")
		os.Exit(2)
	}
	// A registry that stalls cannot keep the program for ever.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, o); err != nil {
		_ = textout.New(os.Stderr).Printf("admission: %s\n", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	policyPath, env, keyPath      string
	insecureIgnoreTlog, plainHTTP bool
	images                        []string
}

// row is one image's line in the summary.
type row struct {
	image    string
	digest   digest.Digest
	verified int
	tried    int
	decision *policy.Decision
	err      error
}

// run checks every image with one gate.Checker, prints the summary, and returns an error
// wrapping policy.ErrDenied when any image is denied.
func run(ctx context.Context, w io.Writer, o options) error {
	pol, err := setup.LoadPolicy(o.policyPath)
	if err != nil {
		return err
	}
	verifier, err := setup.KeyVerifier(o.keyPath, o.insecureIgnoreTlog)
	if err != nil {
		return err
	}
	checker, err := gate.New(verifier, verify.KeyIDs(setup.KeyID), gate.WithPolicy(pol), gate.WithEnvironment(o.env))
	if err != nil {
		return err
	}
	rows := make([]row, len(o.images))
	denied := 0
	for i, image := range o.images {
		rows[i] = check(ctx, checker, image, o.plainHTTP)
		if rows[i].err != nil {
			denied++
		}
	}
	printSummary(w, o.env, rows)
	if denied > 0 {
		return fmt.Errorf("%d of %d images denied for %s: %w", denied, len(rows), o.env, policy.ErrDenied)
	}
	return nil
}

// check resolves image and checks its attestations.
func check(ctx context.Context, checker *gate.Checker, image string, plainHTTP bool) row {
	r := row{image: image}
	repo, ref, err := setup.SplitReference(image)
	if err != nil {
		r.err = err
		return r
	}
	store, err := setup.OpenRemote(repo, plainHTTP)
	if err != nil {
		r.err = err
		return r
	}
	desc, err := store.Resolve(ctx, ref)
	if err != nil {
		r.err = err
		return r
	}
	r.digest = desc.Digest
	report, err := checker.Check(ctx, store, desc)
	r.err = err
	if report != nil {
		r.verified, r.tried, r.decision = len(report.Verified), len(report.Verified)+len(report.Rejected), report.Decision
	}
	return r
}

// printSummary prints one line per image: verdict, how many attestations verified, and why.
func printSummary(w io.Writer, env string, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := textout.New(tw)
	p.Printf("IMAGE\tDIGEST\tVERIFIED\tVERDICT\tREASON\n")
	allowed := 0
	for _, r := range rows {
		verdict, reason := "deny", ""
		switch {
		case r.decision != nil && r.decision.Allowed():
			verdict, reason = "allow", "every enforced rule passed"
			allowed++
			for _, rr := range r.decision.Rules {
				if rr.Outcome == policy.OutcomeWarn {
					reason = "warn: " + rr.Name + ": " + rr.Reason
					break
				}
			}
		case r.decision != nil:
			reason = denialReason(r.decision)
		case errors.Is(r.err, gate.ErrNoAttestations):
			reason = "no attestations attached"
		case errors.Is(r.err, gate.ErrNoneVerified):
			reason = "no verified attestations"
		default:
			reason = "error: " + strings.Join(strings.Fields(r.err.Error()), " ")
		}
		short := "-"
		if r.digest != "" {
			short = r.digest.String()[:19]
		}
		p.Printf("%s\t%s\t%d/%d\t%s\t%s\n", r.image, short, r.verified, r.tried, verdict, reason)
	}
	tw.Flush()
	textout.New(w).Printf("%d of %d images allowed for %s\n", allowed, len(rows), env)
}

// denialReason names the first reason a decision denies.
func denialReason(d *policy.Decision) string {
	if len(d.Reasons) > 0 {
		return d.Reasons[0]
	}
	for _, r := range d.Rules {
		if r.Outcome == policy.OutcomeFail {
			return r.Name + ": " + r.Reason
		}
	}
	return string(d.Verdict)
}
