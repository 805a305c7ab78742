// Command provctl is a reference command line for provkit, in the conventions of cosign and
// oras: it generates keys, attests container images, discovers and verifies their attestations
// (provkit's, and cosign's in both its bundle format and its legacy ".att" tags), decides with a
// policy, and copies images with their attestations between registries and OCI layouts.
//
//	provctl [--timeout DURATION] <command> ...   (default 5m for the whole run)
//	provctl key generate --out PREFIX
//	provctl attest (--key FILE | [--fulcio-url URL] [--identity-token TOKEN|FILE]) [--timestamp-server-url URL]
//	    [--rekor-url URL [--rekor-version 1|2]] [--signing-config FILE] [--trusted-root FILE]
//	    [--predicate FILE --type URI] [--source DIR] [--env NAME]... [--plain-http] [--oci-layout]
//	    [--audit-log DIR --audit-log-key FILE --audit-key FILE [--audit-actor ID]] REF
//	provctl discover [--plain-http] [--oci-layout] [--output json] REF
//	provctl verify (--key FILE... | --certificate-identity[-regexp] X --certificate-oidc-issuer[-regexp] Y)
//	    [--trusted-root FILE | --tuf-url URL --tuf-root FILE [--tuf-cache DIR] [--offline]] [--timestamp-certificate-chain FILE]
//	    [--type URI] [--policy FILE] [--env NAME] [--insecure-ignore-tlog] [--plain-http] [--oci-layout] [--output json] REF
//	provctl verify-blob-attestation --bundle FILE [--type URI] (trust flags) FILE
//	provctl copy [--plain-http] SRC DST
//	provctl lineage (--key FILE | keyless flags) [--upstream DIGEST | --downstream DIGEST]
//	    [--format text|json|dot|prov|rocrate|html] [--workflow W] [--crate-dir DIR | --crate-zip FILE]
//	    [--plain-http] [--oci-layout] REF...
//	provctl diff [--key FILE | keyless flags] [--output json] [--plain-http] [--oci-layout] BASELINE CURRENT
//	provctl diff --environments [--output json] [--plain-http] NAME=REF NAME=REF...
//	provctl rebuild-check (--key FILE | keyless flags) (--file PATH | --dir PATH | --image REF2)
//	    [--sign-key FILE] [--output json] [--plain-http] [--oci-layout] REF
//	provctl audit keygen --origin NAME --out PREFIX
//	provctl audit append --log DIR --log-key FILE --key FILE --kind KIND --subject DIGEST --actor A ...
//	provctl audit (show | verify [--checkpoint FILE] | prove INDEX) --log DIR|URL --log-pub FILE --key FILE
//	provctl audit follow --log DIR|URL --log-pub FILE [--origin NAME] --checkpoint FILE
//	provctl tag (--version SEMVER --commit SHA | --parse TAG) [--output json]
//	provctl tag check --index FILE [--seen-by NAME] REF
//	provctl lifecycle set --key FILE --state STATE [--reason R] [--successor DIGEST] --decided-by ID [--effective T] REF
//	provctl lifecycle show --key FILE... [--at T] [--output json] REF
//	provctl sweep --key FILE... --policy FILE [--env NAME] --status-key FILE --state STATE --decided-by ID REF...
//	provctl scan (--key FILE | keyless flags) [--format FORMAT] REPORT REF
//	provctl rotate --key OLD.pub... --new-key NEW.key [--audit-log DIR ...] REF...
//	provctl rerun (--key FILE | keyless flags) [--sign-key FILE] [--step-timeout D] [--keep] [--output json]
//	    [--plain-http] [--oci-layout] REF
//	provctl serve (--index FILE | --postgres DSN) [--listen ADDR] [--token-file FILE]
//	provctl runtime enrol --tpm ADDR --out PREFIX
//	provctl runtime collect --key FILE [--root DIR] [--tpm ADDR --tpm-ak PREFIX] REF
//	provctl runtime check --key FILE... --runtime-key FILE [requirements] [--tpm-ak PREFIX [--pcr N=HEX]...] REF
//	provctl serve (--index FILE | --postgres DSN) [--listen ADDR] [--token-file FILE]
//
// REF is host[:port]/repo[:tag|@digest], or with --oci-layout PATH[:tag|@digest]. SRC and DST of
// copy are registry references or oci-layout:PATH[:tag|@digest].
//
// lineage joins the verified provenance of every REF (an image, or a file stored as an OCI
// artifact) into a graph and prints it, exports it, or answers what an artifact was made from
// or what was made from it. diff compares a current image with a known-good baseline, or what
// one tag resolves to across environments. rebuild-check compares a rebuilt artifact with REF's
// verified provenance and can sign and attach the result.
//
// Exit status, the same for every command:
//
//	0  passed: done as asked, and whatever was checked verified and was allowed
//	1  the evidence or the policy says no: verify denies or nothing verifies, nothing is
//	   attached (discover, verify, lineage), diff finds a difference (or, with
//	   --environments, the tag in no environment), rebuild-check finds a mismatch
//	2  could not check, or bad usage: a bad flag or argument, an unreadable key or file, a
//	   registry or service that cannot be reached or fails
//
// A failure to check is never reported as 1, so a script can tell "denied" from "try again".
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/provkit/provkit/examples/internal/textout"
)

// defaultTimeout bounds a whole provctl run unless --timeout says otherwise.
const defaultTimeout = 5 * time.Minute

const usageText = `usage: provctl [--timeout DURATION] <command> [flags] ARGS

commands:
  key generate --out PREFIX      write PREFIX.key (cosign's encrypted format, password from
                                 PROVKIT_PASSWORD, may be empty) and PREFIX.pub
  attest (--key FILE | keyless) REF
                                 sign provenance about REF (with --timestamp-server-url,
                                 --rekor-url, keyless --fulcio-url) and attach it as a referrer;
                                 --audit-log records both in an audit log
  discover REF                   list every attestation of REF and where it was found
  verify (--key FILE | keyless flags) REF
                                 verify REF's attestations, then decide with --policy
  verify-blob-attestation --bundle FILE (--key FILE | keyless flags) FILE
                                 verify a Sigstore bundle file against FILE's sha256 digest
  copy SRC DST                   copy an image with all its referrers
  lineage (--key FILE | keyless flags) REF...
                                 join the verified provenance of each REF into a graph;
                                 query it (--upstream, --downstream) or export it (--format)
  diff BASELINE CURRENT          compare two images: layers, config, annotations and, with
                                 trust flags, their verified provenance
  diff --environments NAME=REF...
                                 compare what one tag resolves to in each environment
  rebuild-check (--key FILE | keyless flags) (--file|--dir|--image X) REF
                                 check a rebuild against REF's verified provenance
  rerun (--key FILE | keyless flags) [--sign-key FILE] REF
                                 re-run the workflow step recorded for REF from its verified
                                 record (image, command, inputs fetched by digest) and check
                                 the outputs; --sign-key signs and attaches the outcome
  serve (--index FILE | --postgres DSN) [--listen ADDR]
                                 the read-only reproducibility dashboard of an index, on
                                 loopback (any other address needs --token-file)
  audit keygen|append|show|verify|prove|follow
                                 keep provenance events in a tamper-evident log folder and
                                 check it: full audit, consistency with a held checkpoint,
                                 inclusion proofs; follow any tlog-tiles log (Rekor v2 too)
  lifecycle set|show REF          sign and attach an artifact's status (active, deprecated,
                                 retired, revoked; successor), or show the one in effect
  sweep --policy FILE --status-key FILE REF...
                                 mark each REF the policy denies deprecated or retired
  scan (--key FILE | keyless flags) REPORT REF
                                 sign a grype, Trivy, OSV-Scanner or SARIF report as an in-toto
                                 vulns v0.2 statement and attach it
  rotate --key OLD.pub --new-key NEW.key REF...
                                 re-sign every verified attestation of each REF with the new
                                 key, beside the old one, which it names; a rerun resumes
  runtime enrol|collect|check REF
                                 enrol a TPM's attestation key; sign this machine's runtime
                                 facts about REF (with --tpm, bound to a TPM quote) and attach
                                 them; compare the latest with REF's verified build and the
                                 requirements (exit 1 on any deviation)
  tag --version SEMVER --commit SHA | --parse TAG
                                 build a release tag VERSION-YYYYMMDD.COMMIT (build day from
                                 SOURCE_DATE_EPOCH) or read one, with its OCI annotations
  tag check --index FILE REF     record where REF's tag points; exit 1 if it pointed elsewhere
  serve (--index FILE | --postgres DSN)
                                 serve the reproducibility dashboard, read-only, on loopback
                                 (elsewhere with --token-file), until interrupted

REF is host[:port]/repo[:tag|@digest], or with --oci-layout PATH[:tag|@digest].
Run 'provctl <command> -h' for the flags of a command.

exit status (every command):
  0  passed
  1  the evidence or the policy says no (including nothing attached or nothing verified)
  2  could not check (registry, file or service failed), or bad usage
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, processEnv())
	stop()
	os.Exit(code)
}

// processEnv returns the process environment as a map.
func processEnv() map[string]string {
	env := make(map[string]string)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// run runs provctl with args (without the program name) and returns the exit status. Everything
// it reads from the environment comes from env, so tests drive it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) int {
	// --timeout, before the command, bounds the whole run: a registry that stalls or trickles
	// cannot keep provctl for ever.
	timeout := defaultTimeout
	// serve runs until interrupted, unless --timeout says otherwise.
	if len(args) > 0 && args[0] == "serve" {
		timeout = 0
	}
	if len(args) > 0 && (args[0] == "--timeout" || strings.HasPrefix(args[0], "--timeout=")) {
		v, inline := strings.CutPrefix(args[0], "--timeout=")
		rest, ok := args[1:], true
		if !inline {
			v, ok = "", len(rest) > 0
			if ok {
				v, rest = rest[0], rest[1:]
			}
		}
		d, err := time.ParseDuration(v)
		if !ok || err != nil || d <= 0 {
			return report(stderr, usagef("--timeout wants a positive duration such as 5m, got %q", v))
		}
		timeout, args = d, rest
	}
	var cancel context.CancelFunc
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	if len(args) == 0 {
		_ = textout.New(stderr).Literal(usageText)
		return exitUnchecked
	}
	var err error
	switch args[0] {
	case "key":
		err = keyCmd(args[1:], stdout, stderr, env)
	case "attest":
		err = attestCmd(ctx, args[1:], stdout, stderr, env)
	case "discover":
		err = discoverCmd(ctx, args[1:], stdout, stderr, env)
	case "verify":
		err = verifyCmd(ctx, args[1:], stdout, stderr, env)
	case "verify-blob-attestation":
		err = verifyBlobCmd(ctx, args[1:], stdout, stderr, env)
	case "copy":
		err = copyCmd(ctx, args[1:], stdout, stderr, env)
	case "lineage":
		err = lineageCmd(ctx, args[1:], stdout, stderr, env)
	case "diff":
		err = diffCmd(ctx, args[1:], stdout, stderr, env)
	case "rebuild-check":
		err = rebuildCheckCmd(ctx, args[1:], stdout, stderr, env)
	case "rerun":
		err = rerunCmd(ctx, args[1:], stdout, stderr, env)
	case "audit":
		err = auditCmd(ctx, args[1:], stdout, stderr, env)
	case "tag":
		err = tagCmd(ctx, args[1:], stdout, stderr, env)
	case "lifecycle":
		err = lifecycleCmd(ctx, args[1:], stdout, stderr, env)
	case "sweep":
		err = sweepCmd(ctx, args[1:], stdout, stderr, env)
	case "scan":
		err = scanCmd(ctx, args[1:], stdout, stderr, env)
	case "rotate":
		err = rotateCmd(ctx, args[1:], stdout, stderr, env)
	case "runtime":
		err = runtimeCmd(ctx, args[1:], stdout, stderr, env)
	case "serve":
		err = serveCmd(ctx, args[1:], stdout, stderr, env)
	case "help", "-h", "-help", "--help":
		_ = textout.New(stdout).Literal(usageText)
		return exitOK
	default:
		err = usagef("unknown command %q", args[0])
	}
	return report(stderr, err)
}

// report prints err on one line, escaped, and returns the exit status it stands for (see
// exitCode).
func report(stderr io.Writer, err error) int {
	code := exitCode(err)
	var ex *exitError
	if err == nil || errors.Is(err, flag.ErrHelp) || errors.As(err, &ex) {
		return code
	}
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
	_ = textout.New(stderr).Printf("provctl: %s\n", msg)
	return code
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer, usage textout.Literal) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package's own error line is dropped: report prints the error once, last.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		_ = textout.New(stderr).Literal("usage: provctl " + usage + "\n\nflags:\n")
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseFlags parses args with fs, allowing flags after positional arguments as cosign and oras
// do, and returns the positional arguments. It fails unless there are exactly want of them.
func parseFlags(fs *flag.FlagSet, args []string, want int) ([]string, error) {
	positional, err := parseArgs(fs, args)
	if err == nil && len(positional) != want {
		return nil, usagef("%s: want %d argument(s), got %d", fs.Name(), want, len(positional))
	}
	return positional, err
}

// parseFlagsAtLeast is parseFlags for commands that take min or more positional arguments.
func parseFlagsAtLeast(fs *flag.FlagSet, args []string, min int) ([]string, error) {
	positional, err := parseArgs(fs, args)
	if err == nil && len(positional) < min {
		return nil, usagef("%s: want at least %d argument(s), got %d", fs.Name(), min, len(positional))
	}
	return positional, err
}

// parseArgs parses args with fs, flags and positional arguments in any order, and returns the
// positional arguments.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if rest[0] == "--" {
			return append(positional, rest[1:]...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
