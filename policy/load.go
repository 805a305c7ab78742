package policy

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance"
)

// Document identification.
const (
	// APIVersionV1 is the apiVersion of the policy documents this package reads.
	APIVersionV1 = "provkit.dev/policy/v1"
	// KindPolicy is the kind of a policy document.
	KindPolicy = "Policy"
	// MaxPolicyBytes caps the size of a policy document.
	MaxPolicyBytes = 1 << 20
)

// Load reads a policy document in YAML or JSON (JSON is read as the YAML subset it is) from r,
// validates it strictly and compiles it: regular expressions, version ranges and CEL
// expressions are compiled and type-checked here, once.
//
// Unknown fields, duplicate keys, anchors and aliases, values of the wrong type or out of
// range, unknown rule names in environments and expressions that do not compile are errors: a
// *LoadError (wrapping ErrInvalidPolicy) with the line, column and field. An apiVersion or
// kind other than APIVersionV1 and KindPolicy wraps ErrUnsupportedVersion as well. A document
// over MaxPolicyBytes is refused with a *provenance.SizeError inside the LoadError, and one
// nesting deeper than MaxPolicyDepth with ErrPolicyTooDeep, both before parsing.
func Load(r io.Reader) (*Policy, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPolicyBytes+1))
	if err != nil {
		return nil, &LoadError{Msg: "reading: " + err.Error(), Err: err}
	}
	if len(data) > MaxPolicyBytes {
		se := &provenance.SizeError{What: "policy document", Limit: MaxPolicyBytes, Size: -1}
		return nil, &LoadError{Msg: se.Error(), Err: se}
	}
	if err := checkDepth(data); err != nil {
		return nil, err
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(err, nil)
	}
	if len(file.Docs) != 1 || file.Docs[0].Body == nil {
		return nil, &LoadError{Line: 1, Msg: fmt.Sprintf("want exactly one document, found %d", len(nonEmptyDocs(file)))}
	}
	if err := rejectAliases(file); err != nil {
		return nil, err
	}
	var doc document
	if err := yaml.NodeToValue(file.Docs[0].Body, &doc, yaml.Strict()); err != nil {
		return nil, yamlError(err, file)
	}
	c := &compiler{file: file}
	p := c.compile(&doc)
	if c.err != nil {
		return nil, c.err
	}
	p.digest = digest.NewDigestFromEncoded(digest.SHA256, fmt.Sprintf("%x", sha256.Sum256(data)))
	return p, nil
}

func nonEmptyDocs(f *ast.File) []*ast.DocumentNode {
	var out []*ast.DocumentNode
	for _, d := range f.Docs {
		if d.Body != nil {
			out = append(out, d)
		}
	}
	return out
}

// aliasFinder stops at the first anchor or alias: they make small documents expand into large
// ones, and a policy has no need of them.
type aliasFinder struct{ found ast.Node }

func (a *aliasFinder) Visit(n ast.Node) ast.Visitor {
	if a.found != nil {
		return nil
	}
	switch n.(type) {
	case *ast.AnchorNode, *ast.AliasNode:
		a.found = n
		return nil
	}
	return a
}

func rejectAliases(f *ast.File) error {
	a := &aliasFinder{}
	for _, d := range f.Docs {
		ast.Walk(a, d)
	}
	if a.found != nil {
		tk := a.found.GetToken()
		return &LoadError{Line: tk.Position.Line, Column: tk.Position.Column, Msg: "anchors and aliases are not allowed"}
	}
	return nil
}

// yamlError turns a goccy/go-yaml error into a LoadError with its position and, when file is
// known, the path of the field.
func yamlError(err error, file *ast.File) error {
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return &LoadError{Msg: err.Error(), Err: err}
	}
	le := &LoadError{Msg: ye.GetMessage(), Err: err}
	tk := ye.GetToken()
	if tk != nil {
		le.Line, le.Column = tk.Position.Line, tk.Position.Column
		if file != nil {
			for _, d := range file.Docs {
				if path, ok := pathOf(d.Body, tk, ""); ok {
					le.Field = strings.TrimPrefix(path, ".")
					break
				}
			}
		}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && tk != nil {
		le.Msg = fmt.Sprintf("%q is not %s", tk.Value, kindName(te.DstType))
	}
	return le
}

func same(a, b *token.Token) bool {
	return a == b || (a != nil && b != nil && a.Position.Line == b.Position.Line && a.Position.Column == b.Position.Column)
}

func kindName(t reflect.Type) string {
	if t == nil {
		return "of the right type"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Uint64, reflect.Int32, reflect.Uint32, reflect.Uint:
		return "an integer"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Pointer:
		return kindName(t.Elem())
	}
	return "of the right type"
}

// pathOf finds the node holding tk below n and returns its path ("rules[0].signers.threshold").
func pathOf(n ast.Node, tk *token.Token, path string) (string, bool) {
	if n == nil {
		return "", false
	}
	if same(n.GetToken(), tk) {
		return path, true
	}
	switch x := n.(type) {
	case *ast.MappingNode:
		for _, v := range x.Values {
			if p, ok := pathOf(v, tk, path); ok {
				return p, true
			}
		}
	case *ast.MappingValueNode:
		key := path + "." + x.Key.String()
		if same(x.Key.GetToken(), tk) {
			return key, true
		}
		return pathOf(x.Value, tk, key)
	case *ast.SequenceNode:
		for i, v := range x.Values {
			if p, ok := pathOf(v, tk, fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, true
			}
		}
	case *ast.TagNode:
		return pathOf(x.Value, tk, path)
	}
	return "", false
}

// compiler validates a decoded document, recording the first error with its position.
type compiler struct {
	file *ast.File
	err  *LoadError
}

// failf records an error at field (a path such as "rules[2].slsa.builders[0].id").
func (c *compiler) failf(field, format string, args ...any) {
	if c.err != nil {
		return
	}
	c.err = &LoadError{Field: field, Msg: fmt.Sprintf(format, args...)}
	c.err.Line, c.err.Column = c.position(field)
}

// position finds field in the document, or its nearest parent that exists.
func (c *compiler) position(field string) (int, int) {
	for f := field; f != ""; {
		if p, err := yaml.PathString("$." + f); err == nil {
			if n, err := p.FilterFile(c.file); err == nil && n != nil {
				tk := n.GetToken()
				return tk.Position.Line, tk.Position.Column
			}
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return 0, 0
}

func (c *compiler) compile(doc *document) *Policy {
	if doc.APIVersion != APIVersionV1 {
		c.failf("apiVersion", "%q is not supported (want %q)", doc.APIVersion, APIVersionV1)
		c.err.Err = ErrUnsupportedVersion
		return nil
	}
	if doc.Kind != KindPolicy {
		c.failf("kind", "%q is not supported (want %q)", doc.Kind, KindPolicy)
		c.err.Err = ErrUnsupportedVersion
		return nil
	}
	if strings.TrimSpace(doc.Metadata.Name) == "" {
		c.failf("metadata.name", "required")
	}
	limit := uint64(DefaultCELCostLimit)
	if doc.CELCostLimit != nil {
		limit = *doc.CELCostLimit
		if limit == 0 || limit > MaxCELCostLimit {
			c.failf("celCostLimit", "%d is out of range 1..%d", limit, MaxCELCostLimit)
		}
	}
	env, err := celEnvironment()
	if err != nil {
		c.failf("", "CEL environment: %v", err)
		return nil
	}
	p := &Policy{name: doc.Metadata.Name, envs: map[string]*profile{}, adapter: env.CELTypeAdapter()}
	index := map[string]int{}
	for i, rd := range doc.Rules {
		field := fmt.Sprintf("rules[%d]", i)
		if rd.Name == "" {
			c.failf(field, "rule without a name")
			continue
		}
		if _, dup := index[rd.Name]; dup {
			c.failf(field+".name", "duplicate rule name %q", rd.Name)
			continue
		}
		index[rd.Name] = i
		kind, impl := c.rule(field, &rd, env, limit)
		p.rules = append(p.rules, &compiledRule{name: rd.Name, kind: kind, impl: impl})
	}
	names := make([]string, 0, len(doc.Environments))
	for name := range doc.Environments {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		e := doc.Environments[name]
		field := "environments." + name
		prof := &profile{modes: make([]Mode, len(doc.Rules)), allowEmpty: e.AllowEmpty}
		def, ok := parseMode(e.DefaultMode, true)
		if !ok {
			c.failf(field+".defaultMode", "%q is not enforce, warn or skip", e.DefaultMode)
		}
		for i := range prof.modes {
			prof.modes[i] = def
		}
		ruleNames := make([]string, 0, len(e.Rules))
		for rn := range e.Rules {
			ruleNames = append(ruleNames, rn)
		}
		sort.Strings(ruleNames)
		for _, rn := range ruleNames {
			i, ok := index[rn]
			if !ok {
				c.failf(field+".rules."+rn, "no rule named %q", rn)
				continue
			}
			m, ok := parseMode(e.Rules[rn], false)
			if !ok {
				c.failf(field+".rules."+rn, "%q is not enforce, warn or skip", e.Rules[rn])
			}
			prof.modes[i] = m
		}
		p.envs[name] = prof
	}
	return p
}

func parseMode(s string, allowEmpty bool) (Mode, bool) {
	switch s {
	case "enforce":
		return ModeEnforce, true
	case "warn":
		return ModeWarn, true
	case "skip":
		return "", true
	case "":
		return "", allowEmpty
	}
	return "", false
}

func (c *compiler) rule(field string, rd *ruleDoc, env *cel.Env, limit uint64) (string, rule) {
	var kinds []string
	set := func(ok bool, k string) {
		if ok {
			kinds = append(kinds, k)
		}
	}
	set(rd.Signers != nil, "signers")
	set(rd.RequiredAttestations != nil, "requiredAttestations")
	set(rd.SLSA != nil, "slsa")
	set(rd.Materials != nil, "materials")
	set(rd.Freshness != nil, "freshness")
	set(rd.Environment != nil, "environment")
	set(rd.Vulnerabilities != nil, "vulnerabilities")
	set(rd.Lifecycle != nil, "lifecycle")
	set(rd.CEL != nil, "cel")
	if len(kinds) != 1 {
		c.failf(field, "rule %q must have exactly one of signers, requiredAttestations, slsa, materials, freshness, environment, vulnerabilities, lifecycle, cel (has %d)", rd.Name, len(kinds))
		return "", nil
	}
	kind := kinds[0]
	field += "." + kind
	switch kind {
	case "signers":
		return kind, c.signers(field, rd.Signers)
	case "requiredAttestations":
		c.nonEmpty(field+".predicateTypes", rd.RequiredAttestations.PredicateTypes)
		return kind, &attestationsRule{types: rd.RequiredAttestations.PredicateTypes}
	case "slsa":
		return kind, c.slsa(field, rd.SLSA)
	case "materials":
		return kind, c.materials(field, rd.Materials)
	case "freshness":
		return kind, c.freshness(field, rd.Freshness)
	case "environment":
		return kind, c.environment(field, rd.Environment)
	case "vulnerabilities":
		return kind, c.vulns(field, rd.Vulnerabilities)
	case "lifecycle":
		return kind, c.lifecycle(field, rd.Lifecycle)
	default:
		return kind, c.cel(field, rd.CEL, env, limit)
	}
}

// nonEmpty requires a list with no empty strings.
func (c *compiler) nonEmpty(field string, list []string) {
	if len(list) == 0 {
		c.failf(field, "must list at least one value")
	}
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			c.failf(fmt.Sprintf("%s[%d]", field, i), "empty value")
		}
	}
}

func (c *compiler) regexp(field, expr string) *regexp.Regexp {
	if expr == "" {
		return nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		c.failf(field, "bad regular expression: %v", err)
	}
	return re
}

func (c *compiler) globs(field string, pats []string, fold bool) []glob {
	out := make([]glob, 0, len(pats))
	for i, p := range pats {
		g, err := compileGlob(p, fold)
		if err != nil {
			c.failf(fmt.Sprintf("%s[%d]", field, i), "%v", err)
			continue
		}
		out = append(out, g)
	}
	return out
}

func (c *compiler) semver(field, s string) *semverRange {
	if s == "" {
		return nil
	}
	r, err := parseSemverRange(s)
	if err != nil {
		c.failf(field, "%v", err)
	}
	return r
}

func (c *compiler) signers(field string, d *signersDoc) rule {
	r := &signersRule{threshold: d.Threshold, types: d.PredicateTypes}
	if len(d.Identities) == 0 {
		c.failf(field+".identities", "must list at least one identity")
	}
	if r.threshold == 0 {
		r.threshold = 1
	}
	if r.threshold < 0 || r.threshold > len(d.Identities) {
		c.failf(field+".threshold", "%d is out of range 1..%d (the number of identities)", d.Threshold, len(d.Identities))
	}
	for i, id := range d.Identities {
		f := fmt.Sprintf("%s.identities[%d]", field, i)
		m := &signerMatcher{label: id.Name, keyID: id.KeyID, issuer: id.Issuer, san: id.Subject}
		cert := id.Issuer != "" || id.IssuerRegexp != "" || id.Subject != "" || id.SubjectRegexp != "" || len(id.Extensions) > 0
		switch {
		case id.KeyID != "" && cert:
			c.failf(f, "an identity is either a keyId or a certificate identity, not both")
		case id.KeyID == "" && !cert:
			c.failf(f, "needs a keyId, or an issuer and a subject")
		case cert:
			if (id.Issuer == "") == (id.IssuerRegexp == "") {
				c.failf(f, "needs exactly one of issuer and issuerRegexp")
			}
			if (id.Subject == "") == (id.SubjectRegexp == "") {
				c.failf(f, "needs exactly one of subject and subjectRegexp")
			}
			m.issuerRe = c.regexp(f+".issuerRegexp", id.IssuerRegexp)
			m.sanRe = c.regexp(f+".subjectRegexp", id.SubjectRegexp)
			keys := make([]string, 0, len(id.Extensions))
			for k := range id.Extensions {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				get, ok := extensionFields[k]
				if !ok {
					c.failf(f+".extensions."+k, "unknown certificate extension %q", k)
					continue
				}
				if id.Extensions[k] == "" {
					c.failf(f+".extensions."+k, "empty value")
				}
				m.extensions = append(m.extensions, extensionMatch{name: k, want: id.Extensions[k], get: get})
			}
		}
		if m.label == "" {
			switch {
			case id.KeyID != "":
				m.label = "key " + id.KeyID
			case id.Subject != "":
				m.label = id.Subject
			default:
				m.label = "~" + id.SubjectRegexp
			}
		}
		r.identities = append(r.identities, m)
	}
	return r
}

func (c *compiler) slsa(field string, d *slsaDoc) rule {
	r := &slsaRule{buildTypes: d.BuildTypes}
	if len(d.Builders) == 0 && len(d.BuildTypes) == 0 && d.Source == nil && len(d.ExternalParameters) == 0 {
		c.failf(field, "needs at least one of builders, buildTypes, source, externalParameters")
	}
	for i, b := range d.Builders {
		f := fmt.Sprintf("%s.builders[%d]", field, i)
		if b.ID == "" {
			c.failf(f+".id", "required")
		}
		if strings.Contains(b.ID, "@") && b.Versions != "" {
			c.failf(f+".versions", "a builder id with @ref matches exactly and takes no versions")
		}
		r.builders = append(r.builders, builderMatcher{id: b.ID, versions: c.semver(f+".versions", b.Versions)})
	}
	if d.Source != nil {
		s := d.Source
		f := field + ".source"
		if len(s.Repositories) == 0 && len(s.Branches) == 0 && len(s.Tags) == 0 && s.TagVersions == "" {
			c.failf(f, "needs at least one of repositories, branches, tags, tagVersions")
		}
		m := &sourceMatcher{
			branches:    c.globs(f+".branches", s.Branches, false),
			tags:        c.globs(f+".tags", s.Tags, false),
			tagVersions: c.semver(f+".tagVersions", s.TagVersions),
		}
		for i, repo := range s.Repositories {
			id, err := provenance.RepositoryID(repo)
			if err != nil {
				c.failf(fmt.Sprintf("%s.repositories[%d]", f, i), "%v", err)
				continue
			}
			m.repos = append(m.repos, id)
		}
		r.source = m
	}
	keys := make([]string, 0, len(d.ExternalParameters))
	for k := range d.ExternalParameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := field + ".externalParameters." + k
		path := strings.Split(k, ".")
		for _, part := range path {
			if part == "" {
				c.failf(f, "bad parameter path %q", k)
			}
		}
		raw, err := json.Marshal(d.ExternalParameters[k])
		var want any
		if err == nil {
			err = json.Unmarshal(raw, &want)
		}
		if err != nil {
			c.failf(f, "value cannot be compared as JSON: %v", err)
		}
		r.external = append(r.external, expectedParam{path: path, want: want})
	}
	return r
}

func (c *compiler) materials(field string, d *materialsDoc) rule {
	if !d.RequirePinned && len(d.Allow) == 0 && len(d.Deny) == 0 && d.BaseImages == nil {
		c.failf(field, "needs at least one of requirePinned, allow, deny, baseImages")
	}
	r := &materialsRule{
		requirePinned: d.RequirePinned,
		allow:         c.globs(field+".allow", canonicalAddresses(d.Allow), false),
		deny:          c.globs(field+".deny", canonicalAddresses(d.Deny), false),
	}
	if b := d.BaseImages; b != nil {
		if len(b.Registries) == 0 && !b.RequirePinned {
			c.failf(field+".baseImages", "needs registries or requirePinned")
		}
		m := &baseImageMatcher{requirePinned: b.RequirePinned}
		for i, reg := range b.Registries {
			reg = strings.TrimSuffix(strings.TrimSpace(reg), "/")
			if reg == "" {
				c.failf(fmt.Sprintf("%s.baseImages.registries[%d]", field, i), "empty value")
			}
			m.registries = append(m.registries, reg)
		}
		r.base = m
	}
	return r
}

// parseAge reads a Go duration, or a whole number of days as "30d".
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 100*365 {
			return 0, fmt.Errorf("%q is not a whole number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not positive", s)
	}
	return d, nil
}

func (c *compiler) freshness(field string, d *freshnessDoc) rule {
	r := &freshnessRule{types: d.PredicateTypes, allowMissing: d.AllowMissingSigningTime}
	if d.MaxAge == "" && d.NotBefore == "" {
		c.failf(field, "needs maxAge or notBefore")
	}
	if d.MaxAge != "" {
		age, err := parseAge(d.MaxAge)
		if err != nil {
			c.failf(field+".maxAge", "%v", err)
		}
		r.maxAge = age
	}
	if d.NotBefore != "" {
		t, err := time.Parse(time.RFC3339, d.NotBefore)
		if err != nil {
			c.failf(field+".notBefore", "not an RFC 3339 time: %v", err)
		}
		r.notBefore = t
	}
	return r
}

func (c *compiler) environment(field string, d *envDoc) rule {
	if len(d.ForbiddenVariables) == 0 && len(d.ForbiddenValues) == 0 && len(d.RequiredParameters) == 0 {
		c.failf(field, "needs at least one of forbiddenVariables, forbiddenValues, requiredParameters")
	}
	r := &environmentRule{forbiddenVars: c.globs(field+".forbiddenVariables", d.ForbiddenVariables, true)}
	for i, v := range d.ForbiddenValues {
		re := c.regexp(fmt.Sprintf("%s.forbiddenValues[%d]", field, i), v)
		if re != nil {
			r.forbiddenValues = append(r.forbiddenValues, re)
		}
	}
	for i, p := range d.RequiredParameters {
		path := strings.Split(p, ".")
		bad := len(path) < 2 || (path[0] != "externalParameters" && path[0] != "internalParameters")
		for _, part := range path {
			bad = bad || part == ""
		}
		if bad {
			c.failf(fmt.Sprintf("%s.requiredParameters[%d]", field, i), "%q must be externalParameters.NAME or internalParameters.NAME (dotted)", p)
		}
		r.required = append(r.required, path)
	}
	return r
}

func (c *compiler) vulns(field string, d *vulnsDoc) rule {
	r := &vulnsRule{acceptVEX: d.AcceptOpenVEX, ignore: map[string]bool{}}
	n, ok := severityNames[strings.ToLower(d.FailAt)]
	if !ok || n == sevNone {
		c.failf(field+".failAt", "%q is not low, medium, high or critical", d.FailAt)
	}
	r.failAt = n
	if d.MaxAge != "" {
		age, err := parseAge(d.MaxAge)
		if err != nil {
			c.failf(field+".maxAge", "%v", err)
		}
		r.maxAge, r.maxAgeText = age, d.MaxAge
	}
	for i, id := range d.Ignore {
		if id == "" {
			c.failf(fmt.Sprintf("%s.ignore[%d]", field, i), "empty value")
		}
		r.ignore[id] = true
	}
	return r
}

func (c *compiler) cel(field string, d *celDoc, env *cel.Env, limit uint64) rule {
	r := &celRule{expr: d.Expression, types: d.PredicateTypes, message: d.Message}
	switch d.Match {
	case "", "all":
	case "any":
		r.any = true
	default:
		c.failf(field+".match", "%q is not all or any", d.Match)
	}
	prg, err := compileCEL(env, d.Expression, limit)
	if err != nil {
		c.failf(field+".expression", "%v", err)
	}
	r.prg = prg
	return r
}

// canonicalAddresses writes dependency patterns the way canonicalAddress writes the addresses
// they are matched against.
func canonicalAddresses(patterns []string) []string {
	out := make([]string, len(patterns))
	for i, p := range patterns {
		out[i] = canonicalAddress(p)
	}
	return out
}
