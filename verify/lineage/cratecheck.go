package lineage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Requirement levels of a CrateFinding, as the profiles word them.
const (
	// LevelMust marks a rule a conforming crate must follow.
	LevelMust = "MUST"
	// LevelShould marks a rule a crate should follow unless it has no data for it.
	LevelShould = "SHOULD"
)

// CrateFinding is one rule of RO-Crate 1.1, Process Run Crate 0.5, Workflow Run Crate 0.5 or
// Workflow RO-Crate 1.0 that a crate does not follow.
type CrateFinding struct {
	// Rule identifies the rule: "rocrate:…", "process:…", "wfrun:…" or "wfro:…", by the
	// specification it comes from.
	Rule string
	// Level is LevelMust or LevelShould.
	Level string
	// Entity is the @id of the entity at fault, empty for the document as a whole.
	Entity string
	// Message says what is wrong.
	Message string
}

// String formats the finding as "LEVEL RULE ENTITY: MESSAGE".
func (f CrateFinding) String() string {
	return f.Level + " " + f.Rule + " " + f.Entity + ": " + f.Message
}

// MaxCrateBytes is the largest metadata document CheckROCrate reads: 64 MiB.
const MaxCrateBytes = 64 << 20

// isoDateTime matches the ISO 8601 dates and times RO-Crate asks for: a date, optionally with a
// time and a zone.
var isoDateTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$`)

// CheckROCrate checks an ro-crate-metadata.json document against the rules, written from the
// published specifications, of RO-Crate 1.1 and of the profiles its root data entity conforms
// to: Process Run Crate 0.5 and Workflow Run Crate 0.5 (with Workflow RO-Crate 1.0, which the
// latter extends). It returns the rules the crate does not follow, sorted by rule and entity;
// none for a crate that follows them all. Each finding names its level: a MUST broken makes the
// crate non-conforming; a SHOULD marks data the crate lacks.
//
// It checks the document alone, never the files it names nor anything on the network. A
// document that is not JSON, is over MaxCrateBytes, or is not an object with a @graph of
// objects with @ids fails with an error wrapping ErrInvalidCrateDocument.
func CheckROCrate(metadata []byte) ([]CrateFinding, error) {
	if len(metadata) > MaxCrateBytes {
		return nil, fmt.Errorf("%w: %d bytes, over %d", ErrInvalidCrateDocument, len(metadata), MaxCrateBytes)
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(metadata))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidCrateDocument, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the document", ErrInvalidCrateDocument)
	}
	items, ok := doc["@graph"].([]any)
	if !ok {
		return nil, fmt.Errorf("%w: no @graph array", ErrInvalidCrateDocument)
	}
	c := &crateChecker{byID: map[string]map[string]any{}}
	for i, it := range items {
		e, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: @graph[%d] is not an object", ErrInvalidCrateDocument, i)
		}
		id, ok := e["@id"].(string)
		if !ok || id == "" {
			return nil, fmt.Errorf("%w: @graph[%d] has no @id", ErrInvalidCrateDocument, i)
		}
		if _, dup := c.byID[id]; dup {
			c.add("rocrate:unique-id", LevelMust, id, "two entities have this @id")
			continue
		}
		c.byID[id] = e
		c.order = append(c.order, id)
	}
	c.checkDocument(doc)
	slices.SortFunc(c.findings, func(x, y CrateFinding) int {
		if n := strings.Compare(x.Rule, y.Rule); n != 0 {
			return n
		}
		if n := strings.Compare(x.Entity, y.Entity); n != 0 {
			return n
		}
		return strings.Compare(x.Message, y.Message)
	})
	return slices.CompactFunc(c.findings, func(x, y CrateFinding) bool { return x == y }), nil
}

type crateChecker struct {
	byID     map[string]map[string]any
	order    []string
	findings []CrateFinding
}

func (c *crateChecker) add(rule, level, entity, format string, args ...any) {
	c.findings = append(c.findings, CrateFinding{Rule: rule, Level: level, Entity: entity, Message: fmt.Sprintf(format, args...)})
}

// idList returns the @ids a property refers to: one reference, or a list of them.
func idList(v any) []string {
	switch x := v.(type) {
	case map[string]any:
		if id, ok := x["@id"].(string); ok {
			return []string{id}
		}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, idList(e)...)
		}
		return out
	}
	return nil
}

func typeList(e map[string]any) []string {
	switch x := e["@type"].(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, t := range x {
			if s, ok := t.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func hasType(e map[string]any, types ...string) bool {
	for _, t := range typeList(e) {
		if slices.Contains(types, t) {
			return true
		}
	}
	return false
}

func hasValue(e map[string]any, key string) bool {
	switch v := e[key].(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	}
	return true
}

func stringValue(e map[string]any, key string) (string, bool) {
	s, ok := e[key].(string)
	return s, ok
}

// wellKnown reports whether an IRI is a term of a vocabulary rather than an entity the crate
// must describe: schema.org's enumerations, the Workflow Run terms.
func wellKnown(id string) bool {
	return strings.HasPrefix(id, "http://schema.org/") || strings.HasPrefix(id, "https://schema.org/") || strings.HasPrefix(id, workflowRunTerms)
}

func (c *crateChecker) checkDocument(doc map[string]any) {
	// RO-Crate 1.1, "RO-Crate JSON-LD": the context by reference, first.
	var contexts []any
	switch x := doc["@context"].(type) {
	case string:
		contexts = []any{x}
	case []any:
		contexts = x
	}
	if len(contexts) == 0 || contexts[0] != ROCrateContext {
		c.add("rocrate:context", LevelMust, "", "@context must reference %s first", ROCrateContext)
	}
	for k := range doc {
		if k != "@context" && k != "@graph" {
			c.add("rocrate:flattened", LevelMust, "", "the document holds %q beside @context and @graph", k)
		}
	}
	for _, id := range c.order {
		if len(typeList(c.byID[id])) == 0 {
			c.add("rocrate:entity-type", LevelMust, id, "the entity has no @type")
		}
	}

	// The metadata descriptor and the root data entity.
	md := c.byID[ROCrateMetadataFile]
	if md == nil {
		c.add("rocrate:descriptor", LevelMust, ROCrateMetadataFile, "there is no metadata descriptor")
		return
	}
	if !hasType(md, "CreativeWork") {
		c.add("rocrate:descriptor", LevelMust, ROCrateMetadataFile, "the metadata descriptor is not a CreativeWork")
	}
	if !slices.ContainsFunc(idList(md["conformsTo"]), func(s string) bool { return strings.HasPrefix(s, "https://w3id.org/ro/crate/") }) {
		c.add("rocrate:descriptor-conformsTo", LevelMust, ROCrateMetadataFile, "conformsTo must name a versioned RO-Crate specification")
	}
	about := idList(md["about"])
	if len(about) != 1 || c.byID[about[0]] == nil {
		c.add("rocrate:descriptor-about", LevelMust, ROCrateMetadataFile, "about must name the root data entity")
		return
	}
	rootID := about[0]
	root := c.byID[rootID]
	if rootID != "./" {
		c.add("rocrate:root-id", LevelShould, rootID, "the root data entity's @id should be ./")
	}
	if !hasType(root, "Dataset") {
		c.add("rocrate:root-type", LevelMust, rootID, "the root data entity must be a Dataset")
	}
	for _, k := range []string{"name", "description", "datePublished", "license"} {
		if !hasValue(root, k) {
			c.add("rocrate:root-"+k, LevelMust, rootID, "the root data entity has no %s", k)
		}
	}
	if d, ok := stringValue(root, "datePublished"); hasValue(root, "datePublished") && (!ok || !isoDateTime.MatchString(d)) {
		c.add("rocrate:root-datePublished", LevelMust, rootID, "datePublished must be one ISO 8601 date")
	}

	// References and data entities.
	for _, id := range c.order {
		e := c.byID[id]
		for k, v := range e {
			if k == "@id" || k == "@type" || k == "@context" {
				continue
			}
			for _, r := range idList(v) {
				if c.byID[r] == nil && !wellKnown(r) {
					c.add("rocrate:reference", LevelShould, id, "%s refers to %s, which the crate does not describe", k, r)
				}
			}
		}
	}
	reachable := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		for _, p := range idList(c.byID[id]["hasPart"]) {
			if !reachable[p] {
				reachable[p] = true
				walk(p)
			}
		}
	}
	walk(rootID)
	for _, id := range c.order {
		e := c.byID[id]
		if id == rootID || !hasType(e, "File", "Dataset") {
			continue
		}
		if !reachable[id] {
			c.add("rocrate:data-entity-haspart", LevelMust, id, "a data entity must be reached from the root by hasPart")
		}
		if strings.HasPrefix(strings.ToLower(id), "urn:") {
			c.add("rocrate:data-entity-id", LevelMust, id, "a data entity's @id must be a path in the crate or a URL, not a URN")
		}
	}

	// The profiles the root conforms to.
	profiles := idList(root["conformsTo"])
	workflowRun := slices.Contains(profiles, WorkflowRunCrateProfile)
	processRun := slices.Contains(profiles, ProcessRunCrateProfile) || workflowRun
	for _, p := range profiles {
		if e := c.byID[p]; e == nil || !hasType(e, "CreativeWork") {
			c.add("process:profile-entity", LevelMust, p, "the profile the root conforms to must be a CreativeWork entity")
		}
	}
	if workflowRun && !slices.Contains(profiles, ProcessRunCrateProfile) {
		c.add("wfrun:conformsTo-process", LevelShould, rootID, "conformsTo should also name %s", ProcessRunCrateProfile)
	}
	if workflowRun && !slices.Contains(profiles, WorkflowROCrateProfile) {
		c.add("wfrun:conformsTo-wfro", LevelShould, rootID, "conformsTo should also name %s", WorkflowROCrateProfile)
	}
	if processRun {
		c.checkProcessRun(rootID, root)
	}
	if workflowRun {
		c.checkWorkflowRun(rootID, root)
	}
}

var actionTypes = []string{"CreateAction", "ActivateAction", "UpdateAction"}

// checkProcessRun checks the rules of Process Run Crate 0.5.
func (c *crateChecker) checkProcessRun(rootID string, root map[string]any) {
	mentions := idList(root["mentions"])
	actions := 0
	for _, id := range c.order {
		e := c.byID[id]
		if !hasType(e, actionTypes...) {
			continue
		}
		actions++
		if !slices.Contains(mentions, id) {
			c.add("process:action-mentioned", LevelShould, id, "the action should be listed in the root's mentions")
		}
		instruments := idList(e["instrument"])
		if len(instruments) == 0 {
			c.add("process:action-instrument", LevelMust, id, "the action has no instrument")
		}
		for _, in := range instruments {
			tool := c.byID[in]
			switch {
			case tool == nil:
				c.add("process:action-instrument", LevelMust, id, "the instrument %s is not described", in)
			case hasType(tool, "ContainerImage"):
				c.add("process:instrument-not-image", LevelShould, id, "the instrument %s is a container image: the image belongs in containerImage, the tool in instrument", in)
			case !hasType(tool, "SoftwareApplication", "SoftwareSourceCode", "ComputationalWorkflow"):
				c.add("process:instrument-type", LevelShould, in, "a tool should be a SoftwareApplication, SoftwareSourceCode or ComputationalWorkflow")
			}
			if tool != nil && hasType(tool, "SoftwareApplication") && !hasType(tool, "ComputationalWorkflow") {
				c.checkTool(in, tool)
			}
		}
		for _, k := range []string{"name", "description", "endTime", "result", "agent"} {
			if !hasValue(e, k) {
				c.add("process:action-"+k, LevelShould, id, "the action has no %s", k)
			}
		}
		for _, k := range []string{"startTime", "endTime"} {
			if s, ok := stringValue(e, k); hasValue(e, k) && (!ok || !isoDateTime.MatchString(s)) {
				c.add("process:action-"+k, LevelShould, id, "%s should be an ISO 8601 date and time", k)
			}
		}
		for _, a := range idList(e["agent"]) {
			if ag := c.byID[a]; ag != nil && !hasType(ag, "Person", "Organization") {
				c.add("process:action-agent", LevelShould, id, "the agent %s should be a Person or an Organization", a)
			}
		}
		status := idList(e["actionStatus"])
		if s, ok := stringValue(e, "actionStatus"); ok {
			status = append(status, s)
		}
		for _, s := range status {
			if !strings.HasSuffix(s, "schema.org/CompletedActionStatus") && !strings.HasSuffix(s, "schema.org/FailedActionStatus") {
				c.add("process:action-actionStatus", LevelShould, id, "actionStatus should be CompletedActionStatus or FailedActionStatus, not %s", s)
			}
		}
		if hasValue(e, "error") && !slices.ContainsFunc(status, func(s string) bool { return strings.HasSuffix(s, "FailedActionStatus") }) {
			c.add("process:action-error", LevelShould, id, "error is given, but the action did not fail")
		}
		for _, k := range []string{"object", "result"} {
			for _, o := range idList(e[k]) {
				if x := c.byID[o]; x != nil && !hasType(x, "File", "Dataset", "Collection", "CreativeWork", "PropertyValue") {
					c.add("process:action-"+k+"-type", LevelShould, o, "an action's %s should be a File, Dataset, Collection, CreativeWork or PropertyValue", k)
				}
			}
		}
		for _, img := range idList(e["containerImage"]) {
			x := c.byID[img]
			if x == nil {
				continue
			}
			if !hasType(x, "ContainerImage") {
				c.add("process:container-image-type", LevelShould, img, "a containerImage should be a ContainerImage")
			}
			for _, k := range []string{"additionalType", "registry", "name"} {
				if !hasValue(x, k) {
					c.add("process:container-image-"+k, LevelShould, img, "a ContainerImage should have %s", k)
				}
			}
		}
		for _, env := range idList(e["environment"]) {
			if x := c.byID[env]; x != nil && (!hasType(x, "PropertyValue") || !hasValue(x, "name") || x["value"] == nil) {
				c.add("process:environment", LevelShould, env, "an environment setting should be a PropertyValue with name and value")
			}
		}
	}
	if actions == 0 {
		c.add("process:actions", LevelMust, rootID, "a Process Run Crate describes at least one action")
	}
}

// checkTool checks a SoftwareApplication used as an instrument.
func (c *crateChecker) checkTool(id string, tool map[string]any) {
	if !hasValue(tool, "name") {
		c.add("process:tool-name", LevelShould, id, "the tool has no name")
	}
	if !hasValue(tool, "url") {
		c.add("process:tool-url", LevelShould, id, "the tool has no url (homepage, documentation or source)")
	}
	switch v, sv := hasValue(tool, "version"), hasValue(tool, "softwareVersion"); {
	case v && sv:
		c.add("process:tool-version", LevelShould, id, "the tool gives both version and softwareVersion")
	case !v && !sv:
		c.add("process:tool-version", LevelShould, id, "the tool has no version")
	}
}

// checkWorkflowRun checks the rules of Workflow Run Crate 0.5 and of Workflow RO-Crate 1.0 that
// it takes in.
func (c *crateChecker) checkWorkflowRun(rootID string, root map[string]any) {
	mains := idList(root["mainEntity"])
	if len(mains) != 1 || c.byID[mains[0]] == nil {
		c.add("wfro:mainEntity", LevelMust, rootID, "the root's mainEntity must be the main workflow")
		return
	}
	mainID := mains[0]
	wf := c.byID[mainID]
	for _, t := range []string{"File", "SoftwareSourceCode", "ComputationalWorkflow"} {
		if !hasType(wf, t) {
			c.add("wfro:main-workflow-type", LevelMust, mainID, "the main workflow must be typed File, SoftwareSourceCode and ComputationalWorkflow; it is not a %s", t)
		}
	}
	if !slices.Contains(idList(root["hasPart"]), mainID) {
		c.add("wfro:main-workflow-haspart", LevelMust, mainID, "the main workflow must be in the root's hasPart")
	}
	langs := idList(wf["programmingLanguage"])
	if len(langs) == 0 {
		c.add("wfro:programmingLanguage", LevelMust, mainID, "the main workflow has no programmingLanguage")
	}
	for _, l := range langs {
		if x := c.byID[l]; x == nil || !hasType(x, "ComputerLanguage") {
			c.add("wfro:programmingLanguage", LevelMust, mainID, "the programmingLanguage %s must be a ComputerLanguage entity", l)
		}
	}
	if md := c.byID[ROCrateMetadataFile]; !slices.Contains(idList(md["conformsTo"]), WorkflowROCrateProfile) {
		c.add("wfro:descriptor-conformsTo", LevelShould, ROCrateMetadataFile, "the metadata descriptor should conform to %s", WorkflowROCrateProfile)
	}
	for _, k := range []string{"name", "creator", "dateCreated", "license", "url", "version"} {
		if !hasValue(wf, k) {
			c.add("wfro:workflow-"+k, LevelShould, mainID, "the main workflow has no %s", k)
		}
	}
	params := map[string]bool{}
	for _, k := range []string{"input", "output", "environment"} {
		for _, p := range idList(wf[k]) {
			if x := c.byID[p]; x == nil || !hasType(x, "FormalParameter") {
				c.add("wfrun:formal-parameter", LevelMust, mainID, "the workflow's %s %s must be a FormalParameter", k, p)
				continue
			}
			params[p] = true
		}
	}
	runs := 0
	for _, id := range c.order {
		e := c.byID[id]
		if hasType(e, "FormalParameter") {
			if !hasValue(e, "additionalType") {
				c.add("wfrun:formal-parameter-additionalType", LevelMust, id, "a FormalParameter has no additionalType")
			}
			if !hasValue(e, "name") {
				c.add("wfrun:formal-parameter-name", LevelShould, id, "a FormalParameter has no name")
			}
		}
		for _, p := range idList(e["exampleOfWork"]) {
			if x := c.byID[p]; x == nil || !hasType(x, "FormalParameter") {
				c.add("wfrun:exampleOfWork", LevelMust, id, "exampleOfWork names %s, which is not a FormalParameter", p)
			}
		}
		if !hasType(e, actionTypes...) {
			continue
		}
		// Whatever an action reads or writes that is a PropertyValue realises a parameter.
		for _, k := range []string{"object", "result"} {
			for _, o := range idList(e[k]) {
				if x := c.byID[o]; x != nil && hasType(x, "PropertyValue") && !hasValue(x, "exampleOfWork") {
					c.add("wfrun:exampleOfWork", LevelShould, o, "a PropertyValue of an action should name the FormalParameter it realises by exampleOfWork")
				}
			}
		}
		if !slices.Contains(idList(e["instrument"]), mainID) {
			continue
		}
		runs++
		if len(params) == 0 {
			continue
		}
		for _, k := range []string{"object", "result"} {
			for _, o := range idList(e[k]) {
				x := c.byID[o]
				if x == nil {
					continue
				}
				if !slices.ContainsFunc(idList(x["exampleOfWork"]), func(p string) bool { return params[p] }) {
					c.add("wfrun:exampleOfWork", LevelShould, o, "the run's %s should name the workflow's FormalParameter it realises by exampleOfWork", k)
				}
			}
		}
	}
	if runs == 0 {
		c.add("wfrun:workflow-run", LevelMust, mainID, "no CreateAction has the main workflow as its instrument")
	}
}
