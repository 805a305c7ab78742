package policy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/provkit/provkit/verify"
)

// signersRule passes when at least threshold of its identities each signed at least one of the
// attestations it considers (all, or those of the listed predicate types). Each identity counts
// once however many attestations it signed, so two attestations from one key never make two of
// three.
type signersRule struct {
	threshold  int
	types      []string
	identities []*signerMatcher
}

type signerMatcher struct {
	label      string
	keyID      string
	issuer     string
	issuerRe   *regexp.Regexp
	san        string
	sanRe      *regexp.Regexp
	extensions []extensionMatch
}

type extensionMatch struct {
	name string
	want string
	get  func(*certificate.Extensions) string
}

// extensionFields maps the JSON names of sigstore-go's certificate.Extensions onto accessors.
var extensionFields = map[string]func(*certificate.Extensions) string{
	"githubWorkflowTrigger":               func(e *certificate.Extensions) string { return e.GithubWorkflowTrigger },
	"githubWorkflowSHA":                   func(e *certificate.Extensions) string { return e.GithubWorkflowSHA },
	"githubWorkflowName":                  func(e *certificate.Extensions) string { return e.GithubWorkflowName },
	"githubWorkflowRepository":            func(e *certificate.Extensions) string { return e.GithubWorkflowRepository },
	"githubWorkflowRef":                   func(e *certificate.Extensions) string { return e.GithubWorkflowRef },
	"buildSignerURI":                      func(e *certificate.Extensions) string { return e.BuildSignerURI },
	"buildSignerDigest":                   func(e *certificate.Extensions) string { return e.BuildSignerDigest },
	"runnerEnvironment":                   func(e *certificate.Extensions) string { return e.RunnerEnvironment },
	"sourceRepositoryURI":                 func(e *certificate.Extensions) string { return e.SourceRepositoryURI },
	"sourceRepositoryDigest":              func(e *certificate.Extensions) string { return e.SourceRepositoryDigest },
	"sourceRepositoryRef":                 func(e *certificate.Extensions) string { return e.SourceRepositoryRef },
	"sourceRepositoryIdentifier":          func(e *certificate.Extensions) string { return e.SourceRepositoryIdentifier },
	"sourceRepositoryOwnerURI":            func(e *certificate.Extensions) string { return e.SourceRepositoryOwnerURI },
	"sourceRepositoryOwnerIdentifier":     func(e *certificate.Extensions) string { return e.SourceRepositoryOwnerIdentifier },
	"buildConfigURI":                      func(e *certificate.Extensions) string { return e.BuildConfigURI },
	"buildConfigDigest":                   func(e *certificate.Extensions) string { return e.BuildConfigDigest },
	"buildTrigger":                        func(e *certificate.Extensions) string { return e.BuildTrigger },
	"runInvocationURI":                    func(e *certificate.Extensions) string { return e.RunInvocationURI },
	"sourceRepositoryVisibilityAtSigning": func(e *certificate.Extensions) string { return e.SourceRepositoryVisibilityAtSigning },
}

// matches reports whether s is this identity.
func (m *signerMatcher) matches(s verify.Signer) bool {
	if m.keyID != "" {
		return s.KeyID == m.keyID
	}
	c := s.Certificate
	if c == nil {
		return false
	}
	if (m.issuer != "" && c.Issuer != m.issuer) || (m.issuerRe != nil && !m.issuerRe.MatchString(c.Issuer)) {
		return false
	}
	if (m.san != "" && c.SubjectAlternativeName != m.san) || (m.sanRe != nil && !m.sanRe.MatchString(c.SubjectAlternativeName)) {
		return false
	}
	for _, x := range m.extensions {
		if x.get(&c.Extensions) != x.want {
			return false
		}
	}
	return true
}

func (r *signersRule) eval(ec *evalContext) check {
	views := ec.views
	if len(r.types) > 0 {
		views = ec.ofType(r.types...)
	}
	if len(views) == 0 {
		return fail("no attestations to check signers on", Evidence{Attestation: -1, Message: "predicate types " + quoteList(r.types)})
	}
	var matched []string
	var ev []Evidence
	for _, m := range r.identities {
		hit := false
		for _, v := range views {
			if m.matches(v.signer) {
				ev = append(ev, Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: "signer", Value: signerString(v.signer), Message: "matches " + m.label})
				hit = true
				break
			}
		}
		if hit {
			matched = append(matched, m.label)
		}
	}
	if len(matched) >= r.threshold {
		return pass(fmt.Sprintf("%d of %d required signers present (%s)", len(matched), r.threshold, strings.Join(matched, ", ")), ev...)
	}
	for _, v := range views {
		if !r.anyMatch(v.signer) {
			ev = append(ev, Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: "signer", Value: signerString(v.signer), Message: "matches no listed identity"})
		}
	}
	return fail(fmt.Sprintf("%d of %d required signers present", len(matched), r.threshold), ev...)
}

func (r *signersRule) anyMatch(s verify.Signer) bool {
	for _, m := range r.identities {
		if m.matches(s) {
			return true
		}
	}
	return false
}

// attestationsRule passes when every listed predicate type has a verified attestation.
type attestationsRule struct {
	types []string
}

func (r *attestationsRule) eval(ec *evalContext) check {
	var missing []string
	var ev []Evidence
	for _, t := range r.types {
		found := false
		for _, v := range ec.views {
			if v.predicateType == t {
				ev = append(ev, Evidence{Attestation: v.index, PredicateType: t, Field: "predicateType", Value: t})
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		miss := make([]Evidence, len(missing))
		for i, t := range missing {
			miss[i] = Evidence{Attestation: -1, PredicateType: t, Field: "predicateType", Message: "no verified attestation of this type"}
		}
		return fail("missing attestations: "+quoteList(missing), miss...)
	}
	return pass(fmt.Sprintf("all %d required attestations present", len(r.types)), ev...)
}
