package lineage

import (
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance/rebuild"
	"github.com/provkit/provkit/provenance/workflow"
)

// RO-Crate identifiers.
const (
	// ROCrateMetadataFile is the name RO-Crate gives the metadata file WriteROCrate writes.
	ROCrateMetadataFile = "ro-crate-metadata.json"
	// ROCrateContext is the JSON-LD context of RO-Crate 1.1.
	ROCrateContext = "https://w3id.org/ro/crate/1.1/context"
	// ROCrateSpec is the RO-Crate 1.1 specification the metadata descriptor conforms to.
	ROCrateSpec = "https://w3id.org/ro/crate/1.1"
	// ProcessRunCrateProfile is the Process Run Crate profile of the Workflow Run RO-Crate
	// family (https://w3id.org/ro/wfrun/process), which the crate's root conforms to.
	ProcessRunCrateProfile = "https://w3id.org/ro/wfrun/process/0.5"
	// WorkflowRunCrateProfile is the Workflow Run Crate profile, which a crate describing a
	// workflow (Crate.Workflow) also conforms to.
	WorkflowRunCrateProfile = "https://w3id.org/ro/wfrun/workflow/0.5"
	// workflowRunTerms is the namespace of the Workflow Run RO-Crate terms.
	workflowRunTerms = "https://w3id.org/ro/terms/workflow-run#"
)

// Crate describes the root dataset of an RO-Crate.
type Crate struct {
	// Name is the crate's name (required).
	Name string
	// Description says what the crate holds; empty gives a one-line summary of the graph.
	Description string
	// License is the license of the crate's metadata (required): a URL, or an SPDX identifier
	// such as "CC-BY-4.0", which becomes https://spdx.org/licenses/ID.
	License string
	// Published is the crate's datePublished; zero takes the latest time recorded in the graph
	// (a step's end, start or verified signing time), and fails when there is none. The
	// library never reads the clock.
	Published time.Time
	// Workflow, when set, is the workflow the crate describes a run of: the Workflow value its
	// steps recorded (see provenance/workflow), a URI or a name. The crate then also follows the
	// Workflow Run Crate profile: the workflow is the root's mainEntity (a ComputationalWorkflow),
	// and one more CreateAction stands for the whole run, with instrument the workflow, object
	// the run's inputs (what its steps read that none of them wrote, tools aside) and result its
	// outputs (what its steps wrote that none of them read). The workflow is a File entity,
	// named by Workflow when that is a URI, else by "#workflow-NAME". A Workflow no step recorded fails
	// with an error wrapping ErrInvalidCrate.
	Workflow string
}

// WriteROCrate writes ro-crate-metadata.json, RO-Crate 1.1 metadata
// (https://www.researchobject.org/ro-crate/specification/1.1/) for the graph, following the
// Process Run Crate 0.5 profile and, when c.Workflow is set, the Workflow Run Crate 0.5 and
// Workflow RO-Crate 1.0 profiles. CheckROCrate checks a crate against their rules.
//
//   - Each SLSA step is a CreateAction (named by ActivityIRI) with name, description (its
//     command line), instrument (a SoftwareApplication standing for the step's tool, with
//     softwareRequirements its tool versions and input a FormalParameter per parameter),
//     object (its data inputs and a PropertyValue per parameter, whose exampleOfWork is the
//     FormalParameter), result (its outputs), startTime and endTime when recorded, agent (the
//     people who ran it, a Person named by ORCID URL or mailto:, else its signers),
//     actionStatus CompletedActionStatus (only completed steps are signed), environment
//     (PropertyValues of its environment variables) and containerImage: the step's container
//     image as a ContainerImage entity with registry, name, tag and sha256, never as its
//     instrument. The action's subjectOf is the signed record of the step, a CreativeWork whose
//     author is each signer (typed Person for an email certificate, else Organization).
//
//   - Artifacts that are data are File entities in the root's hasPart, with name, sha256 and
//     identifier (their digests) and url (their recorded URLs). A File's @id is its path in the
//     crate when the crate holds it (see WriteROCrateDir and WriteROCrateZip), else its recorded
//     URL (http, https or another scheme but file: and oci:) when it has one no other artifact
//     shares, else a local id "#file-ALG-HEX". It is never a URN.
//
//   - With c.Workflow, the workflow is the root's mainEntity, typed File, SoftwareSourceCode and
//     ComputationalWorkflow, with programmingLanguage the provkit workflow step language (a
//     ComputerLanguage), input and output FormalParameters for the run's inputs and outputs
//     (which refer to them by exampleOfWork) and hasPart the steps' tools; and each run of it
//     (the steps sharing a run ID) is one more CreateAction with instrument the workflow, object
//     the run's inputs (what its steps read that none of them wrote, tools aside) and result
//     its outputs (what its steps wrote that none of them read). The workflow's @id is
//     c.Workflow when that is a URL, else "#workflow-NAME".
//
//   - Each rebuild check of files the crate describes (see Rebuild) is an AssessAction with
//     object the files, result a PropertyValue "outcome" ("match" or "mismatch"), description
//     what was compared (Rebuild.Summary), endTime when it ran and agent its signers: never a
//     CreateAction of what it rebuilt.
//
// Statements of other predicate types have no action. Every @id the crate refers to is an
// entity of the crate, schema.org's action statuses aside.
//
// A Crate without Name or License, or without a date to publish, or with a Workflow no step
// recorded, fails with an error wrapping ErrInvalidCrate. The same graph and Crate always give
// the same bytes.
func (g *Graph) WriteROCrate(w io.Writer, c Crate) error {
	doc, err := g.crateDocument(c, nil)
	if err != nil {
		return err
	}
	return writeJSON(w, doc)
}

// Terms of the Workflow Run RO-Crate vocabulary and schema.org that the crate uses.
const (
	workflowRunContext = "https://w3id.org/ro/terms/workflow-run/context"
	// WorkflowROCrateProfile is the Workflow RO-Crate profile a Workflow Run Crate extends.
	WorkflowROCrateProfile  = "https://w3id.org/workflowhub/workflow-ro-crate/1.0"
	completedActionStatus   = "http://schema.org/CompletedActionStatus"
	dockerImage             = workflowRunTerms + "DockerImage"
	inTotoStatementEncoding = "application/vnd.in-toto+json"
)

// heldFile is a data file the crate folder holds.
type heldFile struct {
	path string
	size int64
}

// crateIDs are the @ids of the crate's entities, chosen once per crate.
type crateIDs struct {
	file   map[digest.Digest]string // data artifacts
	image  map[digest.Digest]bool   // container images and other tools
	images map[digest.Digest]string // container image entities
}

func localID(prefix string, d digest.Digest) string {
	return "#" + prefix + "-" + strings.ReplaceAll(string(d), ":", "-")
}

// resolvableURL returns the first URI of n that names a place others can fetch it from.
func resolvableURL(n *Node) string {
	for _, u := range n.URIs {
		scheme, _, ok := strings.Cut(u, "://")
		if ok && scheme != "" && scheme != "file" && scheme != "oci" && !strings.ContainsAny(u, " \t\r\n\"<>") {
			return u
		}
	}
	return ""
}

// tools returns the nodes that are a tool of some step rather than data: the resolved
// dependencies of role provenance.RoleToolchain, such as a workflow step's container image.
func (g *Graph) tools() map[digest.Digest]bool {
	out := map[digest.Digest]bool{}
	for _, a := range g.activities {
		for _, d := range a.Instruments {
			out[d] = true
		}
	}
	return out
}

func (g *Graph) crateIDs(held map[digest.Digest]heldFile) crateIDs {
	ids := crateIDs{file: map[digest.Digest]string{}, image: g.tools(), images: map[digest.Digest]string{}}
	usedURL := map[string]int{}
	for _, d := range g.order {
		if u := resolvableURL(g.nodes[d]); u != "" && !ids.image[d] {
			usedURL[u]++
		}
	}
	for _, d := range g.order {
		if ids.image[d] {
			ids.images[d] = localID("image", d)
			continue
		}
		if h, ok := held[d]; ok {
			ids.file[d] = h.path
		} else if u := resolvableURL(g.nodes[d]); u != "" && usedURL[u] == 1 {
			ids.file[d] = u
		} else {
			ids.file[d] = localID("file", d)
		}
	}
	return ids
}

// toolKey names the definition of a step: its workflow and name.
type toolKey struct{ workflow, name string }

func toolID(k toolKey) string {
	if k.workflow == "" {
		return "#tool-" + url.PathEscape(k.name)
	}
	return "#tool-" + url.PathEscape(k.workflow) + "/" + url.PathEscape(k.name)
}

func formalParameterID(tool, name string) string { return tool + "-param-" + url.PathEscape(name) }

// additionalType is the FormalParameter type of a parameter's value.
func additionalType(v any) string {
	switch x := v.(type) {
	case bool:
		return "Boolean"
	case string:
		return "Text"
	case float64:
		if x == float64(int64(x)) {
			return "Integer"
		}
		return "Float"
	}
	return "PropertyValue"
}

// imageEntity describes a container image reference, "REGISTRY/NAME[:TAG]@sha256:HEX".
func imageEntity(id string, n *Node) jsonObj {
	e := jsonObj{"@id": id, "@type": "ContainerImage", "additionalType": ref(dockerImage), "identifier": digestStrings(n.Digests)}
	var refName string
	for _, name := range n.Names {
		if _, _, err := workflow.Image(name); err == nil {
			refName = name
			break
		}
	}
	if refName == "" {
		for _, u := range n.URIs {
			if strings.HasPrefix(u, "oci://") {
				refName = strings.TrimPrefix(u, "oci://")
				break
			}
		}
	}
	if refName == "" {
		e["name"] = n.Label()
	} else {
		repo, _, _ := strings.Cut(refName, "@")
		tag := ""
		if i := strings.LastIndexByte(repo, ':'); i > strings.LastIndexByte(repo, '/') {
			repo, tag = repo[:i], repo[i+1:]
		}
		registry, name := "docker.io", repo
		if first, rest, ok := strings.Cut(repo, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
			registry, name = first, rest
		} else if !strings.Contains(repo, "/") {
			name = "library/" + repo
		}
		e["registry"], e["name"] = registry, name
		if tag != "" {
			e["tag"] = tag
		}
	}
	for _, d := range n.Digests {
		if d.Algorithm() == digest.SHA256 {
			e["sha256"] = d.Encoded()
		}
	}
	return e
}

// crateDocument builds the crate's metadata; held lists the data files the crate folder holds.
func (g *Graph) crateDocument(c Crate, held map[digest.Digest]heldFile) (jsonObj, error) {
	if c.Name == "" {
		return nil, fmt.Errorf("%w: Name is required", ErrInvalidCrate)
	}
	if c.License == "" {
		return nil, fmt.Errorf("%w: License is required", ErrInvalidCrate)
	}
	published := c.Published
	if published.IsZero() {
		for _, a := range g.activities {
			for _, t := range []time.Time{a.FinishedOn, a.StartedOn, a.SignedAt} {
				if t.After(published) {
					published = t
				}
			}
		}
		if published.IsZero() {
			return nil, fmt.Errorf("%w: Published is required when the graph records no time", ErrInvalidCrate)
		}
	}
	description := c.Description
	if description == "" {
		description = fmt.Sprintf("Lineage of %d artifacts recorded by %d verified statements.", len(g.order), len(g.actOrder))
	}
	license := c.License
	if !strings.Contains(license, "://") {
		license = "https://spdx.org/licenses/" + license
	}
	ids := g.crateIDs(held)

	var actions, contextual []jsonObj
	entities := map[string]jsonObj{} // contextual entities by @id, written sorted
	addEntity := func(e jsonObj) {
		id := e["@id"].(string)
		if _, ok := entities[id]; !ok {
			entities[id] = e
		}
	}
	exampleOf := map[digest.Digest][]string{} // data artifact -> FormalParameters it realises
	signerEntities := map[string]bool{}
	for _, id := range g.actOrder {
		a := g.activities[id]
		if a.BuildType == "" {
			continue
		}
		hexID := id.Encoded()[:16]
		act := jsonObj{"@id": ActivityIRI(id), "@type": "CreateAction", "name": a.Name,
			"actionStatus": ref(completedActionStatus)}
		var results []jsonObj
		for _, d := range a.Outputs {
			if f, ok := ids.file[d]; ok {
				results = append(results, ref(f))
			}
		}
		act["result"] = results
		if len(a.Command) > 0 {
			act["description"] = CommandText(a.Command)
		}
		// The instrument: the step's tool, or the builder of another build.
		var instrument string
		if a.BuildType == workflow.BuildType {
			k := toolKey{a.Workflow, a.Name}
			instrument = toolID(k)
			tool := entities[instrument]
			if tool == nil {
				tool = jsonObj{"@id": instrument, "@type": "SoftwareApplication", "name": a.Name}
				if a.Workflow != "" {
					tool["description"] = "Step " + a.Name + " of the workflow " + a.Workflow
				}
				if strings.Contains(a.Workflow, "://") {
					tool["url"] = a.Workflow
				}
				entities[instrument] = tool
			}
			var inputs []jsonObj
			if old, ok := tool["input"].([]jsonObj); ok {
				inputs = old
			}
			var object []jsonObj
			for _, name := range slices.Sorted(maps.Keys(a.Parameters)) {
				fp := formalParameterID(instrument, name)
				if _, ok := entities[fp]; !ok {
					entities[fp] = jsonObj{"@id": fp, "@type": "FormalParameter", "name": name, "additionalType": additionalType(a.Parameters[name])}
					inputs = append(inputs, ref(fp))
				}
				pv := "#pv-" + hexID + "-" + url.PathEscape(name)
				addEntity(jsonObj{"@id": pv, "@type": "PropertyValue", "name": name, "value": jsonValue(a.Parameters[name]), "exampleOfWork": ref(fp)})
				object = append(object, ref(pv))
			}
			if len(inputs) > 0 {
				slices.SortFunc(inputs, func(x, y jsonObj) int { return strings.Compare(x["@id"].(string), y["@id"].(string)) })
				tool["input"] = inputs
			}
			var requirements []jsonObj
			if old, ok := tool["softwareRequirements"].([]jsonObj); ok {
				requirements = old
			}
			for _, name := range slices.Sorted(maps.Keys(a.ToolVersions)) {
				sid := "#software-" + url.PathEscape(name) + "-" + url.PathEscape(a.ToolVersions[name])
				if _, ok := entities[sid]; !ok {
					entities[sid] = jsonObj{"@id": sid, "@type": "SoftwareApplication", "name": name, "softwareVersion": a.ToolVersions[name]}
				}
				if !slices.ContainsFunc(requirements, func(r jsonObj) bool { return r["@id"] == sid }) {
					requirements = append(requirements, ref(sid))
				}
			}
			if len(requirements) > 0 {
				slices.SortFunc(requirements, func(x, y jsonObj) int { return strings.Compare(x["@id"].(string), y["@id"].(string)) })
				tool["softwareRequirements"] = requirements
			}
			for _, d := range a.Inputs {
				if f, ok := ids.file[d]; ok {
					object = append(object, ref(f))
				}
			}
			if len(object) > 0 {
				act["object"] = object
			}
		} else {
			var object []jsonObj
			for _, d := range a.Inputs {
				if f, ok := ids.file[d]; ok {
					object = append(object, ref(f))
				}
			}
			if len(object) > 0 {
				act["object"] = object
			}
			if a.BuilderID != "" {
				instrument = a.BuilderID
				addEntity(jsonObj{"@id": a.BuilderID, "@type": "SoftwareApplication", "name": a.BuilderID})
			}
		}
		if instrument != "" {
			act["instrument"] = ref(instrument)
		}
		var images []jsonObj
		for _, d := range a.Instruments {
			if img, ok := ids.images[d]; ok {
				images = append(images, ref(img))
				addEntity(imageEntity(img, g.nodes[d]))
			}
		}
		switch len(images) {
		case 0:
		case 1:
			act["containerImage"] = images[0]
		default:
			act["containerImage"] = images
		}
		if len(a.Environment) > 0 {
			var env []jsonObj
			for _, k := range slices.Sorted(maps.Keys(a.Environment)) {
				pv := "#env-" + hexID + "-" + url.PathEscape(k)
				addEntity(jsonObj{"@id": pv, "@type": "PropertyValue", "name": k, "value": a.Environment[k]})
				env = append(env, ref(pv))
			}
			act["environment"] = env
		}
		if !a.StartedOn.IsZero() {
			act["startTime"] = a.StartedOn.UTC().Format(time.RFC3339Nano)
		}
		if !a.FinishedOn.IsZero() {
			act["endTime"] = a.FinishedOn.UTC().Format(time.RFC3339Nano)
		}
		signers := make([]jsonObj, len(a.Signers))
		for i, s := range a.Signers {
			signers[i] = ref(SignerIRI(s))
			signerEntities[s] = true
		}
		if people := g.people(a, addEntity); len(people) > 0 {
			act["agent"] = people
		} else {
			act["agent"] = signers
		}
		record := "#record-" + id.Encoded()
		rec := jsonObj{"@id": record, "@type": "CreativeWork", "name": "Signed provenance of " + a.Name,
			"identifier": string(id), "encodingFormat": inTotoStatementEncoding, "about": ref(ActivityIRI(id)), "author": signers,
			"description": "An in-toto statement of type " + a.PredicateType + ", signed and verified; its author signed it."}
		if !a.SignedAt.IsZero() {
			rec["dateCreated"] = a.SignedAt.UTC().Format(time.RFC3339Nano)
		}
		addEntity(rec)
		act["subjectOf"] = ref(record)
		actions = append(actions, act)
	}

	for _, r := range g.rebuilds {
		var object []jsonObj
		var names []string
		for _, d := range r.Artifacts {
			if f, ok := ids.file[d]; ok {
				object = append(object, ref(f))
				names = append(names, g.nodes[d].Label())
			}
		}
		if len(object) == 0 {
			continue // a rebuild of nothing the crate describes
		}
		hexID := r.ID.Encoded()[:16]
		outcome := "#rebuild-" + hexID + "-outcome"
		addEntity(jsonObj{"@id": outcome, "@type": "PropertyValue", "name": "outcome", "value": string(r.Outcome)})
		signers := make([]jsonObj, len(r.Signers))
		for i, s := range r.Signers {
			signers[i] = ref(SignerIRI(s))
			signerEntities[s] = true
		}
		check := jsonObj{"@id": ActivityIRI(r.ID), "@type": "AssessAction", "name": "Rebuild check of " + strings.Join(names, ", "),
			"description": r.Summary, "object": object, "result": ref(outcome), "endTime": r.CheckedOn.UTC().Format(time.RFC3339Nano),
			"agent": signers, "actionStatus": ref(completedActionStatus)}
		record := "#record-" + r.ID.Encoded()
		addEntity(jsonObj{"@id": record, "@type": "CreativeWork", "name": "Signed rebuild check of " + strings.Join(names, ", "),
			"identifier": string(r.ID), "encodingFormat": inTotoStatementEncoding, "about": ref(ActivityIRI(r.ID)), "author": signers,
			"description": "An in-toto statement of type " + rebuild.PredicateType + ", signed and verified; its author signed it."})
		check["subjectOf"] = ref(record)
		actions = append(actions, check)
	}

	conformsTo := []jsonObj{ref(ProcessRunCrateProfile)}
	descriptorConforms := []jsonObj{ref(ROCrateSpec)}
	profiles := []jsonObj{{"@id": ProcessRunCrateProfile, "@type": "CreativeWork", "name": "Process Run Crate", "version": "0.5"}}
	var main jsonObj
	if c.Workflow != "" {
		wf, runs, err := g.workflowRuns(c.Workflow, ids, exampleOf, addEntity)
		if err != nil {
			return nil, err
		}
		main = wf
		conformsTo = append(conformsTo, ref(WorkflowRunCrateProfile), ref(WorkflowROCrateProfile))
		descriptorConforms = append(descriptorConforms, ref(WorkflowROCrateProfile))
		profiles = append(profiles,
			jsonObj{"@id": WorkflowRunCrateProfile, "@type": "CreativeWork", "name": "Workflow Run Crate", "version": "0.5"},
			jsonObj{"@id": WorkflowROCrateProfile, "@type": "CreativeWork", "name": "Workflow RO-Crate", "version": "1.0"})
		actions = append(runs, actions...)
	}

	var files []jsonObj
	var parts []jsonObj
	if main != nil {
		parts = append(parts, ref(main["@id"].(string)))
	}
	for _, d := range g.order {
		id, ok := ids.file[d]
		if !ok {
			continue
		}
		n := g.nodes[d]
		e := jsonObj{"@id": id, "@type": "File", "name": n.Label(), "identifier": digestStrings(n.Digests)}
		for _, x := range n.Digests {
			if x.Algorithm() == digest.SHA256 {
				e["sha256"] = x.Encoded()
			}
		}
		var urls []string
		for _, u := range n.URIs {
			if strings.Contains(u, "://") {
				urls = append(urls, u)
			}
		}
		if len(urls) > 0 {
			e["url"] = urls
		}
		if h, ok := held[d]; ok {
			e["contentSize"] = fmt.Sprint(h.size)
			if len(n.Names) > 0 && n.Names[0] != h.path {
				e["alternateName"] = n.Names[0]
			}
		}
		if fps := exampleOf[d]; len(fps) > 0 {
			slices.Sort(fps)
			e["exampleOfWork"] = refsOf(slices.Compact(fps))
		}
		files = append(files, e)
		parts = append(parts, ref(id))
	}

	root := jsonObj{
		"@id": "./", "@type": "Dataset",
		"name": c.Name, "description": description,
		"datePublished": published.UTC().Format(time.RFC3339),
		"license":       ref(license),
		"conformsTo":    conformsTo,
		"hasPart":       parts,
		"mentions":      actionRefs(actions),
	}
	if main != nil {
		root["mainEntity"] = ref(main["@id"].(string))
	}
	graph := []jsonObj{
		{"@id": ROCrateMetadataFile, "@type": "CreativeWork", "conformsTo": descriptorConforms, "about": ref("./")},
		root,
		{"@id": ROCrateSpec, "@type": "CreativeWork", "name": "RO-Crate 1.1", "version": "1.1"},
	}
	graph = append(graph, profiles...)
	graph = append(graph, jsonObj{"@id": license, "@type": "CreativeWork", "name": c.License})
	if main != nil {
		graph = append(graph, main)
	}
	graph = append(graph, actions...)
	graph = append(graph, files...)
	for s := range signerEntities {
		kind := "Signing key "
		if !strings.HasPrefix(s, "key:") {
			kind = "Signing identity "
		}
		addEntity(jsonObj{"@id": SignerIRI(s), "@type": agentType(s), "name": s, "description": kind + s + ", which signed provenance records of this crate."})
	}
	for _, id := range slices.Sorted(maps.Keys(entities)) {
		contextual = append(contextual, entities[id])
	}
	graph = append(graph, contextual...)
	return jsonObj{
		"@context": []any{ROCrateContext, workflowRunContext, jsonObj{
			"ContainerImage": workflowRunTerms + "ContainerImage",
			"containerImage": workflowRunTerms + "containerImage",
			"environment":    workflowRunTerms + "environment",
			"registry":       workflowRunTerms + "registry",
			"sha256":         workflowRunTerms + "sha256",
			"tag":            workflowRunTerms + "tag",
		}},
		"@graph": graph,
	}, nil
}

func refsOf(ids []string) []jsonObj {
	out := make([]jsonObj, len(ids))
	for i, id := range ids {
		out[i] = ref(id)
	}
	return out
}

// people adds a Person entity for each person who ran a and returns references to them.
func (g *Graph) people(a *Activity, add func(jsonObj)) []jsonObj {
	var out []jsonObj
	for _, p := range a.Agents {
		id := AgentIRI(p)
		if id == "" || slices.ContainsFunc(out, func(r jsonObj) bool { return r["@id"] == id }) {
			continue
		}
		e := jsonObj{"@id": id, "@type": "Person", "name": agentLabel(p)}
		if p.Email != "" {
			e["email"] = p.Email
		}
		add(e)
		out = append(out, ref(id))
	}
	return out
}

// workflowRuns returns the ComputationalWorkflow entity of workflow and one CreateAction per run
// of it (the steps that recorded workflow, by run ID): their inputs that no step of the run
// made (tools aside), and their outputs that no step of the run read.
func (g *Graph) workflowRuns(name string, ids crateIDs, exampleOf map[digest.Digest][]string, add func(jsonObj)) (jsonObj, []jsonObj, error) {
	type run struct {
		made, read map[digest.Digest]bool
		start, end time.Time
		agents     []jsonObj
		signers    []string
		steps      []string
	}
	runs := map[string]*run{}
	tools := map[string]bool{}
	for _, id := range g.actOrder {
		a := g.activities[id]
		if a.Workflow != name || a.BuildType == "" {
			continue
		}
		r := runs[a.InvocationID]
		if r == nil {
			r = &run{made: map[digest.Digest]bool{}, read: map[digest.Digest]bool{}}
			runs[a.InvocationID] = r
		}
		tools[toolID(toolKey{a.Workflow, a.Name})] = true
		for _, d := range a.Outputs {
			r.made[d] = true
		}
		for _, d := range a.Inputs {
			if !slices.Contains(a.Instruments, d) {
				r.read[d] = true
			}
		}
		if !a.StartedOn.IsZero() && (r.start.IsZero() || a.StartedOn.Before(r.start)) {
			r.start = a.StartedOn
		}
		if a.FinishedOn.After(r.end) {
			r.end = a.FinishedOn
		}
		for _, p := range g.people(a, add) {
			if !slices.ContainsFunc(r.agents, func(x jsonObj) bool { return x["@id"] == p["@id"] }) {
				r.agents = append(r.agents, p)
			}
		}
		r.signers = append(r.signers, a.Signers...)
		r.steps = append(r.steps, a.Name)
	}
	if len(runs) == 0 {
		return nil, nil, fmt.Errorf("%w: no step recorded the workflow %q", ErrInvalidCrate, name)
	}
	wfID := name
	if !strings.Contains(wfID, "://") {
		wfID = "#workflow-" + url.PathEscape(name)
	}
	language := workflow.BuildType
	add(jsonObj{"@id": language, "@type": "ComputerLanguage", "name": "provkit workflow step", "identifier": language, "url": language})
	wf := jsonObj{"@id": wfID, "@type": []string{"File", "SoftwareSourceCode", "ComputationalWorkflow"}, "name": name,
		"programmingLanguage": ref(language), "hasPart": refsOf(slices.Sorted(maps.Keys(tools)))}
	if strings.Contains(name, "://") {
		wf["url"] = name
	}
	var inputs, outputs []jsonObj
	var actions []jsonObj
	for _, runID := range slices.Sorted(maps.Keys(runs)) {
		r := runs[runID]
		var object, result []jsonObj
		for _, d := range g.order {
			f, ok := ids.file[d]
			if !ok {
				continue
			}
			if r.read[d] && !r.made[d] {
				fp := localID("workflow-input", d)
				if !slices.ContainsFunc(inputs, func(x jsonObj) bool { return x["@id"] == fp }) {
					add(jsonObj{"@id": fp, "@type": "FormalParameter", "name": g.nodes[d].Label(), "additionalType": "File"})
					inputs = append(inputs, ref(fp))
				}
				exampleOf[d] = append(exampleOf[d], fp)
				object = append(object, ref(f))
			}
			if r.made[d] && !r.read[d] {
				fp := localID("workflow-output", d)
				if !slices.ContainsFunc(outputs, func(x jsonObj) bool { return x["@id"] == fp }) {
					add(jsonObj{"@id": fp, "@type": "FormalParameter", "name": g.nodes[d].Label(), "additionalType": "File"})
					outputs = append(outputs, ref(fp))
				}
				exampleOf[d] = append(exampleOf[d], fp)
				result = append(result, ref(f))
			}
		}
		id := "#run-" + url.PathEscape(name)
		label := "Run of " + name
		if runID != "" {
			id += "/" + url.PathEscape(runID)
			label += " (run " + runID + ")"
		}
		slices.Sort(r.steps)
		act := jsonObj{"@id": id, "@type": "CreateAction", "name": label, "instrument": ref(wfID), "result": result,
			"actionStatus": ref(completedActionStatus),
			"description":  fmt.Sprintf("%d verified steps of %s: %s.", len(r.steps), name, strings.Join(slices.Compact(r.steps), ", "))}
		if runID != "" {
			act["identifier"] = runID
		}
		if len(object) > 0 {
			act["object"] = object
		}
		if !r.start.IsZero() {
			act["startTime"] = r.start.UTC().Format(time.RFC3339Nano)
		}
		if !r.end.IsZero() {
			act["endTime"] = r.end.UTC().Format(time.RFC3339Nano)
		}
		if len(r.agents) > 0 {
			act["agent"] = r.agents
		} else {
			slices.Sort(r.signers)
			var signers []jsonObj
			for _, s := range slices.Compact(r.signers) {
				signers = append(signers, ref(SignerIRI(s)))
			}
			act["agent"] = signers
		}
		actions = append(actions, act)
	}
	if len(inputs) > 0 {
		wf["input"] = inputs
	}
	if len(outputs) > 0 {
		wf["output"] = outputs
	}
	return wf, actions, nil
}

func actionRefs(actions []jsonObj) []jsonObj {
	out := make([]jsonObj, len(actions))
	for i, a := range actions {
		out[i] = ref(a["@id"].(string))
	}
	return out
}

// agentType types a signer for RO-Crate, whose profiles ask for a Person or Organization: a
// certificate for an email address is a Person; a key, or a certificate for a workflow or
// service, is held by an Organization.
func agentType(label string) string {
	san, _, _ := strings.Cut(label, " (")
	if !strings.HasPrefix(label, "key:") && strings.Contains(san, "@") && !strings.Contains(san, "/") {
		return "Person"
	}
	return "Organization"
}
