package vuln

import "strings"

// readGrype reads grype's JSON document: matches[] of vulnerability, relatedVulnerabilities
// and artifact, and the descriptor naming grype, its version, its database and the time.
func readGrype(top node) (*Report, error) {
	d, err := top.key("descriptor").object("an object naming the scanner (grype's descriptor)")
	if err != nil {
		return nil, err
	}
	r := &Report{}
	if r.Scanner.Name, err = d.key("name").str("the scanner's name"); err != nil {
		return nil, err
	}
	if r.Scanner.Version, err = d.key("version").optStr("the scanner's version"); err != nil {
		return nil, err
	}
	if r.FinishedOn, err = d.key("timestamp").optTime(); err != nil {
		return nil, err
	}
	if r.Scanner.DB, err = grypeDB(d.key("db")); err != nil {
		return nil, err
	}
	matches, err := top.key("matches").list("a list of matches")
	if err != nil {
		return nil, err
	}
	for _, m := range matches {
		f, err := grypeMatch(m)
		if err != nil {
			return nil, err
		}
		r.Findings = append(r.Findings, f)
	}
	return r, nil
}

func grypeMatch(m node) (Finding, error) {
	var f Finding
	if _, err := m.object("a match"); err != nil {
		return f, err
	}
	v, err := m.key("vulnerability").object("the matched vulnerability")
	if err != nil {
		return f, err
	}
	if f.ID, err = v.key("id").str("a vulnerability id"); err != nil {
		return f, err
	}
	if f.Score, err = v.key("severity").optStr("a severity label"); err != nil {
		return f, err
	}
	namespace, err := v.key("namespace").optStr("the vulnerability's namespace")
	if err != nil {
		return f, err
	}
	f.Severity = ParseSeverity(f.Score)
	if f.Score != "" {
		f.Method = namespace
		if f.Method == "" {
			f.Method = "grype"
		}
	}
	fix, _, err := v.key("fix").optObject("the fix")
	if err != nil {
		return f, err
	}
	fixed, err := fix.key("versions").optStrings("versions")
	if err != nil {
		return f, err
	}
	f.FixedIn = strings.Join(fixed, ", ")
	related, err := m.key("relatedVulnerabilities").optList("a list of related vulnerabilities")
	if err != nil {
		return f, err
	}
	var aliases []string
	for _, rv := range related {
		if _, err := rv.object("a related vulnerability"); err != nil {
			return f, err
		}
		id, err := rv.key("id").str("a vulnerability id")
		if err != nil {
			return f, err
		}
		aliases = append(aliases, id)
	}
	f.Aliases = dedupe(aliases, f.ID)
	a, err := m.key("artifact").object("the matched package (artifact)")
	if err != nil {
		return f, err
	}
	if f.Package, err = a.key("name").str("the package's name"); err != nil {
		return f, err
	}
	if f.Version, err = a.key("version").optStr("the package's version"); err != nil {
		return f, err
	}
	if f.PURL, err = a.key("purl").optStr("a package URL"); err != nil {
		return f, err
	}
	return f, nil
}

// grypeDB reads descriptor.db: since grype's database schema v6, a status object (schemaVersion,
// from, built, valid); before it, the same facts at the top (schemaVersion a number, built,
// location a local path). A database grype itself says is not valid fails the report.
func grypeDB(db node) (Database, error) {
	var out Database
	db, ok, err := db.optObject("an object describing the vulnerability database")
	if err != nil || !ok {
		return out, err
	}
	if st, ok, err := db.key("status").optObject("the database's status"); err != nil {
		return out, err
	} else if ok {
		db = st
	}
	switch v := db.key("schemaVersion"); v.v.(type) {
	case nil:
	case string:
		out.Version, _ = v.optStr("")
	default:
		n, _, err := v.optNumber("the database's schema version")
		if err != nil {
			return out, err
		}
		out.Version = n.String()
	}
	if out.URI, err = db.key("from").optStr("the database's source URL"); err != nil {
		return out, err
	}
	if out.Updated, err = db.key("built").optTime(); err != nil {
		return out, err
	}
	valid, given, err := db.key("valid").optBool("a boolean")
	if err != nil {
		return out, err
	}
	problem, err := db.key("error").optStr("an error message")
	if err != nil {
		return out, err
	}
	if given && !valid || problem != "" {
		reason := "grype reports its vulnerability database is not valid"
		if problem != "" {
			reason += ": " + problem
		}
		return out, db.malformed("%s", reason)
	}
	return out, nil
}
