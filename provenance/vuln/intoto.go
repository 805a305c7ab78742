package vuln

import (
	"fmt"

	"github.com/provkit/provkit/provenance"
)

// readInToto reads an in-toto statement of predicate type vulns v0.2, or the bare predicate.
// The statement's subject is not read: a Report is bound to its subject by Statement.
func readInToto(top node) (*Report, error) {
	if !top.has("_type") && !top.has("predicateType") {
		return readVulnsV02(top)
	}
	typ, err := top.key("_type").str("the statement type")
	if err != nil {
		return nil, err
	}
	if typ != provenance.StatementTypeV1 && typ != provenance.StatementTypeV01 {
		return nil, &FormatError{Format: FormatInToto, Path: "_type", Reason: fmt.Sprintf("%q is not an in-toto statement type", typ), Err: ErrUnknownFormat}
	}
	pt, err := top.key("predicateType").str("a predicate type")
	if err != nil {
		return nil, err
	}
	if pt != provenance.PredicateVulnsV02 {
		return nil, &FormatError{Format: FormatInToto, Path: "predicateType", Reason: fmt.Sprintf("%q, not %s", pt, provenance.PredicateVulnsV02), Err: ErrUnknownFormat}
	}
	p, err := top.key("predicate").object("the vulns v0.2 predicate")
	if err != nil {
		return nil, err
	}
	return readVulnsV02(p)
}

// readVulnsV02 reads the predicate: scanner{uri, version, db{uri, version, lastUpdate},
// result[{id, severity[{method, score}], annotations}]} and metadata{scanStartedOn,
// scanFinishedOn}. A scanner with no result list found nothing, as the policy package reads it.
func readVulnsV02(p node) (*Report, error) {
	if _, err := p.object("the vulns v0.2 predicate"); err != nil {
		return nil, err
	}
	s, err := p.key("scanner").object("the scanner")
	if err != nil {
		return nil, err
	}
	r := &Report{}
	if r.Scanner.URI, err = s.key("uri").str("the scanner's URI"); err != nil {
		return nil, err
	}
	r.Scanner.Name = nameFromURI(r.Scanner.URI)
	if r.Scanner.Version, err = s.key("version").optStr("the scanner's version"); err != nil {
		return nil, err
	}
	db, _, err := s.key("db").optObject("the vulnerability database")
	if err != nil {
		return nil, err
	}
	if r.Scanner.DB.URI, err = db.key("uri").optStr("the database's URI"); err != nil {
		return nil, err
	}
	if r.Scanner.DB.Version, err = db.key("version").optStr("the database's version"); err != nil {
		return nil, err
	}
	if r.Scanner.DB.Updated, err = db.key("lastUpdate").optTime(); err != nil {
		return nil, err
	}
	meta, _, err := p.key("metadata").optObject("the scan's metadata")
	if err != nil {
		return nil, err
	}
	if r.StartedOn, err = meta.key("scanStartedOn").optTime(); err != nil {
		return nil, err
	}
	if r.FinishedOn, err = meta.key("scanFinishedOn").optTime(); err != nil {
		return nil, err
	}
	results, err := s.key("result").optList("a list of results")
	if err != nil {
		return nil, err
	}
	for _, res := range results {
		f, err := vulnsV02Result(res)
		if err != nil {
			return nil, err
		}
		r.Findings = append(r.Findings, f)
	}
	return r, nil
}

func vulnsV02Result(res node) (Finding, error) {
	var f Finding
	if _, err := res.object("a result"); err != nil {
		return f, err
	}
	var err error
	if f.ID, err = res.key("id").str("a vulnerability id"); err != nil {
		return f, err
	}
	sevs, err := res.key("severity").optList("a list of severities")
	if err != nil {
		return f, err
	}
	// Of several scores, keep the one the policy package's rule decides by: an unknown one,
	// else the highest.
	chosen := -1
	for i, sv := range sevs {
		if _, err := sv.object("a severity"); err != nil {
			return f, err
		}
		method, err := sv.key("method").optStr("a method")
		if err != nil {
			return f, err
		}
		score, err := sv.key("score").optStr("a score")
		if err != nil {
			return f, err
		}
		if chosen < 0 || worse(ParseSeverity(score), f.Severity) {
			chosen, f.Score, f.Method, f.Severity = i, score, method, ParseSeverity(score)
		}
	}
	switch {
	case f.Score == "":
		f.Method = ""
	case f.Method == "":
		f.Method = "unspecified"
	}
	anns, err := res.key("annotations").optList("a list of annotations")
	if err != nil {
		return f, err
	}
	for _, a := range anns {
		if _, err := a.object("an annotation object"); err != nil {
			return f, err
		}
		aliases, err := a.key(annotationAliases).optStrings("vulnerability ids")
		if err != nil {
			return f, err
		}
		f.Aliases = append(f.Aliases, aliases...)
		for _, field := range []struct {
			key string
			dst *string
		}{{annotationPackage, &f.Package}, {annotationVersion, &f.Version}, {annotationFixedIn, &f.FixedIn}, {annotationPURL, &f.PURL}} {
			v, err := a.key(field.key).optStr("a string")
			if err != nil {
				return f, err
			}
			if v != "" {
				*field.dst = v
			}
		}
	}
	f.Aliases = dedupe(f.Aliases, f.ID)
	return f, nil
}
