package vuln

import (
	"regexp"
	"strings"
)

// sarifLevels maps a SARIF result level to a severity: error is high, warning medium, note
// low and none none. A level is a coarse rating; a security-severity score takes precedence.
var sarifLevels = map[string]Severity{"error": SeverityHigh, "warning": SeverityMedium, "note": SeverityLow, "none": SeverityNone}

// sarifNotFindings are the result kinds that report no problem. Every other kind ("fail", the
// default, "open" and "review") counts: a result the tool could not decide is not a pass.
var sarifNotFindings = map[string]bool{"pass": true, "notApplicable": true, "informational": true}

// grypeRuleID is grype's SARIF rule id, the vulnerability id and the package name joined by a
// hyphen.
var grypeRuleID = regexp.MustCompile(`^(CVE-[0-9]{4}-[0-9]{4,}|GHSA(?:-[0-9a-z]{4}){3})-(.+)$`)

// sarifRule is what a result's rule says about it.
type sarifRule struct {
	securitySeverity string
	level            string
}

// readSARIF reads a SARIF 2.1.0 log: each run's tool driver (the scanner), its invocations
// (times, and whether the scan succeeded), its rules and their security-severity, and its
// results.
func readSARIF(top node) (*Report, error) {
	version, err := top.key("version").str("the SARIF version")
	if err != nil {
		return nil, err
	}
	if version != "2.1.0" {
		return nil, top.key("version").malformed("SARIF %s; only 2.1.0 is read", version)
	}
	runs, err := top.key("runs").list("a list of runs")
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, top.key("runs").malformed("no run: the log says nothing was scanned")
	}
	r := &Report{}
	for i, run := range runs {
		if _, err := run.object("a run"); err != nil {
			return nil, err
		}
		driver, err := run.key("tool").key("driver").object("the tool's driver")
		if err != nil {
			return nil, err
		}
		name, err := driver.key("name").str("the tool's name")
		if err != nil {
			return nil, err
		}
		if i == 0 {
			r.Scanner.Name = name
		} else if name != r.Scanner.Name {
			return nil, driver.key("name").malformed("runs of two tools (%s and %s): give one tool's log", r.Scanner.Name, name)
		}
		version, err := driver.key("version").optStr("the tool's version")
		if err != nil {
			return nil, err
		}
		semver, err := driver.key("semanticVersion").optStr("the tool's semantic version")
		if err != nil {
			return nil, err
		}
		if version == "" {
			version = semver
		}
		info, err := driver.key("informationUri").optStr("the tool's information URI")
		if err != nil {
			return nil, err
		}
		if i == 0 {
			r.Scanner.Version = version
			if knownScannerURI(name) == "" && isAbsoluteURI(info) {
				r.Scanner.URI = info
			}
		}
		if err := sarifInvocations(run.key("invocations"), r); err != nil {
			return nil, err
		}
		rules, byIndex, err := sarifRules(run.key("tool"))
		if err != nil {
			return nil, err
		}
		results, err := run.key("results").list("a list of results (SARIF leaves it out only when the tool did not run to the end)")
		if err != nil {
			return nil, err
		}
		for _, res := range results {
			f, skip, err := sarifResult(res, name, rules, byIndex)
			if err != nil {
				return nil, err
			}
			if !skip {
				r.Findings = append(r.Findings, f)
			}
		}
	}
	return r, nil
}

// sarifInvocations reads when each invocation started and ended into r (the earliest start,
// the latest end) and fails the report when one did not succeed.
func sarifInvocations(n node, r *Report) error {
	invs, err := n.optList("a list of invocations")
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if _, err := inv.object("an invocation"); err != nil {
			return err
		}
		ok, given, err := inv.key("executionSuccessful").optBool("a boolean")
		if err != nil {
			return err
		}
		if !given {
			return inv.key("executionSuccessful").malformed("missing; SARIF requires it of an invocation")
		}
		if !ok {
			return inv.key("executionSuccessful").malformed("false: the scan did not succeed")
		}
		start, err := inv.key("startTimeUtc").optTime()
		if err != nil {
			return err
		}
		end, err := inv.key("endTimeUtc").optTime()
		if err != nil {
			return err
		}
		if !start.IsZero() && (r.StartedOn.IsZero() || start.Before(r.StartedOn)) {
			r.StartedOn = start
		}
		if end.After(r.FinishedOn) {
			r.FinishedOn = end
		}
	}
	return nil
}

// sarifRules reads the rules of the tool's driver and of its extensions (CodeQL keeps its
// queries' rules in extensions), by id, and the driver's by index.
func sarifRules(tool node) (map[string]sarifRule, []string, error) {
	byID := map[string]sarifRule{}
	var byIndex []string
	components := []node{tool.key("driver")}
	exts, err := tool.key("extensions").optList("a list of tool extensions")
	if err != nil {
		return nil, nil, err
	}
	components = append(components, exts...)
	for c, comp := range components {
		if _, err := comp.object("a tool component"); err != nil {
			return nil, nil, err
		}
		rules, err := comp.key("rules").optList("a list of rules")
		if err != nil {
			return nil, nil, err
		}
		for _, rule := range rules {
			if _, err := rule.object("a rule"); err != nil {
				return nil, nil, err
			}
			id, err := rule.key("id").str("a rule id")
			if err != nil {
				return nil, nil, err
			}
			var sr sarifRule
			if sr.securitySeverity, err = securitySeverity(rule.key("properties")); err != nil {
				return nil, nil, err
			}
			cfg, _, err := rule.key("defaultConfiguration").optObject("the rule's default configuration")
			if err != nil {
				return nil, nil, err
			}
			if sr.level, err = sarifLevel(cfg.key("level")); err != nil {
				return nil, nil, err
			}
			if _, dup := byID[id]; !dup {
				byID[id] = sr
			}
			if c == 0 {
				byIndex = append(byIndex, id)
			}
		}
	}
	return byID, byIndex, nil
}

// securitySeverity reads properties["security-severity"], the score GitHub code scanning
// reads: a string holding a number from 0 to 10.
func securitySeverity(props node) (string, error) {
	props, _, err := props.optObject("a property bag")
	if err != nil {
		return "", err
	}
	n := props.key("security-severity")
	s, err := n.optStr("a score from 0 to 10, as a string")
	if err != nil || s == "" {
		return "", err
	}
	if _, ok := parseScore(s); !ok {
		return "", n.malformed("%q is not a score from 0 to 10", s)
	}
	return s, nil
}

func sarifLevel(n node) (string, error) {
	level, err := n.optStr("a result level")
	if err != nil || level == "" {
		return "", err
	}
	if _, ok := sarifLevels[level]; !ok {
		return "", n.malformed("%q is not a level (none, note, warning, error)", level)
	}
	return level, nil
}

// sarifResult reads one result; skip is true for a result that reports no problem.
func sarifResult(res node, tool string, rules map[string]sarifRule, byIndex []string) (f Finding, skip bool, err error) {
	if _, err := res.object("a result"); err != nil {
		return f, false, err
	}
	kind, err := res.key("kind").optStr("a result kind")
	if err != nil {
		return f, false, err
	}
	if sarifNotFindings[kind] {
		return f, true, nil
	}
	if f.ID, err = sarifRuleID(res, byIndex); err != nil {
		return f, false, err
	}
	rule := rules[f.ID]
	level, err := sarifLevel(res.key("level"))
	if err != nil {
		return f, false, err
	}
	score, err := securitySeverity(res.key("properties"))
	if err != nil {
		return f, false, err
	}
	switch {
	case score != "":
		f.Score, f.Method = score, "security-severity"
	case rule.securitySeverity != "":
		f.Score, f.Method = rule.securitySeverity, "security-severity"
	default:
		if level == "" {
			level = rule.level
		}
		if level == "" {
			level = "warning" // SARIF's default level
		}
		f.Score, f.Method = sarifLevels[level].String(), "sarif-level"
	}
	f.Severity = ParseSeverity(f.Score)
	if strings.EqualFold(tool, "grype") {
		if m := grypeRuleID.FindStringSubmatch(f.ID); m != nil {
			f.ID, f.Package = m[1], m[2]
		}
	}
	return f, false, nil
}

// sarifRuleID returns the id of the result's rule: ruleId, else rule.id, else the id of the
// driver's rule at ruleIndex (or rule.index).
func sarifRuleID(res node, byIndex []string) (string, error) {
	id, err := res.key("ruleId").optStr("a rule id")
	if err != nil || id != "" {
		return id, err
	}
	ref, _, err := res.key("rule").optObject("a rule reference")
	if err != nil {
		return "", err
	}
	if id, err = ref.key("id").optStr("a rule id"); err != nil || id != "" {
		return id, err
	}
	idx := res.key("ruleIndex")
	if ref.has("index") {
		idx = ref.key("index")
		if ref.has("toolComponent") {
			return "", ref.key("toolComponent").malformed("a rule named by index into a tool extension, with no id, is not read")
		}
	}
	n, given, err := idx.optNumber("a rule index")
	if err != nil {
		return "", err
	}
	if !given {
		return "", res.key("ruleId").malformed("missing, as are rule and ruleIndex: the result names no rule")
	}
	i, err := n.Int64()
	if err != nil || i < 0 || i >= int64(len(byIndex)) {
		return "", idx.malformed("%s is not the index of one of the driver's %d rules", n, len(byIndex))
	}
	return byIndex[i], nil
}

// isAbsoluteURI says whether s is a URI with a scheme, such as https://github.com/acme/tool.
func isAbsoluteURI(s string) bool {
	scheme, rest, ok := strings.Cut(s, ":")
	return ok && rest != "" && scheme != "" && !strings.ContainsAny(scheme, "/ ") && !strings.ContainsAny(s, " \t\n")
}
