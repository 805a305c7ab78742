package dashboard

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/provenance/lifecycle"
	"github.com/provkit/provkit/provenance/rebuild"
	"github.com/provkit/provkit/provenance/vuln"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/verify/lineage"
	"github.com/provkit/provkit/verify/lineage/index"
)

// value returns a query parameter, refusing one over MaxValueBytes.
func value(r *http.Request, name string) (string, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if len(v) > MaxValueBytes {
		return "", &RequestError{Param: name, Reason: fmt.Sprintf("longer than %d bytes", MaxValueBytes)}
	}
	return v, nil
}

// pageNumber returns the "page" parameter: 1 when absent, else 1 to MaxPageNumber.
func pageNumber(r *http.Request) (int, error) {
	v, err := value(r, "page")
	if err != nil || v == "" {
		return 1, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxPageNumber {
		return 0, &RequestError{Param: "page", Reason: fmt.Sprintf("a page number from 1 to %d", MaxPageNumber)}
	}
	return n, nil
}

// pathDigest returns the digest a path segment names, in normal form.
func pathDigest(r *http.Request, name string) (digest.Digest, error) {
	d, err := provenance.ParseDigest(r.PathValue(name))
	if err != nil {
		return "", &RequestError{Param: name, Reason: "not a digest such as sha256:<64 hex digits>", Err: err}
	}
	return d, nil
}

// artifactHref and stepHref are the only links to artifacts and steps: built from digests in
// normal form, so nothing a statement says can become part of a URL but a digest.
func artifactHref(d digest.Digest) string { return "/artifact/" + url.PathEscape(d.String()) }
func stepHref(id digest.Digest) string    { return "/step/" + url.PathEscape(id.String()) }
func lineageHref(d digest.Digest) string  { return "/lineage/" + url.PathEscape(d.String()) }

// pager is the position of a page in a listing.
type pager struct {
	Page, Pages, Total int
	Prev, Next         string
}

func newPager(base url.Values, path string, page, total int) pager {
	p := pager{Page: page, Total: total, Pages: max(1, (total+PageSize-1)/PageSize)}
	link := func(n int) string {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(n))
		return path + "?" + q.Encode()
	}
	if page > 1 {
		p.Prev = link(page - 1)
	}
	if page < p.Pages {
		p.Next = link(page + 1)
	}
	return p
}

// signatureView is one signature, in words.
type signatureView struct {
	Signer   string
	SignedAt time.Time
	Detail   string // the certificate's repository, ref and workflow, when it has them
}

func signaturesOf(sigs []index.Signature) []signatureView {
	out := make([]signatureView, 0, len(sigs))
	for _, s := range sigs {
		v := signatureView{Signer: lineage.SignerLabel(s.Signer), SignedAt: s.SignedAt}
		var parts []string
		for _, k := range []string{"sourceRepositoryURI", "sourceRepositoryRef", "sourceRepositoryDigest", "runInvocationURI"} {
			if x := s.Extensions[k]; x != "" {
				parts = append(parts, x)
			}
		}
		v.Detail = strings.Join(parts, " · ")
		out = append(out, v)
	}
	return out
}

func signerLabels(sigs []index.Signature) []string {
	var out []string
	for _, s := range sigs {
		out = append(out, lineage.SignerLabel(s.Signer))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// buildRow is one statement in a listing.
type buildRow struct {
	Href, Name, Kind string
	At               time.Time
	Signers          []string
	Outputs          []link
	Builder          string
}

// link is a link with its text and a title giving the full value.
type link struct {
	Href, Text, Title string
}

func artifactLink(a index.Artifact) link {
	return link{Href: artifactHref(a.Digest), Text: cmp.Or(a.Name, shortDigest(a.Digest)), Title: a.Digest.String()}
}

// kindOf names a predicate type for people.
func kindOf(r index.Record) string {
	switch {
	case r.BuildType == workflow.BuildType:
		return "workflow step"
	case r.PredicateType == provenance.PredicateSLSAProvenanceV1:
		return "build"
	case r.PredicateType == rebuild.PredicateType:
		return "rebuild check"
	case r.PredicateType == lifecycle.PredicateType:
		return "lifecycle status"
	case r.PredicateType == provenance.PredicateVulnsV02 || r.PredicateType == provenance.PredicateCosignVuln:
		return "vulnerability scan"
	}
	return r.PredicateType
}

func rowOf(r index.Record) buildRow {
	b := buildRow{Href: stepHref(r.ID), Name: r.Name, Kind: kindOf(r), At: r.At, Signers: signerLabels(r.Signatures), Builder: r.BuilderID}
	seen := map[string]bool{}
	for _, s := range r.Subjects {
		// One link per named output: its other digests are the same artifact.
		key := cmp.Or(s.Name, s.Digest.String())
		if !seen[key] {
			seen[key] = true
			b.Outputs = append(b.Outputs, artifactLink(s))
		}
	}
	return b
}

// overviewPage is the front page.
type overviewPage struct {
	Artifacts   int
	Recent      []buildRow
	Drifts      []index.Drift
	Exposed     []index.Exposure
	Deployments int
}

func (overviewPage) title() string { return "Overview" }

func (h *Handler) overview(r *http.Request) (string, any, error) {
	ctx := r.Context()
	_, total, err := h.ix.Artifacts(ctx, index.Page{Limit: 1})
	if err != nil {
		return "", nil, err
	}
	recent, err := h.ix.Recent(ctx, index.RecentQuery{PredicateType: provenance.PredicateSLSAProvenanceV1, Page: index.Page{Limit: 10}})
	if err != nil {
		return "", nil, err
	}
	p := overviewPage{Artifacts: total}
	for _, rec := range recent {
		p.Recent = append(p.Recent, rowOf(rec))
	}
	if p.Drifts, err = h.ix.Drifts(ctx); err != nil {
		return "", nil, err
	}
	if p.Exposed, err = h.ix.Exposed(ctx, index.ExposureQuery{AtLeast: vuln.SeverityHigh}); err != nil {
		return "", nil, err
	}
	deps, err := h.ix.Deployments(ctx)
	if err != nil {
		return "", nil, err
	}
	p.Deployments = len(deps)
	return "overview", p, nil
}

// artifactRow is one artifact in the listing.
type artifactRow struct {
	Link       link
	Digest     digest.Digest
	Names      []string
	Statements int
	Latest     time.Time
	Signers    []string
	State      string
	Rebuilt    string
	Vulns      string
	Attention  bool
}

type artifactsPage struct {
	Rows  []artifactRow
	Pager pager
}

func (artifactsPage) title() string { return "Artifacts" }

func (h *Handler) artifacts(r *http.Request) (string, any, error) {
	ctx := r.Context()
	page, err := pageNumber(r)
	if err != nil {
		return "", nil, err
	}
	sums, total, err := h.ix.Artifacts(ctx, index.Page{Offset: (page - 1) * PageSize, Limit: PageSize})
	if err != nil {
		return "", nil, err
	}
	exposed, err := h.exposures(ctx)
	if err != nil {
		return "", nil, err
	}
	p := artifactsPage{Pager: newPager(nil, "/artifacts", page, total)}
	for _, s := range sums {
		row := artifactRow{Digest: s.Digest, Names: s.Names, Statements: s.Statements, Latest: s.Latest,
			Link: link{Href: artifactHref(s.Digest), Text: shortDigest(s.Digest), Title: s.Digest.String()}}
		facts, err := h.factsOf(ctx, s.Digest)
		if err != nil {
			return "", nil, err
		}
		row.Signers = facts.signers
		row.State = facts.state
		row.Rebuilt = facts.rebuilt
		row.Vulns = vulnSummary(exposed[s.Digest])
		row.Attention = facts.state != string(lifecycle.StateActive) || strings.HasPrefix(facts.rebuilt, "mismatch") || row.Vulns != "none recorded"
		p.Rows = append(p.Rows, row)
	}
	return "artifacts", p, nil
}

// exposures maps each artifact to the findings of its latest scan, of any severity.
func (h *Handler) exposures(ctx context.Context) (map[digest.Digest]*index.Exposure, error) {
	all, err := h.ix.Exposed(ctx, index.ExposureQuery{AtLeast: vuln.SeverityNone})
	if err != nil {
		return nil, err
	}
	out := map[digest.Digest]*index.Exposure{}
	for i := range all {
		out[all[i].Digest] = &all[i]
	}
	return out, nil
}

func vulnSummary(e *index.Exposure) string {
	if e == nil {
		return "none recorded"
	}
	if e.Problem != "" {
		return "scan unreadable"
	}
	counts := map[vuln.Severity]int{}
	for _, f := range e.Findings {
		counts[f.Severity]++
	}
	var parts []string
	for s := vuln.SeverityCritical; s >= vuln.SeverityUnknown; s-- {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	if len(parts) == 0 {
		return "none recorded"
	}
	return strings.Join(parts, ", ")
}

// artifactFacts are the statements about one artifact, read and judged.
type artifactFacts struct {
	names    []string
	records  []index.Record
	signers  []string
	state    string
	status   *lifecycle.Resolution
	statusBy string
	rebuilds []rebuildView
	rebuilt  string
	problems []string
}

// rebuildView is one rebuild check of an artifact.
type rebuildView struct {
	Href      string
	Outcome   string
	Summary   string
	CheckedOn time.Time
	Signers   []string
	Matched   bool
}

// factsOf reads the statements about d and judges its lifecycle status and rebuilds.
func (h *Handler) factsOf(ctx context.Context, d digest.Digest) (*artifactFacts, error) {
	found, err := h.ix.Find(ctx, index.Query{Subject: d})
	if err != nil {
		return nil, err
	}
	f := &artifactFacts{state: string(lifecycle.StateActive), rebuilt: "not rebuilt"}
	var ids []digest.Digest
	for _, a := range found {
		ids = append(ids, a.Statement)
		if a.Name != "" {
			f.names = append(f.names, a.Name)
		}
	}
	slices.Sort(f.names)
	f.names = slices.Compact(f.names)
	if f.records, err = h.ix.Records(ctx, ids...); err != nil {
		return nil, err
	}
	var statuses []lifecycle.Signed
	for _, rec := range f.records {
		f.signers = append(f.signers, signerLabels(rec.Signatures)...)
		switch rec.PredicateType {
		case lifecycle.PredicateType:
			st, err := h.statement(ctx, rec.ID)
			if err != nil || st == nil {
				f.problems = append(f.problems, "a lifecycle status whose statement the index does not hold ("+rec.ID.String()+")")
				continue
			}
			s, err := lifecycle.Parse(st)
			if err != nil {
				f.problems = append(f.problems, "an unreadable lifecycle status: "+err.Error())
				continue
			}
			for _, sig := range signerLabels(rec.Signatures) {
				statuses = append(statuses, lifecycle.Signed{Status: s, Signer: sig, Bundle: rec.ID})
			}
		case rebuild.PredicateType:
			v := rebuildView{Href: stepHref(rec.ID), Signers: signerLabels(rec.Signatures), CheckedOn: rec.At}
			st, err := h.statement(ctx, rec.ID)
			var res *rebuild.Result
			if err == nil && st != nil {
				res, err = rebuild.Parse(st)
			}
			switch {
			case res != nil:
				v.Outcome, v.Summary, v.CheckedOn, v.Matched = string(res.Outcome), res.Summary(), res.CheckedOn, res.Matched()
			case err != nil:
				v.Outcome, v.Summary = "unreadable", err.Error()
			default:
				v.Outcome, v.Summary = "unknown", "the index does not hold this check's statement; add its result again"
			}
			f.rebuilds = append(f.rebuilds, v)
		}
	}
	slices.Sort(f.signers)
	f.signers = slices.Compact(f.signers)
	slices.SortFunc(f.rebuilds, func(x, y rebuildView) int { return y.CheckedOn.Compare(x.CheckedOn) })
	if len(f.rebuilds) > 0 {
		last := f.rebuilds[0]
		f.rebuilt = last.Outcome + " (" + last.CheckedOn.UTC().Format("2006-01-02") + ")"
	}
	if len(statuses) > 0 {
		res, err := lifecycle.Resolve(d, statuses, h.now(), h.entitled)
		if err != nil {
			f.state = "conflicting statuses"
			f.problems = append(f.problems, err.Error())
		} else {
			f.status = res
			f.state = string(res.State())
			if res.Current != nil {
				f.statusBy = res.Current.Signer
			}
		}
	}
	return f, nil
}

// statement returns the statement of a record, or nil when the index does not hold it.
func (h *Handler) statement(ctx context.Context, id digest.Digest) (*intoto.Statement, error) {
	st, ok, err := h.ix.Statement(ctx, id)
	if err != nil || !ok {
		return nil, err
	}
	return st, nil
}

// stepView is one statement in detail: a build or workflow step.
type stepView struct {
	ID                    digest.Digest
	Href                  string
	Name, Kind, Workflow  string
	Image                 string
	ImageLink             *link
	Command               string
	Parameters            []paramView
	Environment           []paramView
	Builder, InvocationID string
	StartedOn, FinishedOn time.Time
	Signatures            []signatureView
	Inputs, Outputs       []link
	Source                string
	Held                  bool // whether the index holds the statement itself
	Problem               string
}

// paramView is one parameter: its JSON Pointer, its value as JSON, and a search for it.
type paramView struct {
	Name, Value, Search string
}

// stepOf reads a record's statement into a stepView.
func (h *Handler) stepOf(ctx context.Context, rec index.Record) (stepView, error) {
	v := stepView{ID: rec.ID, Href: stepHref(rec.ID), Name: rec.Name, Kind: kindOf(rec), Builder: rec.BuilderID,
		Signatures: signaturesOf(rec.Signatures)}
	if rec.SourceRepository != "" {
		v.Source = rec.SourceRepository + " @ " + rec.SourceCommit
	}
	for _, s := range rec.Subjects {
		v.Outputs = append(v.Outputs, artifactLink(s))
	}
	st, err := h.statement(ctx, rec.ID)
	if err != nil {
		return v, err
	}
	if st == nil {
		for _, m := range rec.Materials {
			v.Inputs = append(v.Inputs, link{Href: artifactHref(m), Text: shortDigest(m), Title: m.String()})
		}
		v.Problem = "The index was made before it recorded statements: add this result again to show its command, parameters and times."
		return v, nil
	}
	v.Held = true
	if rec.PredicateType != provenance.PredicateSLSAProvenanceV1 {
		return v, nil
	}
	p, err := provenance.SLSAProvenance(st)
	if err != nil {
		v.Problem = "The statement's predicate cannot be read: " + err.Error()
		return v, nil
	}
	bd, md := p.GetBuildDefinition(), p.GetRunDetails().GetMetadata()
	v.InvocationID = md.GetInvocationId()
	if t := md.GetStartedOn(); t != nil {
		v.StartedOn = t.AsTime()
	}
	if t := md.GetFinishedOn(); t != nil {
		v.FinishedOn = t.AsTime()
	}
	ext := bd.GetExternalParameters().GetFields()
	imageDigests := map[digest.Digest]bool{}
	for _, rd := range bd.GetResolvedDependencies() {
		ds, _ := provenance.IdentifyingDigests(rd.GetDigest())
		if len(ds) == 0 {
			continue
		}
		l := link{Href: artifactHref(ds[0]), Text: cmp.Or(rd.GetName(), rd.GetUri(), shortDigest(ds[0])), Title: ds[0].String()}
		if provenance.Role(rd) == provenance.RoleToolchain && v.ImageLink == nil {
			v.ImageLink = &l
			for _, d := range ds {
				imageDigests[d] = true
			}
			continue
		}
		v.Inputs = append(v.Inputs, l)
	}
	if bd.GetBuildType() == workflow.BuildType {
		v.Workflow = ext["workflow"].GetStringValue()
		v.Image = ext["image"].GetStringValue()
		var cmd []string
		for _, a := range ext["command"].GetListValue().GetValues() {
			cmd = append(cmd, shellQuote(a.GetStringValue()))
		}
		v.Command = strings.Join(cmd, " ")
		v.Parameters = params("/parameters", ext["parameters"])
		v.Environment = params("", bd.GetInternalParameters().GetFields()["environment"])
	} else {
		v.Parameters = params("", structpb.NewStructValue(bd.GetExternalParameters()))
	}
	return v, nil
}

// params lists the leaves of a JSON value by JSON Pointer, each with its value as JSON and a
// search for the statements with the same value.
func params(prefix string, v *structpb.Value) []paramView {
	var out []paramView
	var walk func(path string, v *structpb.Value)
	walk = func(path string, v *structpb.Value) {
		switch k := v.GetKind().(type) {
		case *structpb.Value_StructValue:
			keys := make([]string, 0, len(k.StructValue.GetFields()))
			for key := range k.StructValue.GetFields() {
				keys = append(keys, key)
			}
			slices.Sort(keys)
			for _, key := range keys {
				walk(path+index.Pointer(key), k.StructValue.GetFields()[key])
			}
		case *structpb.Value_ListValue:
			for i, e := range k.ListValue.GetValues() {
				walk(path+"/"+strconv.Itoa(i), e)
			}
		case nil, *structpb.Value_NullValue:
		default:
			raw, _ := protojson.Marshal(v)
			text := string(raw)
			if s, ok := k.(*structpb.Value_StringValue); ok {
				text = s.StringValue
			}
			p := paramView{Name: path, Value: string(raw)}
			p.Search = "/search?" + url.Values{"param": {path + "=" + text}}.Encode()
			if _, isNum := k.(*structpb.Value_NumberValue); isNum {
				var n json.Number
				if json.Unmarshal(raw, &n) == nil {
					p.Value = n.String()
				}
			}
			out = append(out, p)
		}
	}
	walk(prefix, v)
	return out
}

// shellQuote quotes a command-line argument for display, the way a POSIX shell reads it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// artifactPage is one artifact in full.
type artifactPage struct {
	Digest      digest.Digest
	Names       []string
	Verdict     string
	VerdictKind string // "ok", "warn" or "bad"
	Reasons     []string
	MadeBy      []stepView
	UsedBy      []buildRow
	Signers     []string
	State       string
	Status      *lifecycle.Signed
	Rebuilds    []rebuildView
	Exposure    *index.Exposure
	Events      []eventView
	Deviations  []eventView
	Tags        []index.Sighting
	Others      []buildRow
	Lineage     string
}

func (p artifactPage) title() string {
	if len(p.Names) > 0 {
		return p.Names[0]
	}
	return shortDigest(p.Digest)
}

// eventView is one audit event, in words.
type eventView struct {
	Time                         time.Time
	Kind, Decision, Actor, Where string
	Reasons                      []string
	Name                         string
	Deviation                    bool
}

func (h *Handler) artifact(r *http.Request) (string, any, error) {
	ctx := r.Context()
	d, err := pathDigest(r, "digest")
	if err != nil {
		return "", nil, err
	}
	f, err := h.factsOf(ctx, d)
	if err != nil {
		return "", nil, err
	}
	used, err := h.ix.Find(ctx, index.Query{Material: d})
	if err != nil {
		return "", nil, err
	}
	events, err := h.ix.Events(ctx, d)
	if err != nil {
		return "", nil, err
	}
	tags, err := h.ix.TagsOf(ctx, d)
	if err != nil {
		return "", nil, err
	}
	if len(f.records) == 0 && len(used) == 0 && len(events) == 0 && len(tags) == 0 {
		return "", nil, &NotFoundError{Kind: "artifact", Key: d.String()}
	}
	p := artifactPage{Digest: d, Names: f.names, Signers: f.signers, State: f.state, Rebuilds: f.rebuilds, Tags: tags, Lineage: lineageHref(d)}
	if f.status != nil {
		p.Status = f.status.Current
	}
	for _, rec := range f.records {
		switch {
		case rec.PredicateType == provenance.PredicateSLSAProvenanceV1:
			v, err := h.stepOf(ctx, rec)
			if err != nil {
				return "", nil, err
			}
			p.MadeBy = append(p.MadeBy, v)
		case rec.PredicateType != rebuild.PredicateType && rec.PredicateType != lifecycle.PredicateType:
			p.Others = append(p.Others, rowOf(rec))
		}
	}
	slices.SortFunc(p.MadeBy, func(x, y stepView) int { return cmp.Or(x.FinishedOn.Compare(y.FinishedOn), cmp.Compare(x.ID, y.ID)) })
	var usedIDs []digest.Digest
	for _, a := range used {
		usedIDs = append(usedIDs, a.Statement)
	}
	usedRecs, err := h.ix.Records(ctx, usedIDs...)
	if err != nil {
		return "", nil, err
	}
	for _, rec := range usedRecs {
		p.UsedBy = append(p.UsedBy, rowOf(rec))
	}
	exposed, err := h.exposures(ctx)
	if err != nil {
		return "", nil, err
	}
	p.Exposure = exposed[d]
	for _, e := range events {
		v := eventView{Time: e.Event.Time, Kind: string(e.Event.Kind), Decision: string(e.Event.Decision), Actor: e.Event.Actor,
			Where: e.Event.Environment, Reasons: e.Event.Reasons, Name: e.Event.SubjectName, Deviation: e.Event.Kind == audit.KindRuntimeDeviation}
		p.Events = append(p.Events, v)
		if v.Deviation {
			p.Deviations = append(p.Deviations, v)
		}
	}
	p.Verdict, p.VerdictKind, p.Reasons = verdict(f, p)
	return "artifact", p, nil
}

// verdict answers "is it still trusted", in words, from what the index holds.
func verdict(f *artifactFacts, p artifactPage) (string, string, []string) {
	var bad, warn, ok []string
	switch lifecycle.State(f.state) {
	case lifecycle.StateRevoked:
		bad = append(bad, "its lifecycle status is revoked: it must not run")
	case lifecycle.StateRetired:
		bad = append(bad, "its lifecycle status is retired")
	case lifecycle.StateDeprecated:
		warn = append(warn, "its lifecycle status is deprecated")
	case lifecycle.StateActive:
		ok = append(ok, "no lifecycle status in effect retires or revokes it")
	default:
		bad = append(bad, "its lifecycle statuses conflict")
	}
	if len(p.MadeBy) > 0 {
		ok = append(ok, fmt.Sprintf("%d signed provenance statement(s) say how it was made; each signature was verified when it was indexed", len(p.MadeBy)))
	} else {
		warn = append(warn, "no signed provenance says how it was made")
	}
	if len(f.rebuilds) > 0 {
		if f.rebuilds[0].Matched {
			ok = append(ok, "its latest rebuild check matched: "+f.rebuilds[0].Summary)
		} else {
			bad = append(bad, "its latest rebuild check did not match: "+f.rebuilds[0].Summary)
		}
	}
	if e := p.Exposure; e != nil {
		switch {
		case e.Problem != "":
			warn = append(warn, "its latest vulnerability scan cannot be read")
		case slices.ContainsFunc(e.Findings, func(x index.ExposureFinding) bool { return x.Severity.AtLeast(vuln.SeverityHigh) }):
			warn = append(warn, "its latest vulnerability scan lists high or critical findings ("+vulnSummary(e)+")")
		}
	}
	if len(p.Deviations) > 0 {
		bad = append(bad, fmt.Sprintf("%d runtime deviation(s) recorded: what ran differed from what was built or allowed", len(p.Deviations)))
	}
	bad = append(bad, f.problems...)
	reasons := append(append(bad, warn...), ok...)
	switch {
	case len(bad) > 0:
		return "Not trusted", "bad", reasons
	case len(warn) > 0:
		return "Needs attention", "warn", reasons
	}
	return "Trusted", "ok", reasons
}

// stepPage is one statement.
type stepPage struct {
	Step stepView
}

func (p stepPage) title() string { return p.Step.Name }

func (h *Handler) step(r *http.Request) (string, any, error) {
	id, err := pathDigest(r, "id")
	if err != nil {
		return "", nil, err
	}
	recs, err := h.ix.Records(r.Context(), id)
	if err != nil {
		return "", nil, err
	}
	if len(recs) == 0 {
		return "", nil, &NotFoundError{Kind: "step", Key: id.String()}
	}
	v, err := h.stepOf(r.Context(), recs[0])
	if err != nil {
		return "", nil, err
	}
	return "step", stepPage{Step: v}, nil
}

// buildsPage lists statements newest first.
type buildsPage struct {
	Rows  []buildRow
	Pager pager
	All   bool
}

func (buildsPage) title() string { return "Recent builds" }

func (h *Handler) builds(r *http.Request) (string, any, error) {
	page, err := pageNumber(r)
	if err != nil {
		return "", nil, err
	}
	kind, err := value(r, "kind")
	if err != nil {
		return "", nil, err
	}
	q := index.RecentQuery{PredicateType: provenance.PredicateSLSAProvenanceV1, Page: index.Page{Offset: (page - 1) * PageSize, Limit: PageSize + 1}}
	base := url.Values{}
	if kind == "all" {
		q.PredicateType = ""
		base.Set("kind", "all")
	}
	recs, err := h.ix.Recent(r.Context(), q)
	if err != nil {
		return "", nil, err
	}
	p := buildsPage{All: kind == "all", Pager: pager{Page: page}}
	if len(recs) > PageSize {
		recs = recs[:PageSize]
		base.Set("page", strconv.Itoa(page+1))
		p.Pager.Next = "/builds?" + base.Encode()
	}
	if page > 1 {
		base.Set("page", strconv.Itoa(page-1))
		p.Pager.Prev = "/builds?" + base.Encode()
	}
	for _, rec := range recs {
		p.Rows = append(p.Rows, rowOf(rec))
	}
	return "builds", p, nil
}

// driftPage shows what each environment runs and which tags moved.
type driftPage struct {
	Environments []string
	Rows         []driftRow
	Drifts       []index.Drift
}

func (driftPage) title() string { return "Environments and drift" }

// driftRow is one repository: what each environment runs of it.
type driftRow struct {
	Repository string
	Cells      []driftCell
	Differs    bool
}

type driftCell struct {
	Link *link
	Name string
	Time time.Time
}

func (h *Handler) drift(r *http.Request) (string, any, error) {
	deps, err := h.ix.Deployments(r.Context())
	if err != nil {
		return "", nil, err
	}
	p := driftPage{}
	for _, d := range deps {
		p.Environments = append(p.Environments, d.Environment)
	}
	slices.Sort(p.Environments)
	p.Environments = slices.Compact(p.Environments)
	col := map[string]int{}
	for i, e := range p.Environments {
		col[e] = i
	}
	for _, d := range deps {
		if n := len(p.Rows); n == 0 || p.Rows[n-1].Repository != d.Repository {
			p.Rows = append(p.Rows, driftRow{Repository: d.Repository, Cells: make([]driftCell, len(p.Environments))})
		}
		row := &p.Rows[len(p.Rows)-1]
		s := d.Event.Event.Subject
		row.Cells[col[d.Environment]] = driftCell{Link: &link{Href: artifactHref(s), Text: shortDigest(s), Title: s.String()},
			Name: d.Event.Event.SubjectName, Time: d.Event.Event.Time}
	}
	for i := range p.Rows {
		var seen digest.Digest
		for _, c := range p.Rows[i].Cells {
			if c.Link == nil {
				continue
			}
			if seen != "" && digest.Digest(c.Link.Title) != seen {
				p.Rows[i].Differs = true
			}
			seen = digest.Digest(c.Link.Title)
		}
	}
	if p.Drifts, err = h.ix.Drifts(r.Context()); err != nil {
		return "", nil, err
	}
	return "drift", p, nil
}

// searchPage is a search form and its results.
type searchPage struct {
	Commit, Repository, Material, Param, Signer, Subject string
	Asked                                                bool
	Results                                              []searchRow
	Pager                                                pager
}

func (searchPage) title() string { return "Search" }

// searchRow is one artifact found, with the statement that named it.
type searchRow struct {
	Artifact link
	Digest   digest.Digest
	Name     string
	Step     buildRow
}

func (h *Handler) search(r *http.Request) (string, any, error) {
	p := searchPage{}
	fields := []struct {
		name string
		dst  *string
	}{{"commit", &p.Commit}, {"repo", &p.Repository}, {"material", &p.Material}, {"param", &p.Param}, {"signer", &p.Signer}, {"subject", &p.Subject}}
	base := url.Values{}
	for _, f := range fields {
		v, err := value(r, f.name)
		if err != nil {
			return "", nil, err
		}
		*f.dst = v
		if v != "" {
			base.Set(f.name, v)
			p.Asked = true
		}
	}
	page, err := pageNumber(r)
	if err != nil {
		return "", nil, err
	}
	if !p.Asked {
		return "search", p, nil
	}
	// A signer may be given as the pages show it: "key:ID" for a key.
	q := index.Query{SourceCommit: p.Commit, SourceRepository: p.Repository, Material: digest.Digest(p.Material),
		Signer: strings.TrimPrefix(p.Signer, "key:"), Subject: digest.Digest(p.Subject)}
	if p.Param != "" {
		ptr, val, ok := strings.Cut(p.Param, "=")
		if !ok {
			return "", nil, &RequestError{Param: "param", Reason: "a parameter as JSON-POINTER=VALUE, such as /parameters/seed=42"}
		}
		q.Parameters = map[string]string{ptr: val}
	}
	found, err := h.ix.Find(r.Context(), q)
	if err != nil {
		return "", nil, err
	}
	p.Pager = newPager(base, "/search", page, len(found))
	start := min((page-1)*PageSize, len(found))
	found = found[start:min(start+PageSize, len(found))]
	ids := make([]digest.Digest, len(found))
	for i, a := range found {
		ids[i] = a.Statement
	}
	recs, err := h.ix.Records(r.Context(), ids...)
	if err != nil {
		return "", nil, err
	}
	byID := map[digest.Digest]index.Record{}
	for _, rec := range recs {
		byID[rec.ID] = rec
	}
	for _, a := range found {
		p.Results = append(p.Results, searchRow{Artifact: artifactLink(a), Digest: a.Digest, Name: a.Name, Step: rowOf(byID[a.Statement])})
	}
	return "search", p, nil
}
