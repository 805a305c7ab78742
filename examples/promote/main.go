// Command promote is a promotion gate: it verifies an image's attestations in the dev
// repository, asks the policy whether the prod profile allows the image, and only then copies the
// image with all its attestations to the prod repository and attaches, there, a signed SLSA
// Verification Summary Attestation (VSA) recording the decision, so later stages can rely on it
// instead of verifying again. With -deploy it also signs a release record binding the image's
// digest to the digests of its deployment configuration (every file under the folder: Kubernetes
// manifests, a Helm chart, environment overrides) and to the approval, so an audit can show
// which image ran with which configuration, approved by whom.
//
//	go run ./examples/promote -from DEV_REF -to PROD_REF -policy policy.yaml -key cosign.pub -sign-key vsa.key \
//	    [-env prod] [-deploy DIR -approved-by WHO [-approval URI]] [-audit-log DIR -audit-log-key FILE] [-insecure-ignore-tlog] [-plain-http]
//
// References are host[:port]/repo[:tag|@digest]. It exits 1 when the policy denies; nothing is
// copied then.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/mod/sumdb/note"
	"k8s.io/klog/v2"

	"github.com/provkit/provkit/examples/internal/setup"
	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/provenance/release"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/auditlog"
)

func init() {
	// tessera, under the audit log, reports through klog; the program prints only its own lines.
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
}

// verifierID names this gate in the VSAs it signs.
const verifierID = "https://provkit.dev/examples/promote"

func main() {
	var o options
	flag.StringVar(&o.from, "from", "", "image to promote, host[:port]/repo[:tag|@digest] (required)")
	flag.StringVar(&o.to, "to", "", "destination, host[:port]/repo[:tag] (required)")
	flag.StringVar(&o.policyPath, "policy", "", "policy file (required)")
	flag.StringVar(&o.env, "env", "prod", "policy environment the destination stands for")
	flag.StringVar(&o.keyPath, "key", "", "trusted public key of the provenance, cosign.pub or PEM (required)")
	flag.StringVar(&o.signKeyPath, "sign-key", "", "private key that signs the VSA: cosign.key (password from PROVKIT_PASSWORD) or PEM (required)")
	flag.StringVar(&o.levels, "levels", "SLSA_BUILD_LEVEL_1", "comma-separated SLSA levels the policy establishes, recorded in the VSA")
	flag.StringVar(&o.deployDir, "deploy", "", "folder of the deployment configuration to record in a signed release record")
	flag.StringVar(&o.approvedBy, "approved-by", "", "who approved the release (required with -deploy)")
	flag.StringVar(&o.approval, "approval", "", "URI of the approval's record: a change ticket or pull request")
	flag.StringVar(&o.auditLog, "audit-log", "", "record the decision, the promotion and the release in the audit log folder (signed with -sign-key)")
	flag.StringVar(&o.auditLogKey, "audit-log-key", "", "checkpoint signing key of -audit-log, a signed-note private key (required with -audit-log)")
	flag.BoolVar(&o.insecureIgnoreTlog, "insecure-ignore-tlog", false, "accept key signatures with no transparency-log entry or timestamp")
	flag.BoolVar(&o.plainHTTP, "plain-http", false, "talk plain HTTP to registries (loopback only)")
	flag.Parse()
	if o.from == "" || o.to == "" || o.policyPath == "" || o.keyPath == "" || o.signKeyPath == "" || flag.NArg() > 0 ||
		(o.deployDir != "") != (o.approvedBy != "") {
		_ = textout.New(os.Stderr).Literal("usage: promote -from REF -to REF -policy FILE -key FILE -sign-key FILE [-env NAME]\n" +
			"    [-deploy DIR -approved-by WHO [-approval URI]] [-insecure-ignore-tlog] [-plain-http]\n")
		os.Exit(2)
	}
	o.password = os.Getenv("PROVKIT_PASSWORD")
	// A registry that stalls cannot keep the program for ever.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, o); err != nil {
		_ = textout.New(os.Stderr).Printf("promote: %s\n", err)
		os.Exit(1)
	}
}

// options are the command line and the key password.
type options struct {
	from, to, policyPath, env, keyPath, signKeyPath, levels, password string
	deployDir, approvedBy, approval                                   string
	auditLog, auditLogKey                                             string
	insecureIgnoreTlog, plainHTTP                                     bool
}

// run promotes o.from to o.to when the policy's o.env profile allows it. A denial is returned
// as the policy's *policy.DeniedError, wrapping policy.ErrDenied.
func run(ctx context.Context, w io.Writer, o options) (err error) {
	pol, err := setup.LoadPolicy(o.policyPath)
	if err != nil {
		return err
	}
	verifier, err := setup.KeyVerifier(o.keyPath, o.insecureIgnoreTlog)
	if err != nil {
		return err
	}
	vsaKey, err := sign.LoadPrivateKey(o.signKeyPath, []byte(o.password))
	if err != nil {
		return fmt.Errorf("sign key: %w", err)
	}
	vsaSigner, err := sign.NewKeySigner(vsaKey)
	if err != nil {
		return err
	}
	srcRepo, srcRef, err := setup.SplitReference(o.from)
	if err != nil {
		return err
	}
	dstRepo, dstRef, err := setup.SplitReference(o.to)
	if err != nil {
		return err
	}
	if strings.HasPrefix(dstRef, "sha256:") {
		return fmt.Errorf("-to %s: name a tag, not a digest", o.to)
	}
	src, err := setup.OpenRemote(srcRepo, o.plainHTTP)
	if err != nil {
		return err
	}
	dst, err := setup.OpenRemote(dstRepo, o.plainHTTP)
	if err != nil {
		return err
	}

	// 1. Verify what the dev repository holds about the image, by digest.
	image, err := src.Resolve(ctx, srcRef)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", o.from, err)
	}
	gateOpts := []gate.Option{gate.WithPolicy(pol), gate.WithEnvironment(o.env)}
	var events *auditlog.Log
	if o.auditLog != "" {
		if events, err = openAuditLog(ctx, o, vsaSigner); err != nil {
			return err
		}
		defer func() {
			if cerr := events.Close(ctx); cerr != nil && err == nil {
				err = fmt.Errorf("audit log %s: %w", o.auditLog, cerr)
			}
		}()
		gateOpts = append(gateOpts, gate.WithRecorder(events, verifierID))
	}
	checker, err := gate.New(verifier, verify.KeyIDs(setup.KeyID), gateOpts...)
	if err != nil {
		return err
	}
	report, err := checker.Check(ctx, src, image)
	p := textout.New(w)
	if report != nil {
		p.Printf("image    %s@%s: %d of %d attestations verified\n", srcRepo, image.Digest, len(report.Verified), len(report.Verified)+len(report.Rejected))
	}

	// 2. The prod profile decided.
	var decision *policy.Decision
	if report != nil {
		decision = report.Decision
	}
	if decision != nil {
		for _, r := range decision.Rules {
			p.Printf("%-8s %-20s %s\n", r.Outcome, r.Name, r.Reason)
		}
		for _, r := range decision.Reasons {
			p.Printf("reason   %s\n", r)
		}
		p.Printf("verdict  %s for %s\n", decision.Verdict, o.env)
	}
	if err != nil {
		return err
	}

	// The release record is checked before anything is copied: a deployment folder that cannot
	// be read, or an approval that is not valid, stops the promotion here.
	var record *release.Record
	if o.deployDir != "" {
		if record, err = releaseRecord(ctx, o, dstRepo, image); err != nil {
			return err
		}
	}

	// 3. Copy the image with all its attestations, then record the decision at the destination.
	copied, err := oras.Copy(ctx, src, image.Digest.String(), dst, dstRef)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", o.to, err)
	}
	policyURI, err := filepath.Abs(o.policyPath)
	if err != nil {
		return err
	}
	vsa, err := decision.VSA(policy.VSAOptions{
		VerifierID:     verifierID,
		ResourceURI:    dstRepo + "@" + copied.Digest.String(),
		PolicyURI:      "file://" + filepath.ToSlash(policyURI),
		VerifiedLevels: strings.Split(o.levels, ","),
		SLSAVersion:    "1.0",
	})
	if err != nil {
		return fmt.Errorf("make VSA: %w", err)
	}
	bundle, err := vsaSigner.Sign(ctx, vsa)
	if err != nil {
		return fmt.Errorf("sign VSA: %w", err)
	}
	attached, err := dst.Attach(ctx, copied, bundle)
	if err != nil {
		return fmt.Errorf("attach VSA to %s: %w", o.to, err)
	}
	p.Printf("copied   %s:%s@%s\n", dstRepo, dstRef, copied.Digest)
	p.Printf("vsa      %s\n", attached.Digest)
	if events != nil {
		if err := events.Record(ctx, audit.Event{Kind: audit.KindPromoted, Subject: copied.Digest, SubjectName: dstRepo + ":" + dstRef,
			Evidence: []digest.Digest{bundle.Digest()}, Actor: verifierID, Time: time.Now().UTC(), Decision: audit.DecisionAllow,
			Environment: o.env, Reasons: []string{"policy " + decision.Policy.Name + " allowed " + o.env}}); err != nil {
			return err
		}
	}
	if o.deployDir == "" {
		return p.Err()
	}

	// 4. Record the release: the image, its deployment configuration and the approval, with
	// the VSA that allowed it, signed.
	record.Approval.Decision = &intoto.ResourceDescriptor{Name: "verification-summary", Digest: map[string]string{"sha256": bundle.Digest().Encoded()}}
	st, err := record.Statement()
	if err != nil {
		return err
	}
	signed, err := vsaSigner.Sign(ctx, st)
	if err != nil {
		return fmt.Errorf("sign release record: %w", err)
	}
	recorded, err := dst.Attach(ctx, copied, signed)
	if err != nil {
		return fmt.Errorf("attach release record to %s: %w", o.to, err)
	}
	if events != nil {
		if err := events.Record(ctx, audit.Event{Kind: audit.KindReleased, Subject: copied.Digest, SubjectName: dstRepo + ":" + dstRef,
			Evidence: []digest.Digest{signed.Digest()}, Actor: o.approvedBy, Time: record.ReleasedOn, Environment: o.env,
			Attributes: map[string]string{"approval": o.approval}}); err != nil {
			return err
		}
	}
	return p.Printf("release  %s (%s, approved by %s)\n", recorded.Digest, o.env, o.approvedBy)
}

// openAuditLog opens o.auditLog, signing checkpoints with the note key in o.auditLogKey and
// events with signer.
func openAuditLog(ctx context.Context, o options, signer sign.Signer) (*auditlog.Log, error) {
	if o.auditLogKey == "" {
		return nil, fmt.Errorf("-audit-log needs -audit-log-key")
	}
	skey, err := os.ReadFile(o.auditLogKey)
	if err != nil {
		return nil, err
	}
	ns, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return nil, fmt.Errorf("audit log key %s: %w", o.auditLogKey, err)
	}
	return auditlog.Open(ctx, o.auditLog, ns, signer)
}

// releaseRecord makes the release record of image, at repo: every file under o.deployDir by
// digest and the approval, checked. The decision that allowed it is added once it exists.
func releaseRecord(ctx context.Context, o options, repo string, image ocispec.Descriptor) (*release.Record, error) {
	subject, err := provenance.SubjectFromDescriptor(repo, image)
	if err != nil {
		return nil, err
	}
	config, err := provenance.SubjectsFromDir(ctx, o.deployDir)
	if err != nil {
		return nil, fmt.Errorf("deployment configuration: %w", err)
	}
	now := time.Now().UTC()
	record := &release.Record{
		Image:         subject,
		Environment:   o.env,
		Configuration: config,
		Approval:      release.Approval{By: o.approvedBy, On: now, Reference: o.approval},
		ReleasedOn:    now,
	}
	if _, err := record.Statement(); err != nil {
		return nil, fmt.Errorf("release record: %w", err)
	}
	return record, nil
}
