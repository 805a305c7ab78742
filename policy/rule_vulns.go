package policy

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/types/known/structpb"

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
	if err != nil || !(f >= 0 && f <= 10) { // NaN is no score
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
// the rule fails closed. With maxAge, only scans made within maxAge of the evaluation time
// count (see scanTime), and the rule fails when none is.
type vulnsRule struct {
	failAt     int
	acceptVEX  bool
	ignore     map[string]bool
	maxAge     time.Duration // 0: scans of any age count
	maxAgeText string        // maxAge as the policy wrote it
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
	var stale []Evidence
	if r.maxAge > 0 {
		var c *check
		if scans, stale, c = r.fresh(ec, scans); c != nil {
			return *c
		}
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
			field := "predicate.scanner.result"
			if se := (*shapeError)(nil); errors.As(err, &se) {
				field = se.field
			}
			return broken(fmt.Errorf("scan attestation %d: %w", v.index, err),
				Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: field, Message: "a scan report of a shape this rule cannot read denies"})
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
		return fail(fmt.Sprintf("%d finding(s) at or above %s: %s", len(bad), severityName(r.failAt), strings.Join(dedupe(blocking), ", ")), append(bad, stale...)...)
	}
	reason := fmt.Sprintf("%d scan(s), %d finding(s), none blocking at %s", len(scans), total, severityName(r.failAt))
	if len(stale) > 0 {
		reason += fmt.Sprintf("; %d scan(s) older than %s not counted", len(stale), r.maxAgeText)
	}
	return pass(reason, append(good, stale...)...)
}

// fresh returns the scans made within maxAge of the evaluation time, and evidence naming each
// of the others and its age. With no fresh scan it returns the failing check: the newest scan's
// age says by how much the subject is overdue for one.
func (r *vulnsRule) fresh(ec *evalContext, scans []*view) ([]*view, []Evidence, *check) {
	var fresh []*view
	var stale []Evidence
	newest := time.Duration(-1)
	for _, v := range scans {
		at, field, err := scanTime(v)
		if err != nil {
			field := "predicate.metadata"
			if se := (*shapeError)(nil); errors.As(err, &se) {
				field = se.field
			}
			c := broken(fmt.Errorf("scan attestation %d: %w", v.index, err),
				Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: field, Message: "a scan time this rule cannot read denies"})
			return nil, nil, &c
		}
		ev := Evidence{Attestation: v.index, PredicateType: v.predicateType, Field: field}
		if at.IsZero() {
			ev.Field = "signedAt"
			ev.Message = "no verified signing time and no predicate.metadata.scanFinishedOn: the scan's age is unknown; not counted"
			stale = append(stale, ev)
			continue
		}
		age := ec.now.Sub(at)
		ev.Value = at.UTC().Format(time.RFC3339)
		if age <= r.maxAge {
			ec.changesAt(at.Add(r.maxAge))
			fresh = append(fresh, v)
			continue
		}
		ev.Message = fmt.Sprintf("scanned %s ago, more than maxAge %s; not counted", age.Round(time.Second), r.maxAgeText)
		stale = append(stale, ev)
		if newest < 0 || age < newest {
			newest = age
		}
	}
	if len(fresh) > 0 {
		return fresh, stale, nil
	}
	reason := fmt.Sprintf("no vulnerability scan newer than %s", r.maxAgeText)
	if newest >= 0 {
		reason += fmt.Sprintf("; newest is %s old", newest.Round(time.Second))
	} else {
		reason += "; no scan has a verified signing time or a predicate.metadata.scanFinishedOn"
	}
	c := fail(reason, stale...)
	return nil, nil, &c
}

// scanTime returns when scan v was made, and the field that says so: the earlier of its
// verified signing time and the scanFinishedOn of its predicate's metadata (vulns v0.2 and
// cosign's vuln predicate both have it), of those it has. The stated time can only make a
// scan older than its signature: a scan is never fresher than when it was signed. The zero
// time means it has neither. A metadata or scanFinishedOn of the wrong shape is a *shapeError.
func scanTime(v *view) (time.Time, string, error) {
	const field = "predicate.metadata.scanFinishedOn"
	var finished time.Time
	if meta := lookup(v.predicate, "metadata"); !absent(meta) {
		m, err := structAt(meta, "predicate.metadata")
		if err != nil {
			return time.Time{}, "", err
		}
		if fv := lookup(m, "scanFinishedOn"); !absent(fv) {
			sv, ok := fv.GetKind().(*structpb.Value_StringValue)
			if !ok {
				return time.Time{}, "", &shapeError{field: field, want: "an RFC 3339 time"}
			}
			t, err := time.Parse(time.RFC3339Nano, sv.StringValue)
			if err != nil {
				return time.Time{}, "", &shapeError{field: field, want: "an RFC 3339 time"}
			}
			finished = t
		}
	}
	switch {
	case v.hasSignedAt && (finished.IsZero() || !finished.Before(v.signedAt)):
		return v.signedAt, "signedAt", nil
	case !finished.IsZero():
		return finished, field, nil
	}
	return time.Time{}, "", nil
}

// findings reads the in-toto vulns v0.2 predicate, or cosign's vuln predicate whose
// scanner.result is a Trivy or Grype JSON report. Every value it reads must have the shape those
// formats give it: a report of any other shape is a *shapeError, never zero findings. Only the
// vulns v0.2 predicate may leave scanner.result out (its specification makes the list optional);
// a finding without a severity is kept, of unknown severity.
func findings(v *view) ([]finding, error) {
	scanner, err := structAt(lookup(v.predicate, "scanner"), "predicate.scanner")
	if err != nil {
		return nil, err
	}
	result := lookup(scanner, "result")
	field := "predicate.scanner.result"
	if absent(result) {
		if v.predicateType == provenance.PredicateVulnsV02 {
			return nil, nil
		}
		return nil, &shapeError{field: field, want: "a Trivy or Grype report"}
	}
	if _, ok := result.GetKind().(*structpb.Value_ListValue); ok {
		return vulnsV02Findings(result.GetListValue().GetValues(), field)
	}
	report, err := structAt(result, field)
	if err != nil {
		return nil, err
	}
	switch {
	case report.GetFields()["Results"] != nil:
		return trivyFindings(report, field)
	case report.GetFields()["matches"] != nil:
		return grypeFindings(report, field)
	case report.GetFields()["SchemaVersion"] != nil:
		return nil, nil // a Trivy report that found nothing to scan has no Results
	}
	return nil, &shapeError{field: field, want: "a vulns v0.2 list, a Trivy report or a Grype report"}
}

func vulnsV02Findings(results []*structpb.Value, field string) ([]finding, error) {
	out := make([]finding, 0, len(results))
	for i, rv := range results {
		at := fmt.Sprintf("%s[%d]", field, i)
		r, err := structAt(rv, at)
		if err != nil {
			return nil, err
		}
		f := finding{severity: sevNone, field: at}
		if f.id, err = idAt(r, "id", at); err != nil {
			return nil, err
		}
		sevs, err := optionalListAt(lookup(r, "severity"), at+".severity")
		if err != nil {
			return nil, err
		}
		if len(sevs) == 0 {
			f.severity = sevUnknown
		}
		var raws []string
		for j, sv := range sevs {
			s, err := structAt(sv, fmt.Sprintf("%s.severity[%d]", at, j))
			if err != nil {
				return nil, err
			}
			score := lookupString(s, "score")
			raws = append(raws, score)
			n := parseSeverity(score)
			if n == sevUnknown || (f.severity != sevUnknown && n > f.severity) {
				f.severity = n
			}
		}
		f.raw = strings.Join(raws, ",")
		if f.aliases, err = annotatedAliases(r, at); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// annotatedAliases reads the "aliases" lists of a vulns v0.2 result's annotations, as
// provenance/vuln's Statement writes them; annotations of any other key are not read.
func annotatedAliases(r *structpb.Struct, at string) ([]string, error) {
	anns, err := optionalListAt(lookup(r, "annotations"), at+".annotations")
	if err != nil {
		return nil, err
	}
	var out []string
	for i, av := range anns {
		aat := fmt.Sprintf("%s.annotations[%d]", at, i)
		a, err := structAt(av, aat)
		if err != nil {
			return nil, err
		}
		list, err := optionalListAt(lookup(a, "aliases"), aat+".aliases")
		if err != nil {
			return nil, err
		}
		for j, e := range list {
			sv, ok := e.GetKind().(*structpb.Value_StringValue)
			if !ok || sv.StringValue == "" {
				return nil, &shapeError{field: fmt.Sprintf("%s.aliases[%d]", aat, j), want: "a vulnerability id"}
			}
			out = append(out, sv.StringValue)
		}
	}
	return out, nil
}

func trivyFindings(report *structpb.Struct, field string) ([]finding, error) {
	targets, err := optionalListAt(lookup(report, "Results"), field+".Results")
	if err != nil {
		return nil, err
	}
	var out []finding
	for i, tv := range targets {
		at := fmt.Sprintf("%s.Results[%d]", field, i)
		target, err := structAt(tv, at)
		if err != nil {
			return nil, err
		}
		vulns, err := optionalListAt(lookup(target, "Vulnerabilities"), at+".Vulnerabilities")
		if err != nil {
			return nil, err
		}
		for j, vv := range vulns {
			vat := fmt.Sprintf("%s.Vulnerabilities[%d]", at, j)
			s, err := structAt(vv, vat)
			if err != nil {
				return nil, err
			}
			id, err := idAt(s, "VulnerabilityID", vat)
			if err != nil {
				return nil, err
			}
			sev := lookupString(s, "Severity")
			out = append(out, finding{id: id, severity: parseSeverity(sev), raw: sev, field: vat})
		}
	}
	return out, nil
}

func grypeFindings(report *structpb.Struct, field string) ([]finding, error) {
	matches, err := optionalListAt(lookup(report, "matches"), field+".matches")
	if err != nil {
		return nil, err
	}
	out := make([]finding, 0, len(matches))
	for i, mv := range matches {
		at := fmt.Sprintf("%s.matches[%d]", field, i)
		m, err := structAt(mv, at)
		if err != nil {
			return nil, err
		}
		vs, err := structAt(lookup(m, "vulnerability"), at+".vulnerability")
		if err != nil {
			return nil, err
		}
		f := finding{severity: sevNone, field: at + ".vulnerability"}
		if f.id, err = idAt(vs, "id", f.field); err != nil {
			return nil, err
		}
		f.raw = lookupString(vs, "severity")
		f.severity = parseSeverity(f.raw)
		related, err := optionalListAt(lookup(m, "relatedVulnerabilities"), at+".relatedVulnerabilities")
		if err != nil {
			return nil, err
		}
		for j, rv := range related {
			rat := fmt.Sprintf("%s.relatedVulnerabilities[%d]", at, j)
			r, err := structAt(rv, rat)
			if err != nil {
				return nil, err
			}
			alias, err := idAt(r, "id", rat)
			if err != nil {
				return nil, err
			}
			f.aliases = append(f.aliases, alias)
		}
		out = append(out, f)
	}
	return out, nil
}

// shapeError says where a scan report stops having the shape its format gives it.
type shapeError struct {
	field, want string
}

func (e *shapeError) Error() string {
	return fmt.Sprintf("%s is not %s", e.field, e.want)
}

func absent(v *structpb.Value) bool {
	return v == nil || isNull(v)
}

func structAt(v *structpb.Value, field string) (*structpb.Struct, error) {
	if s, ok := v.GetKind().(*structpb.Value_StructValue); ok {
		return s.StructValue, nil
	}
	return nil, &shapeError{field: field, want: "an object"}
}

func optionalListAt(v *structpb.Value, field string) ([]*structpb.Value, error) {
	if absent(v) {
		return nil, nil
	}
	if l, ok := v.GetKind().(*structpb.Value_ListValue); ok {
		return l.ListValue.GetValues(), nil
	}
	return nil, &shapeError{field: field, want: "a list"}
}

func idAt(s *structpb.Struct, key, field string) (string, error) {
	id := lookupString(s, key)
	if id == "" {
		return "", &shapeError{field: field + "." + key, want: "a vulnerability id"}
	}
	return id, nil
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
