package policy

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance"
)

// Severity levels, ordered.
const (
	sevUnknown  = -1
	sevNone     = 0
	sevLow      = 1
	sevMedium   = 2
	sevHigh     = 3
	sevCritical = 4
)

var severityNames = map[string]int{
	"none": sevNone, "negligible": sevNone, "info": sevNone, "informational": sevNone,
	"low": sevLow, "medium": sevMedium, "moderate": sevMedium, "high": sevHigh, "important": sevHigh,
	"critical": sevCritical,
}

func severityName(s int) string {
	switch s {
	case sevNone:
		return "none"
	case sevLow:
		return "low"
	case sevMedium:
		return "medium"
	case sevHigh:
		return "high"
	case sevCritical:
		return "critical"
	}
	return "unknown"
}

// parseSeverity reads a severity label ("HIGH") or a CVSS base score ("7.5"). Anything else,
// such as a bare CVSS vector, is unknown.
func parseSeverity(s string) int {
	s = strings.TrimSpace(s)
	if n, ok := severityNames[strings.ToLower(s)]; ok {
		return n
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 10 {
		return sevUnknown
	}
	switch {
	case f >= 9:
		return sevCritical
	case f >= 7:
		return sevHigh
	case f >= 4:
		return sevMedium
	case f > 0:
		return sevLow
	}
	return sevNone
}

// vulnsRule denies findings at or above a severity in the verified vulnerability scans of the
// subject, except those an OpenVEX attestation on the same subject marks not_affected (when
// acceptVEX) and those ignored by id. A finding of unknown severity counts as at the threshold:
// the rule fails closed.
type vulnsRule struct {
	failAt    int
	acceptVEX bool
	ignore    map[string]bool
}

type finding struct {
	id       string
	aliases  []string
	severity int
	field    string
	raw      string
}

func (r *vulnsRule) eval(ec *evalContext) check {
	scans := ec.ofType(provenance.PredicateVulnsV02, provenance.PredicateCosignVuln)
	if len(scans) == 0 {
		return fail("no verified vulnerability scan attestation", Evidence{Attestation: -1, PredicateType: provenance.PredicateVulnsV02, Message: "none among the attestations"})
	}
	var vex *vexIndex
	if r.acceptVEX {
		vex = buildVEX(ec)
	}
	var bad, good []Evidence
	var blocking []string
	total := 0
	for _, v := range scans {
		fs, err := findings(v)
		if err != nil {
			return broken(err, Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: "predicate.scanner.result"})
		}
		total += len(fs)
		for _, f := range fs {
			if f.severity != sevUnknown && f.severity < r.failAt {
				continue
			}
			ev := Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: f.field, Value: f.id + " " + f.raw}
			switch {
			case r.ignore[f.id]:
				ev.Message = "ignored by the policy"
				good = append(good, ev)
			case vex != nil && vex.notAffected(v.subject, f):
				s := vex.statement(v.subject, f)
				ev.Message = fmt.Sprintf("not_affected per OpenVEX attestation %d", s.attestation)
				good = append(good, ev, Evidence{Attestation: s.attestation, PredicateType: provenance.PredicateOpenVEX, Field: s.field, Value: "not_affected"})
			default:
				ev.Message = "severity " + severityName(f.severity)
				if f.severity == sevUnknown {
					ev.Message = "unknown severity, counted as " + severityName(r.failAt)
				}
				bad = append(bad, ev)
				blocking = append(blocking, f.id)
			}
		}
	}
	if len(bad) > 0 {
		return fail(fmt.Sprintf("%d finding(s) at or above %s: %s", len(bad), severityName(r.failAt), strings.Join(dedupe(blocking), ", ")), bad...)
	}
	return pass(fmt.Sprintf("%d scan(s), %d finding(s), none blocking at %s", len(scans), total, severityName(r.failAt)), good...)
}

// findings reads the in-toto vulns v0.2 predicate, or cosign's vuln predicate whose
// scanner.result is a Trivy or Grype JSON report.
func findings(v *view) ([]finding, error) {
	result := lookup(v.predicate, "scanner", "result")
	if result == nil || isNull(result) {
		return nil, nil
	}
	var out []finding
	if list := result.GetListValue(); list != nil {
		for i, rv := range list.GetValues() {
			r := rv.GetStructValue()
			f := finding{id: lookupString(r, "id"), severity: sevNone, field: fmt.Sprintf("predicate.scanner.result[%d]", i)}
			sevs := lookup(r, "severity").GetListValue().GetValues()
			if len(sevs) == 0 {
				f.severity = sevUnknown
			}
			var raws []string
			for _, s := range sevs {
				score := lookupString(s.GetStructValue(), "score")
				raws = append(raws, score)
				n := parseSeverity(score)
				if n == sevUnknown || (f.severity != sevUnknown && n > f.severity) {
					f.severity = n
				}
			}
			f.raw = strings.Join(raws, ",")
			out = append(out, f)
		}
		return out, nil
	}
	rs := result.GetStructValue()
	if trivy := lookup(rs, "Results"); trivy != nil {
		for i, target := range trivy.GetListValue().GetValues() {
			for j, vv := range lookup(target.GetStructValue(), "Vulnerabilities").GetListValue().GetValues() {
				s := vv.GetStructValue()
				sev := lookupString(s, "Severity")
				out = append(out, finding{
					id: lookupString(s, "VulnerabilityID"), severity: parseSeverity(sev), raw: sev,
					field: fmt.Sprintf("predicate.scanner.result.Results[%d].Vulnerabilities[%d]", i, j),
				})
			}
		}
		return out, nil
	}
	if grype := lookup(rs, "matches"); grype != nil {
		for i, m := range grype.GetListValue().GetValues() {
			vs := lookup(m.GetStructValue(), "vulnerability").GetStructValue()
			sev := lookupString(vs, "severity")
			f := finding{id: lookupString(vs, "id"), severity: parseSeverity(sev), raw: sev, field: fmt.Sprintf("predicate.scanner.result.matches[%d].vulnerability", i)}
			for _, rel := range lookup(m.GetStructValue(), "relatedVulnerabilities").GetListValue().GetValues() {
				f.aliases = append(f.aliases, lookupString(rel.GetStructValue(), "id"))
			}
			out = append(out, f)
		}
		return out, nil
	}
	if len(rs.GetFields()) == 0 {
		return nil, nil
	}
	return nil, fmt.Errorf("scanner.result of attestation %d is neither a vulns v0.2 list, a Trivy report nor a Grype report", v.index)
}

// vexIndex holds the OpenVEX statements of the verified OpenVEX attestations, per subject.
type vexIndex struct {
	stmts []vexStatement
}

type vexStatement struct {
	attestation int
	subject     string
	field       string
	names       []string
	products    []string
	status      string
	time        time.Time
	order       int
}

func buildVEX(ec *evalContext) *vexIndex {
	idx := &vexIndex{}
	order := 0
	for _, v := range ec.ofType(provenance.PredicateOpenVEX) {
		docTime := parseTime(lookupString(v.predicate, "timestamp"))
		for i, sv := range lookup(v.predicate, "statements").GetListValue().GetValues() {
			s := sv.GetStructValue()
			vs := vexStatement{attestation: v.index, subject: string(v.subject), field: fmt.Sprintf("predicate.statements[%d].status", i), status: lookupString(s, "status"), order: order}
			order++
			vs.time = parseTime(lookupString(s, "timestamp"))
			if vs.time.IsZero() {
				vs.time = docTime
			}
			vuln := lookup(s, "vulnerability")
			if name := vuln.GetStringValue(); name != "" {
				vs.names = append(vs.names, name)
			} else if vo := vuln.GetStructValue(); vo != nil {
				for _, k := range []string{"name", "@id"} {
					if n := lookupString(vo, k); n != "" {
						vs.names = append(vs.names, n)
					}
				}
				for _, a := range lookup(vo, "aliases").GetListValue().GetValues() {
					vs.names = append(vs.names, a.GetStringValue())
				}
			}
			for _, p := range lookup(s, "products").GetListValue().GetValues() {
				if str := p.GetStringValue(); str != "" {
					vs.products = append(vs.products, str)
					continue
				}
				ps := p.GetStructValue()
				vs.products = append(vs.products, lookupString(ps, "@id"))
				for _, h := range lookup(ps, "hashes").GetStructValue().GetFields() {
					vs.products = append(vs.products, h.GetStringValue())
				}
				for _, id := range lookup(ps, "identifiers").GetStructValue().GetFields() {
					vs.products = append(vs.products, id.GetStringValue())
				}
			}
			idx.stmts = append(idx.stmts, vs)
		}
	}
	sort.SliceStable(idx.stmts, func(i, j int) bool { return idx.stmts[i].time.Before(idx.stmts[j].time) })
	return idx
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// statement returns the latest VEX statement about finding f of subject, or nil. A statement
// applies when it is in an attestation about the same subject, names the vulnerability (or one
// of its aliases), and either lists no products or lists one that names the subject digest.
func (x *vexIndex) statement(subject digest.Digest, f finding) *vexStatement {
	var last *vexStatement
	for i := range x.stmts {
		s := &x.stmts[i]
		if s.subject != string(subject) || !s.namesFinding(f) || !s.covers(string(subject)) {
			continue
		}
		last = s
	}
	return last
}

func (x *vexIndex) notAffected(subject digest.Digest, f finding) bool {
	s := x.statement(subject, f)
	return s != nil && s.status == "not_affected"
}

func (s *vexStatement) namesFinding(f finding) bool {
	for _, n := range s.names {
		if n == f.id || contains(f.aliases, n) {
			return true
		}
	}
	return false
}

func (s *vexStatement) covers(subject string) bool {
	if len(s.products) == 0 {
		return true
	}
	_, hex, _ := strings.Cut(subject, ":")
	for _, p := range s.products {
		if p == subject || (hex != "" && strings.Contains(p, hex)) {
			return true
		}
	}
	return false
}
