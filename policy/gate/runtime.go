package gate

import (
	"bytes"
	"context"
	"crypto"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/provenance/runtime"
	"github.com/provkit/provkit/provenance/runtime/tpm"
	"github.com/provkit/provkit/verify"
)

// ErrDeviation means what runs differs from what was built or allowed.
var ErrDeviation = errors.New("runtime deviation")

// DeviationKind says what kind of difference a Deviation is.
type DeviationKind string

// Kinds of deviation.
const (
	// DeviationImage: the workload runs another image than the one admitted.
	DeviationImage DeviationKind = "image"
	// DeviationPackage: a package installed at runtime that the build's SBOM does not record,
	// or records at another version (a library updated in place).
	DeviationPackage DeviationKind = "package"
	// DeviationSysctl: a required sysctl has another value, or could not be read.
	DeviationSysctl DeviationKind = "sysctl"
	// DeviationSecurity: a required security setting (seccomp, no_new_privs, a capability that
	// must not be effective) does not hold, or could not be read.
	DeviationSecurity DeviationKind = "security"
	// DeviationDecision: checked again now, the artifact is no longer allowed (an attestation
	// expired, a lifecycle status retired or revoked it, the policy changed).
	DeviationDecision DeviationKind = "decision"
	// DeviationFacts: no verified runtime facts to compare, facts older than the requirements
	// allow, facts older than ones already seen, or no SBOM to compare packages with.
	DeviationFacts DeviationKind = "facts"
	// DeviationHardware: RuntimeRequirements.Quote is set and no verified TPM quote binds the
	// runtime facts with that attestation key, or the quoted PCRs hold other values.
	DeviationHardware DeviationKind = "hardware"
)

// Deviation is one difference between what runs and what was built or allowed.
type Deviation struct {
	// Kind is what kind of difference it is.
	Kind DeviationKind
	// Fact names what differs: a package name, a sysctl name, "security.seccomp", ...
	Fact string
	// Expected is what the build or the requirements say, when there is one value.
	Expected string
	// Observed is what runs, or "" when it could not be read.
	Observed string
	// Message explains it, for people.
	Message string
}

// DeviationError lists the deviations found for a workload; it matches ErrDeviation.
type DeviationError struct {
	// Admitted is the digest of the image admitted.
	Admitted digest.Digest
	// Deviations are the differences, in the order checked.
	Deviations []Deviation
}

// Error lists the deviations.
func (e *DeviationError) Error() string {
	msgs := make([]string, len(e.Deviations))
	for i, d := range e.Deviations {
		msgs[i] = string(d.Kind) + ": " + d.Message
	}
	return fmt.Sprintf("runtime of %s deviates: %s", e.Admitted, strings.Join(msgs, "; "))
}

// Unwrap returns ErrDeviation.
func (e *DeviationError) Unwrap() error { return ErrDeviation }

// RuntimeRequirements are what a running workload must show, beyond matching its build.
type RuntimeRequirements struct {
	// Sysctls maps sysctl names to the values they must have.
	Sysctls map[string]string
	// Seccomp is the seccomp mode required ("filter", "strict"), or "" for any.
	Seccomp string
	// NoNewPrivs requires the no_new_privs flag.
	NoNewPrivs bool
	// DeniedCapabilities must not be effective, such as "CAP_SYS_ADMIN".
	DeniedCapabilities []string
	// Packages compares the installed packages with the build's verified SBOM (SPDX or
	// CycloneDX); with no SBOM verified, that is a DeviationFacts.
	Packages bool
	// MaxAge is the oldest runtime facts may be; 0 accepts any age.
	MaxAge time.Duration
	// Quote, when set, requires the runtime facts to be bound to a TPM quote (see package
	// provenance/runtime/tpm): a verified quote statement (tpm.QuotePredicateType) attached to
	// the running digest, signed by the identity WithRole gives that type (or the Checker's),
	// whose quote binds the very statement the facts came from.
	Quote *QuoteRequirement
}

// QuoteRequirement is the hardware evidence runtime facts must carry.
type QuoteRequirement struct {
	// AK is the enrolled attestation key the quote must verify with (tpm.ParseAKPublic of an
	// enrolment record whose certification was checked), never the key the quote names.
	AK crypto.PublicKey
	// PCRs are values the quote must show for those registers; empty accepts any values.
	PCRs []tpm.PCR
}

// Workload is a running instance of an admitted image.
type Workload struct {
	// Store holds the image's attestations: its build provenance, SBOM and runtime facts.
	Store *oras.Store
	// Admitted is the image manifest admitted.
	Admitted ocispec.Descriptor
	// Running is the digest the container runtime reports the workload runs, such as a Pod's
	// status.containerStatuses[].imageID; "" when it is Admitted's. Runtime facts are read
	// from the attestations of this digest.
	Running digest.Digest
	// Seen is when the latest runtime facts already compared were collected, zero for none:
	// facts older than that are refused (a newer statement withdrawn, an old one replayed).
	Seen time.Time
}

// RuntimeReport is what CheckRuntime compared.
type RuntimeReport struct {
	// Admitted is the admitted image.
	Admitted ocispec.Descriptor
	// Decision is the admitted image's check now: its report and nil, or a denial.
	Decision *Report
	// DecisionErr is the check's denial, nil when the image is still allowed.
	DecisionErr error
	// Facts are the latest verified runtime facts, nil when none verified.
	Facts *runtime.Facts
	// FactsResult is the verified statement Facts were read from.
	FactsResult *verify.Result
	// Quote is the verified TPM quote binding FactsResult, when RuntimeRequirements.Quote asked
	// for one and it verified.
	Quote *tpm.Verified
	// Checked is when the comparison was made, by the Checker's clock.
	Checked time.Time
	// Deviations are the differences found, in the order checked.
	Deviations []Deviation
}

// CheckRuntime compares a running workload with what was built and allowed. It checks the
// admitted image again (as Check does, never from a Cache: a deviation is about now), reads
// the latest verified runtime facts (runtime.PredicateType, signed by the identity WithRole
// gives that type, or the Checker's) attached to the running digest, and compares: the digest
// that runs, the packages with the build's verified SBOM, and the facts with want. Each
// difference is a Deviation; with any, CheckRuntime returns the report and a
// *DeviationError (ErrDeviation), and with WithRecorder records a runtime-deviation event
// naming each. A failure to check is a *CheckError, never a deviation and never a pass.
func (c *Checker) CheckRuntime(ctx context.Context, w Workload, want RuntimeRequirements) (*RuntimeReport, error) {
	if w.Store == nil {
		return nil, &CheckError{Op: "read", Subject: w.Admitted, Err: fmt.Errorf("%w: nil store", ErrInvalidConfig)}
	}
	now := c.cfg.clock()
	rr := &RuntimeReport{Admitted: w.Admitted, Checked: now}
	report, err := c.check(ctx, w.Store, w.Admitted)
	switch {
	case err == nil:
	case errors.Is(err, policy.ErrDenied):
		rr.DecisionErr = err
		rr.deviate(Deviation{Kind: DeviationDecision, Fact: "decision", Message: "no longer allowed: " + err.Error()})
	default:
		return nil, err
	}
	rr.Decision = report

	running := w.Running
	if running == "" {
		running = w.Admitted.Digest
	}
	if running != w.Admitted.Digest {
		rr.deviate(Deviation{Kind: DeviationImage, Fact: "image", Expected: w.Admitted.Digest.String(), Observed: running.String(),
			Message: fmt.Sprintf("runs %s, admitted %s", running, w.Admitted.Digest)})
	}
	facts, factsReport, err := c.latestFacts(ctx, w.Store, w.Admitted, report, running)
	if err != nil {
		return nil, err
	}
	if facts != nil {
		rr.Facts, rr.FactsResult = facts.facts, facts.result
	}
	switch {
	case facts == nil:
		rr.deviate(Deviation{Kind: DeviationFacts, Fact: "runtime", Message: "no verified runtime facts about " + running.String()})
	case !w.Seen.IsZero() && rr.Facts.CollectedAt.Before(w.Seen):
		rr.deviate(Deviation{Kind: DeviationFacts, Fact: "collectedAt", Expected: w.Seen.UTC().Format(time.RFC3339), Observed: rr.Facts.CollectedAt.UTC().Format(time.RFC3339),
			Message: fmt.Sprintf("the latest runtime facts were collected at %s, before facts already seen from %s", rr.Facts.CollectedAt.UTC().Format(time.RFC3339), w.Seen.UTC().Format(time.RFC3339))})
	default:
		f := rr.Facts
		if want.MaxAge > 0 && now.Sub(f.CollectedAt) > want.MaxAge {
			rr.deviate(Deviation{Kind: DeviationFacts, Fact: "collectedAt", Observed: f.CollectedAt.UTC().Format(time.RFC3339),
				Message: fmt.Sprintf("runtime facts collected %s ago, more than %s", now.Sub(f.CollectedAt).Round(time.Second), want.MaxAge)})
		}
		rr.Deviations = append(rr.Deviations, compareFacts(f, want)...)
		if want.Packages {
			rr.Deviations = append(rr.Deviations, comparePackages(f, report)...)
		}
		if want.Quote != nil {
			var d []Deviation
			rr.Quote, d = checkQuote(factsReport, facts.result, *want.Quote)
			rr.Deviations = append(rr.Deviations, d...)
		}
	}
	if len(rr.Deviations) == 0 {
		return rr, nil
	}
	if c.cfg.recorder != nil {
		if err := c.cfg.recorder.Record(ctx, c.deviationEvent(rr)); err != nil {
			return nil, &CheckError{Op: "record", Subject: w.Admitted, Err: err}
		}
	}
	return rr, &DeviationError{Admitted: w.Admitted.Digest, Deviations: rr.Deviations}
}

func (rr *RuntimeReport) deviate(d Deviation) { rr.Deviations = append(rr.Deviations, d) }

// verifiedFacts are runtime facts with the verified statement they were read from.
type verifiedFacts struct {
	facts  *runtime.Facts
	result *verify.Result
}

// latestFacts returns the latest verified runtime facts about running, with the report they
// come from: the admitted image's report when it runs, else a check of the running digest in
// the store.
func (c *Checker) latestFacts(ctx context.Context, store *oras.Store, admitted ocispec.Descriptor, report *Report, running digest.Digest) (*verifiedFacts, *Report, error) {
	if running != admitted.Digest {
		desc, err := store.Resolve(ctx, running.String())
		if errors.Is(err, provenance.ErrNotFound) {
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, &CheckError{Op: "resolve", Subject: ocispec.Descriptor{Digest: running}, Err: err}
		}
		report, err = c.check(ctx, store, desc)
		if err != nil && !errors.Is(err, policy.ErrDenied) {
			return nil, nil, err
		}
	}
	if report == nil {
		return nil, nil, nil
	}
	var latest *verifiedFacts
	for _, v := range report.Verified {
		if v.Result.PredicateType() != runtime.PredicateType {
			continue
		}
		f, err := runtime.Parse(v.Result.Statement())
		if err != nil {
			continue // verified but malformed: not facts to compare
		}
		if latest == nil || f.CollectedAt.After(latest.facts.CollectedAt) {
			latest = &verifiedFacts{facts: f, result: v.Result}
		}
	}
	return latest, report, nil
}

// checkQuote finds a verified quote statement in report that binds facts with want.AK, and
// compares its PCRs with want.PCRs.
func checkQuote(report *Report, facts *verify.Result, want QuoteRequirement) (*tpm.Verified, []Deviation) {
	var reasons []string
	for _, v := range report.Verified {
		if v.Result.PredicateType() != tpm.QuotePredicateType {
			continue
		}
		q, err := tpm.VerifyBinding(v.Result.Statement(), facts.Statement(), want.AK)
		if err != nil {
			reasons = append(reasons, err.Error())
			continue
		}
		var d []Deviation
		for _, p := range want.PCRs {
			got := quotedPCR(q, p.Index)
			if got == nil || !bytes.Equal(got, p.Digest) {
				d = append(d, Deviation{Kind: DeviationHardware, Fact: fmt.Sprintf("tpm.pcr.%d", p.Index), Expected: hex.EncodeToString(p.Digest), Observed: hex.EncodeToString(got),
					Message: fmt.Sprintf("PCR %d holds %s, want %s", p.Index, orNotQuoted(got), hex.EncodeToString(p.Digest))})
			}
		}
		return q, d
	}
	msg := "no verified TPM quote binds the runtime facts"
	if len(reasons) > 0 {
		msg += ": " + strings.Join(reasons, "; ")
	}
	return nil, []Deviation{{Kind: DeviationHardware, Fact: "tpm.quote", Message: msg}}
}

func quotedPCR(q *tpm.Verified, index int) []byte {
	for _, p := range q.PCRs {
		if p.Index == index {
			return p.Digest
		}
	}
	return nil
}

func orNotQuoted(b []byte) string {
	if b == nil {
		return "nothing (not quoted)"
	}
	return hex.EncodeToString(b)
}

// compareFacts checks facts against the requirements.
func compareFacts(f *runtime.Facts, want RuntimeRequirements) []Deviation {
	var out []Deviation
	names := make([]string, 0, len(want.Sysctls))
	for name := range want.Sysctls {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		expected := want.Sysctls[name]
		got, ok := f.Sysctls[name]
		switch {
		case !ok:
			reason := f.Unreadable[runtime.SysctlFact(name)]
			if reason == "" {
				reason = "not collected"
			}
			out = append(out, Deviation{Kind: DeviationSysctl, Fact: name, Expected: expected, Message: fmt.Sprintf("sysctl %s must be %s and could not be read: %s", name, expected, reason)})
		case got != expected:
			out = append(out, Deviation{Kind: DeviationSysctl, Fact: name, Expected: expected, Observed: got, Message: fmt.Sprintf("sysctl %s is %s, must be %s", name, got, expected)})
		}
	}
	unreadable := func(fact string) (string, bool) { r, ok := f.Unreadable[fact]; return r, ok }
	if want.Seccomp != "" {
		if reason, ok := unreadable(runtime.FactSeccomp); ok {
			out = append(out, Deviation{Kind: DeviationSecurity, Fact: runtime.FactSeccomp, Expected: want.Seccomp, Message: "seccomp mode could not be read: " + reason})
		} else if f.Security.Seccomp != want.Seccomp {
			out = append(out, Deviation{Kind: DeviationSecurity, Fact: runtime.FactSeccomp, Expected: want.Seccomp, Observed: f.Security.Seccomp,
				Message: fmt.Sprintf("seccomp is %q, must be %q", f.Security.Seccomp, want.Seccomp)})
		}
	}
	if want.NoNewPrivs {
		if reason, ok := unreadable(runtime.FactNoNewPrivs); ok {
			out = append(out, Deviation{Kind: DeviationSecurity, Fact: runtime.FactNoNewPrivs, Expected: "true", Message: "no_new_privs could not be read: " + reason})
		} else if !f.Security.NoNewPrivs {
			out = append(out, Deviation{Kind: DeviationSecurity, Fact: runtime.FactNoNewPrivs, Expected: "true", Observed: "false", Message: "no_new_privs is not set"})
		}
	}
	if len(want.DeniedCapabilities) > 0 {
		if reason, ok := unreadable(runtime.FactCapEff); ok {
			out = append(out, Deviation{Kind: DeviationSecurity, Fact: runtime.FactCapEff, Message: "effective capabilities could not be read: " + reason})
		} else {
			for _, name := range want.DeniedCapabilities {
				if slices.Contains(f.Security.CapEff.Names, name) {
					out = append(out, Deviation{Kind: DeviationSecurity, Fact: runtime.FactCapEff, Observed: name, Message: name + " is effective"})
				}
			}
		}
	}
	return out
}

// comparePackages reports packages installed at runtime that no verified SBOM of the build
// records, or records at another version.
func comparePackages(f *runtime.Facts, report *Report) []Deviation {
	if reason, ok := f.Unreadable[runtime.FactPackages]; ok {
		return []Deviation{{Kind: DeviationFacts, Fact: runtime.FactPackages, Message: "installed packages could not be read: " + reason}}
	}
	built := map[string][]string{} // name → versions the SBOMs record
	sboms := 0
	if report != nil {
		for _, v := range report.Verified {
			pkgs, ok, err := sbomPackages(v.Result.Statement())
			if !ok {
				continue
			}
			if err != nil {
				return []Deviation{{Kind: DeviationFacts, Fact: "sbom", Message: fmt.Sprintf("SBOM attestation %s cannot be read: %v", v.Found.Manifest.Digest, err)}}
			}
			sboms++
			for _, p := range pkgs {
				built[p.name] = append(built[p.name], p.version)
			}
		}
	}
	if sboms == 0 {
		return []Deviation{{Kind: DeviationFacts, Fact: "sbom", Message: "no verified SBOM to compare the installed packages with"}}
	}
	var out []Deviation
	for _, p := range f.Packages {
		versions, ok := built[p.Name]
		switch {
		case !ok:
			out = append(out, Deviation{Kind: DeviationPackage, Fact: p.Name, Observed: p.Version,
				Message: fmt.Sprintf("%s %s is installed and the build's SBOM does not record it", p.Name, p.Version)})
		case p.Version != "" && !slices.Contains(versions, p.Version) && !slices.Contains(versions, ""):
			out = append(out, Deviation{Kind: DeviationPackage, Fact: p.Name, Expected: strings.Join(versions, ", "), Observed: p.Version,
				Message: fmt.Sprintf("%s is %s at runtime, built with %s", p.Name, p.Version, strings.Join(versions, ", "))})
		}
	}
	return out
}

// builtPackage is a package an SBOM records.
type builtPackage struct{ name, version string }

// sbomDocument holds the fields of SPDX 2.x and CycloneDX documents that name packages.
type sbomDocument struct {
	Packages []struct {
		Name        string `json:"name"`
		VersionInfo string `json:"versionInfo"`
	} `json:"packages"`
	Components []sbomComponent `json:"components"`
}

type sbomComponent struct {
	Name       string          `json:"name"`
	Version    string          `json:"version"`
	Components []sbomComponent `json:"components"`
}

// maxSBOMPackages bounds the packages read from one SBOM, nested components included.
const maxSBOMPackages = 200_000

// sbomPackages returns the packages an SPDX or CycloneDX statement records; ok is false for
// statements of other predicate types.
func sbomPackages(st *intoto.Statement) (pkgs []builtPackage, ok bool, err error) {
	switch st.GetPredicateType() {
	case provenance.PredicateSPDX, provenance.PredicateCycloneDX:
	default:
		return nil, false, nil
	}
	data, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		return nil, true, err
	}
	var doc sbomDocument
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, true, err
	}
	for _, p := range doc.Packages {
		pkgs = append(pkgs, builtPackage{name: p.Name, version: p.VersionInfo})
	}
	var walk func(cs []sbomComponent, depth int) error
	walk = func(cs []sbomComponent, depth int) error {
		if depth > 64 {
			return fmt.Errorf("components nested deeper than 64")
		}
		for _, c := range cs {
			if len(pkgs) >= maxSBOMPackages {
				return fmt.Errorf("more than %d packages", maxSBOMPackages)
			}
			pkgs = append(pkgs, builtPackage{name: c.Name, version: c.Version})
			if err := walk(c.Components, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(doc.Components, 0); err != nil {
		return nil, true, err
	}
	if len(pkgs) > maxSBOMPackages {
		return nil, true, fmt.Errorf("more than %d packages", maxSBOMPackages)
	}
	return pkgs, true, nil
}

// deviationEvent is the audit event of a runtime comparison that found deviations.
func (c *Checker) deviationEvent(rr *RuntimeReport) audit.Event {
	e := audit.Event{
		Kind:        audit.KindRuntimeDeviation,
		Subject:     rr.Admitted.Digest,
		Actor:       c.cfg.actor,
		Time:        rr.Checked,
		Decision:    audit.DecisionDeny,
		Environment: c.cfg.environment,
	}
	// An event stays small (audit.MaxEventBytes): the first reasons, each cut short.
	for i, d := range rr.Deviations {
		if i == maxDeviationReasons {
			e.Reasons = append(e.Reasons, fmt.Sprintf("and %d more", len(rr.Deviations)-i))
			break
		}
		reason := string(d.Kind) + ": " + d.Message
		if len(reason) > maxDeviationReasonBytes {
			reason = reason[:maxDeviationReasonBytes] + "…"
		}
		e.Reasons = append(e.Reasons, reason)
	}
	return e
}

const (
	maxDeviationReasons     = 100
	maxDeviationReasonBytes = 400
)

// WatchOptions configure Watch.
type WatchOptions struct {
	// Every is how often each workload's attestations are listed: new ones (a runtime
	// statement, a status, a scan) make it checked again at once. At least 10ms.
	Every time.Duration
	// Reverify is how often each workload is checked again when nothing new is attached, so
	// that time-bound decisions (freshness, key windows, statuses published ahead) are
	// revisited. At least Every.
	Reverify time.Duration
	// Requirements are what each workload must show (see CheckRuntime).
	Requirements RuntimeRequirements
	// OnDeviation is called, from Watch's goroutine, with each comparison that found
	// deviations: the place to halt the workload, alert or remediate. Required.
	OnDeviation func(ctx context.Context, w Workload, r *RuntimeReport, err *DeviationError)
	// OnError is called with each check that could not be made (a *CheckError): the workload
	// is neither passed nor failed, and is checked again at the next round. Optional.
	OnError func(ctx context.Context, w Workload, err error)
	// Cache, when the Checker's decisions are cached elsewhere (an admission webhook), has
	// the workload's decisions dropped whenever new attestations appear, so the next
	// admission checks them.
	Cache *Cache
}

// Watch checks workloads with CheckRuntime until ctx ends, and returns ctx's error. Every
// round it lists each workload's attestations (of the admitted and of the running digest);
// a workload is checked again when the listing changed since its last check, or when its last
// check is older than o.Reverify. Each check compares against the runtime facts collected
// after those already seen (Workload.Seen advances with each check), so a withdrawn or
// replayed older statement is a deviation.
func (c *Checker) Watch(ctx context.Context, workloads []Workload, o WatchOptions) error {
	switch {
	case o.Every < 10*time.Millisecond:
		return fmt.Errorf("%w: Watch every %s, less than 10ms", ErrInvalidConfig, o.Every)
	case o.Reverify < o.Every:
		return fmt.Errorf("%w: Watch reverifies every %s, less often than it lists (%s)", ErrInvalidConfig, o.Reverify, o.Every)
	case o.OnDeviation == nil:
		return fmt.Errorf("%w: Watch needs OnDeviation", ErrInvalidConfig)
	}
	type state struct {
		w        Workload
		listing  string
		verified time.Time
	}
	states := make([]*state, len(workloads))
	for i, w := range workloads {
		if w.Store == nil {
			return fmt.Errorf("%w: workload %d has no store", ErrInvalidConfig, i)
		}
		states[i] = &state{w: w}
	}
	ticker := time.NewTicker(o.Every)
	defer ticker.Stop()
	for {
		for _, st := range states {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			listing, err := c.listing(ctx, st.w)
			if ctx.Err() != nil {
				return ctx.Err() // what failed was stopped, not checked
			}
			if err != nil {
				if o.OnError != nil {
					o.OnError(ctx, st.w, err)
				}
				continue
			}
			now := c.cfg.clock()
			if listing == st.listing && !st.verified.IsZero() && now.Sub(st.verified) < o.Reverify {
				continue
			}
			if listing != st.listing && o.Cache != nil {
				o.Cache.Invalidate(st.w.Admitted.Digest)
				if st.w.Running != "" {
					o.Cache.Invalidate(st.w.Running)
				}
			}
			r, err := c.CheckRuntime(ctx, st.w, o.Requirements)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var de *DeviationError
			switch {
			case errors.As(err, &de):
				o.OnDeviation(ctx, st.w, r, de)
			case err != nil:
				if o.OnError != nil {
					o.OnError(ctx, st.w, err)
				}
				continue
			}
			st.listing, st.verified = listing, now
			if r.Facts != nil && r.Facts.CollectedAt.After(st.w.Seen) {
				st.w.Seen = r.Facts.CollectedAt
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// listing names the attestations a workload's check reads: the manifests listed for the
// admitted and the running digest, in order.
func (c *Checker) listing(ctx context.Context, w Workload) (string, error) {
	var b strings.Builder
	for _, d := range []digest.Digest{w.Admitted.Digest, w.Running} {
		if d == "" || (d == w.Running && d == w.Admitted.Digest) {
			continue
		}
		subject := w.Admitted
		if d != w.Admitted.Digest {
			desc, err := w.Store.Resolve(ctx, d.String())
			if errors.Is(err, provenance.ErrNotFound) {
				continue
			}
			if err != nil {
				return "", &CheckError{Op: "resolve", Subject: ocispec.Descriptor{Digest: d}, Err: err}
			}
			subject = desc
		}
		found, err := w.Store.Discover(ctx, subject, oras.Query{SkipNested: true})
		if err != nil && !errors.Is(err, provenance.ErrNotFound) {
			return "", &CheckError{Op: "discover", Subject: subject, Err: err}
		}
		for _, a := range found {
			b.WriteString(a.Manifest.Digest.String())
			b.WriteString(a.Layer.Digest.String())
			b.WriteByte('\n')
		}
		b.WriteByte('|')
	}
	return b.String(), nil
}
