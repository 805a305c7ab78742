package verify

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// Verifier checks signed provenance against trust material. It is immutable once made and
// safe for concurrent use.
type Verifier struct {
	trusted root.TrustedMaterial
	cfg     config
	// cert holds the sigstore-go verifiers of certificate-signed bundles, by requirement.
	cert verifierCache
	// keys are the keys found in KeySets of the trust material, each with its own verifiers.
	keys []*keyVerifier
	// policies are built once: provkit checks subject and identity itself, after sigstore-go.
	certPolicy, keyPolicy sgverify.PolicyBuilder
}

// keyVerifier is one trusted key with sigstore-go verifiers pinned to it, so the key is chosen
// by provkit (from the expected identity) and never by the bundle's unauthenticated hint.
type keyVerifier struct {
	id, fingerprint string
	key             root.TimeConstrainedVerifier
	// notAfter is the end of the key's validity window when the Verifier knows it (keys of a
	// KeySet); zero when open or unknown.
	notAfter time.Time
	sv       verifierCache
}

// requirement is what one bundle must carry: verified log entries, signing times and RFC 3161
// timestamps (each 0 for none). It depends on the configuration, the kind of signer and, for
// what is optional, on what the bundle holds.
type requirement struct {
	logs, observer, signed int
}

// verifierCache holds a sigstore-go verifier per requirement for one trust material. The set
// of requirements a configuration yields is small and fixed, so the cache stays small.
type verifierCache struct {
	tm           root.TrustedMaterial
	certificates bool
	m            sync.Map // requirement -> *sgverify.Verifier
}

// New returns a Verifier that trusts trusted: a KeySet, a trusted root (TrustedRootJSON,
// LoadTrustedRoot, TrustedRootTUF), CertificateAuthorities, any other sigstore-go
// root.TrustedMaterial, or a root.TrustedMaterialCollection of them.
//
// The defaults are the safest: every bundle needs one verified transparency-log entry and one
// verified signing time; certificates need an SCT when the trust material has CT logs and are
// checked at the verified signing time; key-signed bundles without any timestamp are refused
// (see WithUntimestampedKeysUnsafe). Options change these; contradictory ones fail with
// ErrInvalidConfig.
func New(trusted root.TrustedMaterial, opts ...Option) (*Verifier, error) {
	if trusted == nil {
		return nil, fmt.Errorf("%w: nil trust material", ErrInvalidConfig)
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", ErrInvalidConfig)
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.sct < 0 {
		cfg.sct = 0
		if len(trusted.CTLogs()) > 0 {
			cfg.sct = 1
		}
	}
	v := &Verifier{
		trusted:    trusted,
		cfg:        cfg,
		certPolicy: sgverify.NewPolicy(sgverify.WithoutArtifactUnsafe(), sgverify.WithoutIdentitiesUnsafe()),
		keyPolicy:  sgverify.NewPolicy(sgverify.WithoutArtifactUnsafe(), sgverify.WithKey()),
	}
	v.cert = verifierCache{tm: trusted, certificates: true}
	// Build the verifier of every requirement this configuration can yield now, so that
	// options sigstore-go rejects fail here and not on the first bundle.
	for _, r := range v.requirements(false) {
		if _, err := v.sigstoreVerifier(&v.cert, r); err != nil {
			return nil, err
		}
	}
	for _, ks := range keySets(trusted) {
		for _, k := range ks.keys {
			kv, err := v.newKeyVerifier(k.id, k.fingerprint, k.verifier)
			if err != nil {
				return nil, err
			}
			kv.notAfter = k.notAfter
			v.keys = append(v.keys, kv)
		}
	}
	return v, nil
}

func keySets(tm root.TrustedMaterial) []*KeySet {
	switch t := tm.(type) {
	case *KeySet:
		return []*KeySet{t}
	case root.TrustedMaterialCollection:
		var out []*KeySet
		for _, m := range t {
			out = append(out, keySets(m)...)
		}
		return out
	}
	return nil
}

func (v *Verifier) newKeyVerifier(id, fingerprint string, key root.TimeConstrainedVerifier) (*keyVerifier, error) {
	kv := &keyVerifier{id: id, fingerprint: fingerprint, key: key}
	kv.sv = verifierCache{tm: pinnedKey{TrustedMaterial: v.trusted, key: key}}
	for _, r := range v.requirements(true) {
		if _, err := v.sigstoreVerifier(&kv.sv, r); err != nil {
			return nil, err
		}
	}
	return kv, nil
}

// requirements lists every requirement the configuration can yield for a kind of signer.
func (v *Verifier) requirements(keySigned bool) []requirement {
	var out []requirement
	for _, logs := range []int{0, 1} {
		for _, times := range []int{0, 1} {
			r := v.requirement(keySigned, evidence{trustedLogs: logs, times: times})
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// evidence is what a bundle holds that the trust material can check: entries of trusted
// logs, and signing times (verified RFC 3161 timestamps and integrated times of trusted logs'
// entries with a signed entry timestamp). It is counted only where a requirement depends on it.
type evidence struct {
	trustedLogs, times int
}

// requirement is the rule of the package documentation's matrix: a bundle that meets the
// requirement of a configuration still meets it when it carries more valid evidence, because
// evidence that is present only ever adds to what is required of it by a fixed amount (one
// entry, one time) that the evidence itself provides.
func (v *Verifier) requirement(keySigned bool, ev evidence) requirement {
	c := v.cfg
	untimedKey := keySigned && c.untimedKeys
	var r requirement
	switch {
	case !untimedKey && !c.noTlog:
		r.logs = c.tlog
	case ev.trustedLogs > 0:
		// The log is optional, and the bundle has entries of a trusted log: they must verify.
		r.logs = 1
	}
	switch {
	case !untimedKey:
		r.observer, r.signed = c.observer, c.signedTS
	case ev.times > 0:
		// A key trusted without a time that comes with one: the time is checked and used.
		r.observer = 1
	}
	return r
}

// sigstoreVerifier returns the sigstore-go verifier of requirement r for cache's trust material.
func (v *Verifier) sigstoreVerifier(cache *verifierCache, r requirement) (*sgverify.Verifier, error) {
	if sv, ok := cache.m.Load(r); ok {
		return sv.(*sgverify.Verifier), nil
	}
	opts := []sgverify.VerifierOption{sgverify.WithoutStatementPredicate()}
	if r.logs > 0 {
		opts = append(opts, sgverify.WithTransparencyLog(r.logs))
	}
	if r.observer > 0 {
		opts = append(opts, sgverify.WithObserverTimestamps(r.observer))
	} else {
		opts = append(opts, sgverify.WithNoObserverTimestamps())
	}
	if r.signed > 0 {
		opts = append(opts, sgverify.WithSignedTimestamps(r.signed))
	}
	if cache.certificates && v.cfg.sct > 0 {
		opts = append(opts, sgverify.WithSignedCertificateTimestamps(v.cfg.sct))
	}
	sv, err := sgverify.NewVerifier(cache.tm, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, cause(err))
	}
	actual, _ := cache.m.LoadOrStore(r, sv)
	return actual.(*sgverify.Verifier), nil
}

// pinnedKey is trust material whose only public key is key, whatever hint a bundle names.
type pinnedKey struct {
	root.TrustedMaterial
	key root.TimeConstrainedVerifier
}

func (p pinnedKey) PublicKeyVerifier(string) (root.TimeConstrainedVerifier, error) { return p.key, nil }

// Verify checks b, a Sigstore bundle (v0.1 to v0.3) or a bare DSSE envelope
// (provenance.MediaTypeDSSE, key-signed), against the trust material, and returns the verified
// statement when all of this holds: the signature verifies; the signer is id; the log entries
// and timestamps meet the thresholds; the certificate chains to a trusted authority at the
// verified signing time; the payload is an in-toto statement (v1 or v0.1) naming subject; and
// its predicate type is accepted.
//
// subject must be a sha256 or sha512 digest and id must not be the zero Identity: both are
// required, and their absence is a configuration error (ErrInvalidSubject, ErrInvalidIdentity).
// Bad evidence fails with a *VerificationError wrapping ErrVerification.
func (v *Verifier) Verify(ctx context.Context, b provenance.Bundle, subject digest.Digest, id Identity) (*Result, error) {
	if err := v.precheck(ctx, subject, id); err != nil {
		return nil, err
	}
	entity, mediaType, err := parseBundle(b)
	if err != nil {
		return nil, v.logged(err, mediaType, subject)
	}
	r, err := v.verifyEntity(entity, mediaType, subject, id)
	return r, v.logged(err, mediaType, subject)
}

// VerifyEntity is Verify for a sigstore-go SignedEntity that is already decoded, such as a
// *bundle.Bundle or an entity of another Sigstore client. It must hold a DSSE envelope.
func (v *Verifier) VerifyEntity(ctx context.Context, entity sgverify.SignedEntity, subject digest.Digest, id Identity) (*Result, error) {
	if err := v.precheck(ctx, subject, id); err != nil {
		return nil, err
	}
	if entity == nil {
		return nil, fmt.Errorf("%w: nil entity", ErrInvalidConfig)
	}
	mediaType := provenance.MediaTypeBundleV03
	if ver, err := entity.Version(); err == nil && ver != "" {
		if mt, err := sgbundle.MediaTypeString(ver); err == nil {
			mediaType = mt
		}
	}
	r, err := v.verifyEntity(entity, mediaType, subject, id)
	return r, v.logged(err, mediaType, subject)
}

func (v *Verifier) logged(err error, mediaType string, subject digest.Digest) error {
	if v.cfg.logger != nil {
		if err != nil {
			v.cfg.logger.Info("verify: rejected", slog.String("subject", string(subject)), slog.String("mediaType", mediaType), slog.Any("error", err))
		} else {
			v.cfg.logger.Debug("verify: verified", slog.String("subject", string(subject)), slog.String("mediaType", mediaType))
		}
	}
	return err
}

func (v *Verifier) precheck(ctx context.Context, subject digest.Digest, id Identity) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := subject.Validate(); err != nil {
		return fmt.Errorf("%w: %q: %v", ErrInvalidSubject, subject, cause(err))
	}
	if a := subject.Algorithm(); a != digest.SHA256 && a != digest.SHA512 {
		return fmt.Errorf("%w: %s is not sha256 or sha512", ErrInvalidSubject, a)
	}
	if id.IsZero() {
		return fmt.Errorf("%w: the zero Identity accepts no signer; name keys or certificates, or use AnyIdentityUnsafe", ErrInvalidIdentity)
	}
	return nil
}

// parseBundle decodes b after checking that its media type, and a Sigstore bundle's own
// mediaType, agree with what the content is (see ParseBundleFile).
func parseBundle(b provenance.Bundle) (sgverify.SignedEntity, string, error) {
	if len(b.Data) > provenance.MaxBundleBytes {
		return nil, b.MediaType, fail(CheckSize, &provenance.SizeError{What: "bundle", Limit: provenance.MaxBundleBytes, Size: int64(len(b.Data))})
	}
	if !isBundleMediaType(b.MediaType) && b.MediaType != provenance.MediaTypeDSSE {
		return nil, b.MediaType, fmt.Errorf("%w: %q", ErrUnsupportedMediaType, b.MediaType)
	}
	kind, err := documentKind(b.Data)
	if err != nil {
		return nil, b.MediaType, fail(CheckFormat, err)
	}
	switch kind {
	case FileSigstoreBundle:
		sb, version, err := decodeSigstoreBundle(b.Data)
		if err != nil {
			return nil, b.MediaType, err
		}
		if err := checkDeclared(b.MediaType, kind, version); err != nil {
			return nil, b.MediaType, err
		}
		return sb, sb.GetMediaType(), nil
	case FileDSSEEnvelope:
		if err := checkDeclared(b.MediaType, kind, ""); err != nil {
			return nil, b.MediaType, err
		}
		e, err := envelopeEntity(b.Data, nil)
		return e, provenance.MediaTypeDSSE, err
	}
	return nil, b.MediaType, checkDeclared(b.MediaType, kind, "")
}

func (v *Verifier) verifyEntity(entity sgverify.SignedEntity, mediaType string, subject digest.Digest, id Identity) (*Result, error) {
	vc, err := entity.VerificationContent()
	if err != nil {
		return nil, failf(CheckFormat, "verification material: %w", err)
	}
	sc, err := entity.SignatureContent()
	if err != nil {
		return nil, failf(CheckFormat, "signature content: %w", err)
	}
	env := sc.EnvelopeContent()
	if env == nil || env.RawEnvelope() == nil {
		return nil, failf(CheckFormat, "bundle holds a message signature, not a DSSE envelope with a statement")
	}
	raw := env.RawEnvelope()
	if n := len(raw.Signatures); n != 1 {
		return nil, failf(CheckSignature, "envelope has %d signatures; exactly one is accepted", n)
	}
	if n := base64.StdEncoding.DecodedLen(len(raw.Payload)); n > v.cfg.maxPayload+3 {
		return nil, fail(CheckSize, &provenance.SizeError{What: "DSSE payload", Limit: int64(v.cfg.maxPayload), Size: int64(n)})
	}

	if err := countEvidence(entity); err != nil {
		return nil, err
	}

	var res *sgverify.VerificationResult
	var signer Signer
	var keyValidUntil time.Time
	switch {
	case vc.Certificate() != nil:
		if !id.acceptsCertificates() {
			got := "a certificate"
			if s, err := certificate.SummarizeCertificate(vc.Certificate()); err == nil {
				got = fmt.Sprintf("certificate %s from %s", s.SubjectAlternativeName, s.Issuer)
			}
			return nil, fail(CheckIdentity, &IdentityError{Expected: id.String(), Got: got})
		}
		r, err := v.bundleRequirement(entity, false)
		if err != nil {
			return nil, err
		}
		sv, err := v.sigstoreVerifier(&v.cert, r)
		if err != nil {
			return nil, err
		}
		if res, err = sv.Verify(entity, v.certPolicy); err != nil {
			return nil, classify(err, raw.PayloadType, false)
		}
		summary := res.Signature.Certificate
		if !id.any {
			if err := id.matchCertificate(*summary); err != nil {
				return nil, err
			}
		}
		signer.Certificate = &CertificateIdentity{
			Issuer:                 summary.Issuer,
			SubjectAlternativeName: summary.SubjectAlternativeName,
			Extensions:             summary.Extensions,
		}
	case vc.PublicKey() != nil:
		if !id.acceptsKeys() {
			return nil, fail(CheckIdentity, &IdentityError{Expected: id.String(), Got: "key " + vc.PublicKey().Hint()})
		}
		var kv *keyVerifier
		r, err := v.bundleRequirement(entity, true)
		if err != nil {
			return nil, err
		}
		if res, kv, err = v.verifyKeySigned(entity, vc.PublicKey().Hint(), id, r); err != nil {
			return nil, err
		}
		signer.KeyID = kv.id
		if r.observer == 0 {
			// The key's window was judged at the clock: the result holds until it closes.
			keyValidUntil = kv.notAfter
		}
	default:
		return nil, failf(CheckFormat, "bundle has neither a public key nor a certificate")
	}

	if raw.PayloadType != provenance.MediaTypeInToto {
		return nil, fail(CheckPayloadType, &PayloadTypeError{Got: raw.PayloadType})
	}
	payload, err := raw.DecodeB64Payload()
	if err != nil {
		return nil, failf(CheckStatement, "payload: %w", err)
	}
	if len(payload) > v.cfg.maxPayload {
		return nil, fail(CheckSize, &provenance.SizeError{What: "DSSE payload", Limit: int64(v.cfg.maxPayload), Size: int64(len(payload))})
	}
	st, err := provenance.ParseStatement(payload)
	if err != nil {
		if errors.Is(err, provenance.ErrTooLarge) {
			return nil, fail(CheckSize, err)
		}
		return nil, fail(CheckStatement, err)
	}
	if err := checkSubject(st, subject); err != nil {
		return nil, err
	}
	if len(v.cfg.predicateTypes) > 0 && !slices.Contains(v.cfg.predicateTypes, st.GetPredicateType()) {
		return nil, fail(CheckPredicateType, &PredicateTypeError{Expected: v.cfg.predicateTypes, Got: st.GetPredicateType()})
	}
	return &Result{
		statement:  st,
		subject:    subject,
		signer:     signer,
		timestamps: timestamps(res.VerifiedTimestamps),
		mediaType:  mediaType,
		validUntil: keyValidUntil,
	}, nil
}

// verifyKeySigned tries the trusted keys id accepts, the one the hint names first, and returns
// sigstore-go's result and the key that verified.
func (v *Verifier) verifyKeySigned(entity sgverify.SignedEntity, hint string, id Identity, r requirement) (*sgverify.VerificationResult, *keyVerifier, error) {
	cands, err := v.keyCandidates(hint, id)
	if err != nil {
		return nil, nil, err
	}
	// A hint naming a trusted key the identity does not accept: the bundle claims a signer
	// other than the expected one. If that key really signed, it is the wrong signer.
	var hinted *keyVerifier
	for _, kv := range v.keys {
		if kv.id == hint || kv.fingerprint == hint {
			hinted = kv
			break
		}
	}
	if hinted != nil && !id.acceptsKeyID(hinted.id) {
		if _, err := v.verifyWithKey(entity, hinted, r); err != nil {
			return nil, nil, err
		}
		return nil, nil, fail(CheckIdentity, &IdentityError{Expected: id.String(), Got: "key " + hinted.id})
	}
	var first error
	for _, kv := range cands {
		res, err := v.verifyWithKey(entity, kv, r)
		if err == nil {
			return res, kv, nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		return nil, nil, failf(CheckKey, "no trusted key is acceptable to %s", id)
	}
	return nil, nil, first
}

// verifyWithKey runs sigstore-go's verification pinned to one trusted key. Without a required
// signing time, the key's validity window is checked at the clock.
func (v *Verifier) verifyWithKey(entity sgverify.SignedEntity, kv *keyVerifier, r requirement) (*sgverify.VerificationResult, error) {
	if r.observer == 0 {
		if now := v.cfg.clock(); !kv.key.ValidAtTime(now) {
			return nil, failf(CheckKey, "key %s is not valid at %s, and the bundle has no verified signing time", kv.id, now.Format(time.RFC3339))
		}
	}
	sv, err := v.sigstoreVerifier(&kv.sv, r)
	if err != nil {
		return nil, err
	}
	res, err := sv.Verify(entity, v.keyPolicy)
	if err != nil {
		return nil, classify(err, payloadTypeOf(entity), true)
	}
	return res, nil
}

// bundleRequirement counts what entity holds where the requirement depends on it.
func (v *Verifier) bundleRequirement(entity sgverify.SignedEntity, keySigned bool) (requirement, error) {
	untimedKey := keySigned && v.cfg.untimedKeys
	if !untimedKey && !v.cfg.noTlog {
		return v.requirement(keySigned, evidence{}), nil
	}
	entries, err := entity.TlogEntries()
	if err != nil {
		return requirement{}, failf(CheckTransparencyLog, "log entries: %w", err)
	}
	var ev evidence
	logs := v.trusted.RekorLogs()
	for _, e := range entries {
		// The key sigstore-go looks trusted logs up by.
		if _, ok := logs[hex.EncodeToString([]byte(e.LogKeyID()))]; !ok {
			continue
		}
		ev.trustedLogs++
		if e.HasInclusionPromise() {
			ev.times++
		}
	}
	if untimedKey {
		// Timestamps no trusted authority signed are not counted, as sigstore-go does not count
		// them toward its thresholds; one that verifies is then required to verify again.
		stamps, _, err := sgverify.VerifySignedTimestamp(entity, v.trusted)
		if err != nil {
			return requirement{}, failf(CheckTimestamp, "RFC 3161 timestamps: %w", err)
		}
		ev.times += len(stamps)
	}
	return v.requirement(keySigned, ev), nil
}

func payloadTypeOf(entity sgverify.SignedEntity) string {
	sc, err := entity.SignatureContent()
	if err != nil || sc.EnvelopeContent() == nil || sc.EnvelopeContent().RawEnvelope() == nil {
		return ""
	}
	return sc.EnvelopeContent().RawEnvelope().PayloadType
}

// keyCandidates lists the keys to try, in order.
func (v *Verifier) keyCandidates(hint string, id Identity) ([]*keyVerifier, error) {
	var out []*keyVerifier
	for _, kv := range v.keys {
		if id.acceptsKeyID(kv.id) && (kv.id == hint || kv.fingerprint == hint) {
			out = append(out, kv)
		}
	}
	if len(out) > 0 {
		// The hint names an acceptable trusted key: that key, and only it, must verify.
		return out, nil
	}
	// A hint that names no trusted key (cosign's differ from sigstore-go's) is no evidence of
	// anything: every acceptable key is tried, and the signature alone decides.
	for _, kv := range v.keys {
		if id.acceptsKeyID(kv.id) {
			out = append(out, kv)
		}
	}
	// Keys the identity names that no KeySet holds are looked up in the trust material.
	for _, kid := range id.keyIDs {
		if slices.ContainsFunc(v.keys, func(kv *keyVerifier) bool { return kv.id == kid }) {
			continue
		}
		key, err := v.trusted.PublicKeyVerifier(kid)
		if err != nil {
			// The trust material's reason says the same: the key is not there.
			return nil, fmt.Errorf("%w: key %q is not in the trust material", ErrInvalidIdentity, kid)
		}
		kv, err := v.newKeyVerifier(kid, "", key)
		if err != nil {
			return nil, err
		}
		out = append(out, kv)
	}
	if len(out) == 0 && (id.anyKey || id.any) {
		// Trust material other than a KeySet: the hint is the only way to find its key.
		if key, err := v.trusted.PublicKeyVerifier(hint); err == nil {
			kv, err := v.newKeyVerifier(hint, "", key)
			if err != nil {
				return nil, err
			}
			out = append(out, kv)
		}
	}
	return out, nil
}

// Caps on evidence counted per bundle: sigstore-go's checks are quadratic in log entries, and
// each entry, timestamp and certificate costs a parse and a signature check.
const (
	maxTlogEntries  = 32
	maxTimestamps   = 32
	maxCertificates = 10
)

// countEvidence fails when the log entries, RFC 3161 timestamps or certificate chain of entity
// are over their caps.
func countEvidence(entity sgverify.SignedEntity) error {
	var logs, stamps, certs int
	if sb, ok := entity.(*sgbundle.Bundle); ok {
		vm := sb.GetVerificationMaterial()
		logs = len(vm.GetTlogEntries())
		stamps = len(vm.GetTimestampVerificationData().GetRfc3161Timestamps())
		certs = len(vm.GetX509CertificateChain().GetCertificates())
	} else {
		entries, err := entity.TlogEntries()
		if err != nil {
			return failf(CheckTransparencyLog, "log entries: %w", err)
		}
		ts, err := entity.Timestamps()
		if err != nil {
			return failf(CheckTimestamp, "timestamps: %w", err)
		}
		logs, stamps = len(entries), len(ts)
	}
	switch {
	case logs > maxTlogEntries:
		return failf(CheckSize, "%d transparency-log entries, over the limit of %d", logs, maxTlogEntries)
	case stamps > maxTimestamps:
		return failf(CheckSize, "%d RFC 3161 timestamps, over the limit of %d", stamps, maxTimestamps)
	case certs > maxCertificates:
		return failf(CheckSize, "certificate chain of %d, over the limit of %d", certs, maxCertificates)
	}
	return nil
}

// sigstoreStages maps the prefixes sigstore-go v1.3.0's Verifier.Verify wraps each of its
// steps' errors with (pkg/verify/signed_entity.go) onto the checks they are. sigstore-go's
// errors are otherwise anonymous; the tamper tests pin this mapping.
var sigstoreStages = []struct {
	prefix string
	check  Check
}{
	{"failed to verify log inclusion", CheckTransparencyLog},
	{"failed to verify timestamps", CheckTimestamp},
	{"must provide timestamp to verify certificate", CheckTimestamp},
	{"failed to fetch verification content", CheckFormat},
	{"failed to fetch signature content", CheckFormat},
	{"failed to fetch entity version", CheckFormat},
	{"expected key signature, not certificate", CheckIdentity},
	{"failed to summarize certificate", CheckCertificate},
	{"failed to verify leaf certificate", CheckCertificate},
	{"failed to verify signed certificate timestamp", CheckCertificate},
	{"SCTs required but bundle is signed with a public key", CheckCertificate},
	{"signature time outside of public key validity window", CheckKey},
	{"failed to verify signature", CheckSignature},
	{"failed to fetch envelope statement", CheckStatement},
}

// classify turns an error of sigstore-go's Verify into a *VerificationError.
func classify(err error, payloadType string, keySigned bool) error {
	msg := err.Error()
	for _, s := range sigstoreStages {
		if !strings.HasPrefix(msg, s.prefix) {
			continue
		}
		if s.check == CheckStatement && payloadType != provenance.MediaTypeInToto {
			return fail(CheckPayloadType, &PayloadTypeError{Got: payloadType})
		}
		return fail(s.check, stageless(err, s.prefix))
	}
	if prefix := "failed to get signature verifier"; strings.HasPrefix(msg, prefix) {
		if keySigned {
			return fail(CheckKey, stageless(err, prefix))
		}
		return fail(CheckCertificate, stageless(err, prefix))
	}
	// Every step of sigstore-go's Verify judges the evidence; an unlisted one is still a denial.
	return fail(CheckSignature, err)
}

// stageless drops the stage prefix from sigstore-go's err, keeping err as the cause.
func stageless(err error, prefix string) error {
	msg, ok := strings.CutPrefix(err.Error(), prefix+": ")
	if !ok {
		return err
	}
	return &upstreamError{msg: msg, err: err}
}

// checkSubject requires st to name subject, compared in provenance's normal form: a subject
// entry binds only by an identifying algorithm with a well-formed value.
func checkSubject(st *intoto.Statement, subject digest.Digest) error {
	alg := subject.Algorithm().String()
	for _, s := range st.GetSubject() {
		if provenance.HasDigest(s.GetDigest(), subject) {
			return nil
		}
	}
	se := &SubjectError{Expected: subject}
	for _, s := range st.GetSubject() {
		if h, ok := s.GetDigest()[alg]; ok {
			se.Present = append(se.Present, digest.NewDigestFromEncoded(digest.Algorithm(alg), h))
		}
	}
	if len(se.Present) == 0 {
		for _, s := range st.GetSubject() {
			for a, h := range s.GetDigest() {
				se.Present = append(se.Present, digest.Digest(a+":"+h))
			}
		}
		slices.Sort(se.Present)
	}
	return fail(CheckSubject, se)
}

// timestamps converts sigstore-go's verified timestamps, oldest first.
func timestamps(in []sgverify.TimestampVerificationResult) []Timestamp {
	if len(in) == 0 {
		return nil
	}
	out := make([]Timestamp, 0, len(in))
	seen := map[Timestamp]bool{}
	for _, t := range in {
		kind := TimestampRFC3161
		if t.Type == "Tlog" {
			kind = TimestampTransparencyLog
		}
		ts := Timestamp{Kind: kind, Authority: t.URI, Time: t.Timestamp.UTC()}
		if seen[ts] {
			continue
		}
		seen[ts] = true
		out = append(out, ts)
	}
	slices.SortStableFunc(out, func(a, b Timestamp) int { return a.Time.Compare(b.Time) })
	return out
}
