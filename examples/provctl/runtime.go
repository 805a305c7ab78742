package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/runtime"
	"github.com/provkit/provkit/provenance/runtime/tpm"
	"github.com/provkit/provkit/verify"
)

const runtimeUsage = `runtime enrol --tpm ADDR --out PREFIX
  provctl runtime collect (--key FILE | keyless) [--root DIR] [--sysctl NAME]... [--tpm ADDR --tpm-ak PREFIX [--pcrs LIST]]
      [--plain-http] [--oci-layout] REF
  provctl runtime check --key FILE... --runtime-key FILE [--policy FILE [--env NAME]] [--running DIGEST]
      [--sysctl NAME=VALUE]... [--seccomp MODE] [--no-new-privs] [--deny-cap CAP]... [--packages] [--max-age D]
      [--tpm-ak PREFIX [--pcr INDEX=HEX]...] [--output text|json] [--plain-http] [--oci-layout] REF`

// runtimeCmd runs "provctl runtime enrol|collect|check".
func runtimeCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	if len(args) == 0 {
		return usagef("usage: provctl %s", runtimeUsage)
	}
	switch args[0] {
	case "enrol":
		return runtimeEnrol(ctx, args[1:], stdout, stderr)
	case "collect":
		return runtimeCollect(ctx, args[1:], stdout, stderr, env)
	case "check":
		return runtimeCheck(ctx, args[1:], stdout, stderr, env)
	}
	return usagef("runtime: unknown command %q (enrol, collect, check)", args[0])
}

// openTPM opens the TPM at addr: a device path such as /dev/tpmrm0, or host:port of a TPM
// simulator's command port.
func openTPM(ctx context.Context, addr string) (*tpm.TPM, error) {
	var conn io.ReadWriteCloser
	var err error
	if strings.HasPrefix(addr, "/") {
		conn, err = os.OpenFile(addr, os.O_RDWR, 0)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, configError(fmt.Errorf("open TPM %s: %w", addr, err))
	}
	t, err := tpm.Open(ctx, conn)
	if err != nil {
		return nil, configError(fmt.Errorf("open TPM %s: %w", addr, err))
	}
	return t, nil
}

// runtimeEnrol creates the TPM's attestation key and writes PREFIX.ak (the key, encrypted by
// the TPM, for collect) and PREFIX.ak.pub (its public area, for check).
func runtimeEnrol(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlagSet("runtime enrol", stderr, runtimeUsage)
	addr := fset.String("tpm", "", "the TPM: a device `path` (/dev/tpmrm0) or host:port of a simulator (required)")
	out := fset.String("out", "", "write the attestation key to `PREFIX`.ak and its public part to PREFIX.ak.pub (required)")
	if _, err := parseFlags(fset, args, 0); err != nil {
		return err
	}
	if *addr == "" || *out == "" {
		return usagef("runtime enrol: --tpm and --out are required")
	}
	t, err := openTPM(ctx, *addr)
	if err != nil {
		return err
	}
	defer t.Close()
	blob, err := t.AKBlob(ctx)
	if err != nil {
		return fmt.Errorf("runtime enrol: %w", err)
	}
	pub, err := t.AKPublic(ctx)
	if err != nil {
		return fmt.Errorf("runtime enrol: %w", err)
	}
	if err := writeNew(*out+".ak", blob, 0o600); err != nil {
		return err
	}
	if err := writeNew(*out+".ak.pub", pub, 0o644); err != nil {
		return err
	}
	return textout.New(stdout).Printf("%s.ak\n%s.ak.pub\n", *out, *out)
}

// writeNew writes a file that must not exist yet.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return configError(err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return configError(err)
	}
	return configError(f.Close())
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runtimeCollect collects the runtime facts of this machine or container about REF's digest,
// signs them and attaches them to REF; with --tpm it also quotes the statement with the TPM
// and attaches the quote statement beside it.
func runtimeCollect(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	fset := newFlagSet("runtime collect", stderr, runtimeUsage)
	var sf signFlags
	sf.register(fset)
	rootDir := fset.String("root", "/", "the root `folder` of the running file system (its package databases and /etc)")
	var sysctls listFlag
	fset.Var(&sysctls, "sysctl", "collect this sysctl `name` (repeatable; default: a hardening set)")
	addr := fset.String("tpm", "", "quote the statement with this TPM: a device `path` or host:port of a simulator")
	akPrefix := fset.String("tpm-ak", "", "the attestation key from runtime enrol: `PREFIX`.ak")
	pcrList := fset.String("pcrs", "0,1,2,3,4,5,6,7", "comma-separated sha256 PCR `indexes` to quote (default: the firmware and boot loader measurements)")
	plainHTTP := fset.Bool("plain-http", false, "talk plain HTTP to the registry (loopback only)")
	layout := fset.Bool("oci-layout", false, "REF is an OCI layout: PATH[:tag|@digest]")
	pos, err := parseFlags(fset, args, 1)
	if err != nil {
		return err
	}
	if (*addr == "") != (*akPrefix == "") {
		return usagef("runtime collect: --tpm and --tpm-ak go together")
	}
	pcrs, err := parsePCRList(*pcrList)
	if err != nil {
		return err
	}
	var blob []byte
	if *akPrefix != "" {
		if blob, err = readSmallFile(*akPrefix+".ak", 64<<10); err != nil {
			return err
		}
	}
	ref, err := parseReference(pos[0], *layout)
	if err != nil {
		return err
	}
	signer, err := sf.signer("runtime collect", env)
	if err != nil {
		return err
	}
	store, image, err := resolve(ctx, ref, storeOptions{plainHTTP: *plainHTTP}, env)
	if err != nil {
		return err
	}
	opts := []runtime.Option{runtime.WithRoot(*rootDir)}
	if len(sysctls) > 0 {
		opts = append(opts, runtime.WithSysctls(sysctls...))
	}
	facts, err := runtime.Collect(ctx, image.Digest, opts...)
	if err != nil {
		return fmt.Errorf("runtime collect: %w", err)
	}
	st, err := facts.Statement()
	if err != nil {
		return fmt.Errorf("runtime collect: %w", err)
	}
	// Quote before signing anything, so that a TPM failure attaches nothing.
	var quoteSt *intoto.Statement
	if *addr != "" {
		t, err := openTPM(ctx, *addr)
		if err != nil {
			return err
		}
		defer t.Close()
		if err := t.LoadAK(ctx, blob); err != nil {
			return configError(fmt.Errorf("runtime collect: %s.ak: %w", *akPrefix, err))
		}
		d, err := tpm.StatementDigest(st)
		if err != nil {
			return err
		}
		q, err := t.Quote(ctx, d, pcrs)
		if err != nil {
			return fmt.Errorf("runtime collect: %w", err)
		}
		if quoteSt, err = tpm.QuoteStatement(st, q); err != nil {
			return fmt.Errorf("runtime collect: %w", err)
		}
	}
	out := textout.New(stdout)
	bundle, err := signer.Sign(ctx, st)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	attached, err := store.Attach(ctx, image, bundle)
	if err != nil {
		return fmt.Errorf("attach to %s: %w", ref, err)
	}
	if err := out.Printf("facts  %s  %d packages, %d not readable\n", attached.Digest, len(facts.Packages), len(facts.Unreadable)); err != nil {
		return err
	}
	if quoteSt == nil {
		return nil
	}
	bundle, err = signer.Sign(ctx, quoteSt)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	if attached, err = store.Attach(ctx, image, bundle); err != nil {
		return fmt.Errorf("attach to %s: %w", ref, err)
	}
	return out.Printf("quote  %s  PCRs %s\n", attached.Digest, *pcrList)
}

func parsePCRList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n > 23 {
			return nil, usagef("--pcrs: %q is not a PCR index from 0 to 23", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// readSmallFile reads a regular file of at most limit bytes.
func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := provenance.OpenRegular(path)
	if err != nil {
		return nil, configError(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, configError(fmt.Errorf("read %s: %w", path, err))
	}
	if int64(len(b)) > limit {
		return nil, configError(fmt.Errorf("%s: more than %d bytes", path, limit))
	}
	return b, nil
}

// runtimeReport is what "runtime check --output json" prints.
type runtimeReport struct {
	Image       digest.Digest    `json:"image"`
	Running     digest.Digest    `json:"running"`
	CollectedAt *time.Time       `json:"collectedAt,omitempty"`
	Quoted      bool             `json:"quoted"`
	Deviations  []gate.Deviation `json:"deviations"`
}

// runtimeCheck compares the latest verified runtime facts of REF with its verified build and
// the requirements the flags give; exit status 1 on any deviation.
func runtimeCheck(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	var f verifyFlags
	fset := newFlagSet("runtime check", stderr, runtimeUsage)
	f.trustFlags.register(fset)
	fset.StringVar(&f.policy, "policy", "", "policy `file` the image must still pass")
	fset.StringVar(&f.env, "env", "", "policy environment `name` (default: enforce every rule)")
	fset.BoolVar(&f.plainHTTP, "plain-http", false, "talk plain HTTP to the registry (loopback only)")
	fset.BoolVar(&f.layout, "oci-layout", false, "REF is an OCI layout: PATH[:tag|@digest]")
	fset.StringVar(&f.output, "output", "text", "output `format`: text or json")
	runtimeKey := fset.String("runtime-key", "", "public key `file` of the collectors entitled to sign runtime facts and quotes (required)")
	running := fset.String("running", "", "the `digest` the container runtime reports running (default: REF's)")
	var sysctls, deniedCaps, pcrs listFlag
	fset.Var(&sysctls, "sysctl", "require `NAME=VALUE` (repeatable)")
	fset.Var(&deniedCaps, "deny-cap", "this `capability` must not be effective (repeatable), e.g. CAP_SYS_ADMIN")
	seccomp := fset.String("seccomp", "", "require this seccomp `mode`: filter or strict")
	noNewPrivs := fset.Bool("no-new-privs", false, "require no_new_privs")
	packages := fset.Bool("packages", false, "compare the installed packages with the build's verified SBOM")
	maxAge := fset.Duration("max-age", 0, "the oldest the facts may be (0: any)")
	akPrefix := fset.String("tpm-ak", "", "require a TPM quote by the enrolled attestation key `PREFIX`.ak.pub")
	fset.Var(&pcrs, "pcr", "with --tpm-ak, require PCR `INDEX=HEX` (sha256 bank; repeatable)")
	pos, err := parseFlags(fset, args, 1)
	if err != nil {
		return err
	}
	switch {
	case *runtimeKey == "":
		return usagef("runtime check: --runtime-key is required")
	case len(f.keys) == 0:
		return usagef("runtime check: --key names the build signers")
	case f.output != "text" && f.output != "json":
		return usagef("runtime check: --output must be text or json, not %q", f.output)
	case len(pcrs) > 0 && *akPrefix == "":
		return usagef("runtime check: --pcr needs --tpm-ak")
	}
	want := gate.RuntimeRequirements{Seccomp: *seccomp, NoNewPrivs: *noNewPrivs, DeniedCapabilities: deniedCaps, Packages: *packages, MaxAge: *maxAge}
	for _, s := range sysctls {
		name, value, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return usagef("runtime check: --sysctl %q is not NAME=VALUE", s)
		}
		if want.Sysctls == nil {
			want.Sysctls = map[string]string{}
		}
		want.Sysctls[name] = value
	}
	if *akPrefix != "" {
		if want.Quote, err = quoteRequirement(*akPrefix+".ak.pub", pcrs); err != nil {
			return err
		}
	}
	var runningDigest digest.Digest
	if *running != "" {
		if runningDigest, err = provenance.ParseDigest(*running); err != nil {
			return &usageError{fmt.Errorf("runtime check: --running: %w", err)}
		}
	}
	builders, err := loadTrustedKeys(f.keys, env)
	if err != nil {
		return err
	}
	collectors, err := loadTrustedKeys([]string{*runtimeKey}, env)
	if err != nil {
		return err
	}
	f.keys = append(f.keys, *runtimeKey) // trusted, under the runtime roles only
	verifier, _, err := f.verifier(ctx, "runtime check", env)
	if err != nil {
		return err
	}
	collectorIDs := verify.KeyIDs(keyIDs(collectors)...)
	opts := []gate.Option{gate.WithRole(runtime.PredicateType, collectorIDs), gate.WithRole(tpm.QuotePredicateType, collectorIDs)}
	if f.policy != "" {
		pol, err := f.loadPolicy()
		if err != nil {
			return err
		}
		opts = append(opts, gate.WithPolicy(pol))
		if f.env != "" {
			opts = append(opts, gate.WithEnvironment(f.env))
		}
	}
	checker, err := gate.New(verifier, verify.KeyIDs(keyIDs(builders)...), opts...)
	if err != nil {
		return configError(err)
	}
	ref, err := parseReference(pos[0], f.layout)
	if err != nil {
		return err
	}
	store, image, err := resolve(ctx, ref, storeOptions{plainHTTP: f.plainHTTP}, env)
	if err != nil {
		return err
	}
	rr, err := checker.CheckRuntime(ctx, gate.Workload{Store: store, Admitted: image, Running: runningDigest}, want)
	if err != nil && !errors.Is(err, gate.ErrDeviation) {
		return err
	}
	report := runtimeReport{Image: image.Digest, Running: image.Digest, Quoted: rr.Quote != nil, Deviations: rr.Deviations}
	if runningDigest != "" {
		report.Running = runningDigest
	}
	if rr.Facts != nil {
		at := rr.Facts.CollectedAt.UTC()
		report.CollectedAt = &at
	}
	if report.Deviations == nil {
		report.Deviations = []gate.Deviation{}
	}
	if err := printRuntimeReport(stdout, ref, f.output, report); err != nil {
		return err
	}
	if n := len(rr.Deviations); n > 0 {
		return deniedf("runtime check: %s: %d deviation(s)", ref, n)
	}
	return nil
}

func quoteRequirement(path string, pcrs []string) (*gate.QuoteRequirement, error) {
	pub, err := readSmallFile(path, 64<<10)
	if err != nil {
		return nil, err
	}
	ak, err := tpm.ParseAKPublic(pub)
	if err != nil {
		return nil, configError(fmt.Errorf("%s: %w", path, err))
	}
	q := &gate.QuoteRequirement{AK: ak}
	for _, p := range pcrs {
		index, value, ok := strings.Cut(p, "=")
		n, err := strconv.Atoi(index)
		if !ok || err != nil || n < 0 || n > 23 {
			return nil, usagef("runtime check: --pcr %q is not INDEX=HEX with an index from 0 to 23", p)
		}
		d, err := hex.DecodeString(value)
		if err != nil || len(d) != 32 {
			return nil, usagef("runtime check: --pcr %q: the value is not 64 hex digits (sha256)", p)
		}
		q.PCRs = append(q.PCRs, tpm.PCR{Index: n, Digest: d})
	}
	return q, nil
}

func printRuntimeReport(w io.Writer, ref reference, format string, r runtimeReport) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	out := textout.New(w)
	collected := "no verified runtime facts"
	if r.CollectedAt != nil {
		collected = "facts collected " + r.CollectedAt.Format(time.RFC3339)
		if r.Quoted {
			collected += ", bound to a verified TPM quote"
		}
	}
	verdict := "matches what was built and required"
	if len(r.Deviations) > 0 {
		verdict = fmt.Sprintf("%d deviation(s)", len(r.Deviations))
	}
	if err := out.Printf("%s  %s  %s: %s\n", ref, r.Running, collected, verdict); err != nil {
		return err
	}
	for _, d := range r.Deviations {
		if err := out.Printf("  %-9s %s: %s\n", d.Kind, d.Fact, d.Message); err != nil {
			return err
		}
	}
	return nil
}
