package policy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/provkit/provkit/verify"
)

// signersRule passes when at least threshold distinct signers of the attestations it considers
// (all, or those of the listed predicate types) each match a different listed identity. A
// signer counts once however many attestations it signed and however many identities it
// matches, so one key never makes two of three.
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
	// The distinct signers, each with the first attestation it signed.
	var signers []*view
	seen := map[string]bool{}
	for _, v := range views {
		if key := signerKey(v.signer); !seen[key] {
			seen[key] = true
			signers = append(signers, v)
		}
	}
	// Pair identities with distinct signers (a maximum bipartite matching), so that one signer
	// matched by two identities counts once.
	owner := make([]int, len(signers)) // signer -> identity, or -1
	for i := range owner {
		owner[i] = -1
	}
	var augment func(id int, visited []bool) bool
	augment = func(id int, visited []bool) bool {
		for s, v := range signers {
			if visited[s] || !r.identities[id].matches(v.signer) {
				continue
			}
			visited[s] = true
			if owner[s] < 0 || augment(owner[s], visited) {
				owner[s] = id
				return true
			}
		}
		return false
	}
	matched := 0
	for id := range r.identities {
		if augment(id, make([]bool, len(signers))) {
			matched++
		}
	}
	var ev []Evidence
	var labels []string
	for s, id := range owner {
		v := signers[s]
		if id >= 0 {
			labels = append(labels, r.identities[id].label)
			ev = append(ev, Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: "signer", Value: signerString(v.signer), Message: "matches " + r.identities[id].label})
		}
	}
	if matched >= r.threshold {
		return pass(fmt.Sprintf("%d of %d required signers present (%s)", matched, r.threshold, strings.Join(labels, ", ")), ev...)
	}
	for _, v := range views {
		if !r.anyMatch(v.signer) {
			ev = append(ev, Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: "signer", Value: signerString(v.signer), Message: "matches no listed identity"})
		}
	}
	return fail(fmt.Sprintf("%d of %d required signers present", matched, r.threshold), ev...)
}

// signerKey identifies a signer for counting distinct ones.
func signerKey(s verify.Signer) string {
	if c := s.Certificate; c != nil {
		return "cert\x00" + c.Issuer + "\x00" + c.SubjectAlternativeName
	}
	return "key\x00" + s.KeyID
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
