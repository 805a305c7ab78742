package vuln

// readTrivy reads Trivy's JSON report: SchemaVersion 2, the Trivy version, CreatedAt, and the
// Vulnerabilities of each of the Results. Misconfigurations, secrets and licenses are not
// vulnerabilities and are not read.
func readTrivy(top node) (*Report, error) {
	schema, _, err := top.key("SchemaVersion").optNumber("a schema version number")
	if err != nil {
		return nil, err
	}
	if schema.String() != "2" {
		return nil, top.key("SchemaVersion").malformed("schema version %s; only 2 is read", schema)
	}
	r := &Report{Scanner: Scanner{Name: "trivy"}}
	info, _, err := top.key("Trivy").optObject("an object describing Trivy")
	if err != nil {
		return nil, err
	}
	if r.Scanner.Version, err = info.key("Version").optStr("Trivy's version"); err != nil {
		return nil, err
	}
	if r.FinishedOn, err = top.key("CreatedAt").optTime(); err != nil {
		return nil, err
	}
	results, err := top.key("Results").optList("a list of results")
	if err != nil {
		return nil, err
	}
	packageResults := false
	for _, res := range results {
		if _, err := res.object("a result"); err != nil {
			return nil, err
		}
		class, err := res.key("Class").optStr("a result class")
		if err != nil {
			return nil, err
		}
		// Results of no class are of a Trivy from before classes, which scanned packages.
		packageResults = packageResults || class == "" || class == "os-pkgs" || class == "lang-pkgs" || res.has("Vulnerabilities")
		vulns, err := res.key("Vulnerabilities").optList("a list of vulnerabilities")
		if err != nil {
			return nil, err
		}
		for _, v := range vulns {
			f, err := trivyVulnerability(v)
			if err != nil {
				return nil, err
			}
			r.Findings = append(r.Findings, f)
		}
	}
	if len(results) > 0 && !packageResults {
		// trivy --scanners misconfig,secret: Trivy looked at files, not for vulnerabilities.
		return nil, top.key("Results").malformed("results of misconfigurations, secrets or licenses only: Trivy did not scan packages for vulnerabilities (--scanners vuln)")
	}
	return r, nil
}

func trivyVulnerability(v node) (Finding, error) {
	var f Finding
	if _, err := v.object("a vulnerability"); err != nil {
		return f, err
	}
	var err error
	if f.ID, err = v.key("VulnerabilityID").str("a vulnerability id"); err != nil {
		return f, err
	}
	vendorIDs, err := v.key("VendorIDs").optStrings("vendor advisory ids")
	if err != nil {
		return f, err
	}
	f.Aliases = dedupe(vendorIDs, f.ID)
	if f.Package, err = v.key("PkgName").str("the package's name"); err != nil {
		return f, err
	}
	if f.Version, err = v.key("InstalledVersion").optStr("the installed version"); err != nil {
		return f, err
	}
	if f.FixedIn, err = v.key("FixedVersion").optStr("the fixed version"); err != nil {
		return f, err
	}
	ident, _, err := v.key("PkgIdentifier").optObject("the package's identifiers")
	if err != nil {
		return f, err
	}
	if f.PURL, err = ident.key("PURL").optStr("a package URL"); err != nil {
		return f, err
	}
	label, err := v.key("Severity").optStr("a severity label")
	if err != nil {
		return f, err
	}
	source, err := v.key("SeveritySource").optStr("the severity's source")
	if err != nil {
		return f, err
	}
	score, err := trivyCVSS(v.key("CVSS"), source)
	if err != nil {
		return f, err
	}
	switch {
	case ParseSeverity(label) != SeverityUnknown || (label != "" && score == ""):
		f.Score, f.Method = label, source
		if f.Method == "" {
			f.Method = "trivy"
		}
	case score != "":
		// Trivy rates it UNKNOWN, or not at all, yet holds a CVSS base score for it.
		f.Score, f.Method = score, "cvss_score"
	}
	f.Severity = ParseSeverity(f.Score)
	return f, nil
}

// trivyCVSS reads the CVSS object (vendor -> V2Score, V3Score, V40Score and vectors) and
// returns the base score of the severity's source, else the highest any vendor gives, or "".
func trivyCVSS(c node, source string) (string, error) {
	c, ok, err := c.optObject("an object of CVSS scores by vendor")
	if err != nil || !ok {
		return "", err
	}
	vendors := c.v.(map[string]any)
	best, bestText := -1.0, ""
	var fromSource string
	for _, name := range sortedKeys(vendors) {
		vc, err := c.key(name).object("a vendor's CVSS scores")
		if err != nil {
			return "", err
		}
		for _, k := range []string{"V2Vector", "V3Vector", "V40Vector"} {
			if _, err := vc.key(k).optStr("a CVSS vector"); err != nil {
				return "", err
			}
		}
		// The newest version of CVSS a vendor scored in speaks for it.
		for _, k := range []string{"V40Score", "V3Score", "V2Score"} {
			n, given, err := vc.key(k).optNumber("a CVSS base score")
			if err != nil {
				return "", err
			}
			if !given {
				continue
			}
			s, ok := parseScore(n.String())
			if !ok {
				return "", vc.key(k).malformed("%s is not a CVSS base score (0 to 10)", n)
			}
			if s == 0 {
				continue // Trivy writes 0 for a version the vendor did not score
			}
			if name == source {
				fromSource = n.String()
			}
			if s > best {
				best, bestText = s, n.String()
			}
			break
		}
	}
	if fromSource != "" {
		return fromSource, nil
	}
	return bestText, nil
}
