package vuln

// readOSV reads OSV-Scanner's JSON output: results[] of packages[], each with the OSV entries
// of its vulnerabilities and the groups OSV-Scanner made of those that are aliases of each
// other. A group is one finding; a vulnerability in no group is one of its own. OSV-Scanner
// records neither its version nor the time.
func readOSV(top node) (*Report, error) {
	r := &Report{Scanner: Scanner{Name: "osv-scanner"}}
	results, err := top.key("results").list("a list of results")
	if err != nil {
		return nil, err
	}
	for _, res := range results {
		if _, err := res.object("a result"); err != nil {
			return nil, err
		}
		pkgs, err := res.key("packages").optList("a list of packages")
		if err != nil {
			return nil, err
		}
		for _, p := range pkgs {
			fs, err := osvPackage(p)
			if err != nil {
				return nil, err
			}
			r.Findings = append(r.Findings, fs...)
		}
	}
	return r, nil
}

// osvVuln is what one OSV entry says.
type osvVuln struct {
	id      string
	aliases []string
	label   string // database_specific.severity, or an Ubuntu severity
	method  string
	grouped bool
}

func osvPackage(p node) ([]Finding, error) {
	if _, err := p.object("a package and its vulnerabilities"); err != nil {
		return nil, err
	}
	pkg, err := p.key("package").object("the package")
	if err != nil {
		return nil, err
	}
	name, err := pkg.key("name").str("the package's name")
	if err != nil {
		return nil, err
	}
	version, err := pkg.key("version").optStr("the package's version")
	if err != nil {
		return nil, err
	}
	if _, err := pkg.key("ecosystem").optStr("the package's ecosystem"); err != nil {
		return nil, err
	}
	entries, err := p.key("vulnerabilities").optList("a list of vulnerabilities")
	if err != nil {
		return nil, err
	}
	var vulns []*osvVuln
	byID := map[string]*osvVuln{}
	for _, e := range entries {
		v, err := osvEntry(e)
		if err != nil {
			return nil, err
		}
		vulns = append(vulns, v)
		if _, dup := byID[v.id]; !dup {
			byID[v.id] = v
		}
	}
	groups, err := p.key("groups").optList("a list of groups")
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, g := range groups {
		if _, err := g.object("a group"); err != nil {
			return nil, err
		}
		ids, err := g.key("ids").optStrings("vulnerability ids")
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return nil, g.key("ids").malformed("no id: a group is of one or more vulnerabilities")
		}
		aliases, err := g.key("aliases").optStrings("vulnerability ids")
		if err != nil {
			return nil, err
		}
		maxSeverity, err := g.key("max_severity").optStr("a CVSS base score, as a string")
		if err != nil {
			return nil, err
		}
		if _, ok := parseScore(maxSeverity); maxSeverity != "" && !ok {
			return nil, g.key("max_severity").malformed("%q is not a CVSS base score (0 to 10)", maxSeverity)
		}
		f := Finding{ID: ids[0], Package: name, Version: version}
		all := append(append([]string{}, ids[1:]...), aliases...)
		var members []*osvVuln
		for _, id := range ids {
			if v := byID[id]; v != nil {
				v.grouped = true
				members = append(members, v)
				all = append(all, v.aliases...)
			}
		}
		f.Aliases = dedupe(all, f.ID)
		if maxSeverity != "" {
			f.Score, f.Method = maxSeverity, "cvss_score"
		} else {
			f.Score, f.Method = osvLabel(members)
		}
		f.Severity = ParseSeverity(f.Score)
		out = append(out, f)
	}
	for _, v := range vulns {
		if v.grouped {
			continue
		}
		v.grouped = true // a repeated entry is one finding
		f := Finding{ID: v.id, Aliases: dedupe(v.aliases, v.id), Package: name, Version: version}
		f.Score, f.Method = osvLabel([]*osvVuln{v})
		f.Severity = ParseSeverity(f.Score)
		out = append(out, f)
	}
	return out, nil
}

// osvEntry reads the fields of an OSV entry that say which vulnerability it is and how severe:
// id, aliases, database_specific.severity (GitHub's advisories write "MODERATE" and the like
// there) and severity[] (a CVSS vector, which is not scored here, or an Ubuntu rating).
func osvEntry(e node) (*osvVuln, error) {
	if _, err := e.object("an OSV entry"); err != nil {
		return nil, err
	}
	v := &osvVuln{}
	var err error
	if v.id, err = e.key("id").str("a vulnerability id"); err != nil {
		return nil, err
	}
	if v.aliases, err = e.key("aliases").optStrings("vulnerability ids"); err != nil {
		return nil, err
	}
	ds, _, err := e.key("database_specific").optObject("an object")
	if err != nil {
		return nil, err
	}
	label, err := ds.key("severity").optStr("a severity label")
	if err != nil {
		return nil, err
	}
	if ParseSeverity(label) != SeverityUnknown {
		v.label, v.method = label, "database_specific.severity"
	}
	sevs, err := e.key("severity").optList("a list of severities")
	if err != nil {
		return nil, err
	}
	for _, s := range sevs {
		if _, err := s.object("a severity"); err != nil {
			return nil, err
		}
		typ, err := s.key("type").optStr("a severity type")
		if err != nil {
			return nil, err
		}
		score, err := s.key("score").str("a severity score")
		if err != nil {
			return nil, err
		}
		if typ == "Ubuntu" && v.label == "" && ParseSeverity(score) != SeverityUnknown {
			v.label, v.method = score, "Ubuntu"
		}
	}
	return v, nil
}

// osvLabel returns the worst readable label of vulns and where it comes from, or "" and "".
func osvLabel(vulns []*osvVuln) (label, method string) {
	best := SeverityUnknown
	for _, v := range vulns {
		if v.label == "" {
			continue
		}
		if s := ParseSeverity(v.label); label == "" || s > best {
			label, method, best = v.label, v.method, s
		}
	}
	return label, method
}
