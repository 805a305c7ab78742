package lineage

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
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
// Process Run Crate profile of the Workflow Run RO-Crate family: each SLSA step is a
// CreateAction with instrument its container image (its resolved dependency of role
// provenance.RoleToolchain; else its builder), object its other inputs, result its outputs,
// startTime and endTime when recorded, and agent its signers. Artifacts are File entities named
// by ArtifactIRI, listed in the root's hasPart, with their names, digests (identifier, and
// sha256 from the Workflow Run terms) and URLs; container images are SoftwareApplication and
// ContainerImage. Statements of other predicate types have no action. Every @id the crate
// refers to is an entity of the crate.
//
// A Crate without Name or License, or without a date to publish, fails with an error wrapping
// ErrInvalidCrate. The same graph and Crate always give the same bytes.
func (g *Graph) WriteROCrate(w io.Writer, c Crate) error {
	if c.Name == "" {
		return fmt.Errorf("%w: Name is required", ErrInvalidCrate)
	}
	if c.License == "" {
		return fmt.Errorf("%w: License is required", ErrInvalidCrate)
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
			return fmt.Errorf("%w: Published is required when the graph records no time", ErrInvalidCrate)
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

	instrument := map[digest.Digest]bool{}
	var actions, tools, builders []jsonObj
	agents := map[string]bool{}
	builderSeen := map[string]bool{}
	for _, id := range g.actOrder {
		a := g.activities[id]
		if a.BuildType == "" {
			continue
		}
		act := jsonObj{"@id": ActivityIRI(id), "@type": "CreateAction", "name": a.Name,
			"result": refs(a.Outputs, ArtifactIRI)}
		switch {
		case len(a.Instruments) > 0:
			act["instrument"] = refs(a.Instruments, ArtifactIRI)
			for _, d := range a.Instruments {
				instrument[d] = true
			}
		case a.BuilderID != "":
			act["instrument"] = ref(a.BuilderID)
			if !builderSeen[a.BuilderID] {
				builderSeen[a.BuilderID] = true
				builders = append(builders, jsonObj{"@id": a.BuilderID, "@type": "SoftwareApplication", "name": a.BuilderID})
			}
		}
		var object []digest.Digest
		for _, d := range a.Inputs {
			if !slices.Contains(a.Instruments, d) {
				object = append(object, d)
			}
		}
		if len(object) > 0 {
			act["object"] = refs(object, ArtifactIRI)
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
			agents[s] = true
		}
		act["agent"] = signers
		actions = append(actions, act)
	}
	slices.SortFunc(builders, func(x, y jsonObj) int { return strings.Compare(x["@id"].(string), y["@id"].(string)) })

	var files []jsonObj
	var parts []digest.Digest
	for _, d := range g.order {
		n := g.nodes[d]
		e := jsonObj{"@id": ArtifactIRI(d), "name": n.Label()}
		ids := make([]string, len(n.Digests))
		for i, x := range n.Digests {
			ids[i] = string(x)
			if x.Algorithm() == digest.SHA256 {
				e["sha256"] = x.Encoded()
			}
		}
		e["identifier"] = ids
		var urls []string
		for _, u := range n.URIs {
			if strings.Contains(u, "://") {
				urls = append(urls, u)
			}
		}
		if len(urls) > 0 {
			e["url"] = urls
		}
		if instrument[d] {
			types := []string{"SoftwareApplication"}
			if slices.ContainsFunc(n.URIs, func(u string) bool { return strings.HasPrefix(u, "oci://") }) {
				types = append(types, "ContainerImage")
			}
			e["@type"] = types
			tools = append(tools, e)
			continue
		}
		e["@type"] = "File"
		files = append(files, e)
		parts = append(parts, d)
	}

	conformsTo := []jsonObj{ref(ProcessRunCrateProfile)}
	profiles := []jsonObj{{"@id": ProcessRunCrateProfile, "@type": "CreativeWork", "name": "Process Run Crate", "version": "0.5"}}
	var run []jsonObj
	if c.Workflow != "" {
		wf, runAction, err := g.workflowRun(c.Workflow)
		if err != nil {
			return err
		}
		conformsTo = append(conformsTo, ref(WorkflowRunCrateProfile))
		profiles = append(profiles, jsonObj{"@id": WorkflowRunCrateProfile, "@type": "CreativeWork", "name": "Workflow Run Crate", "version": "0.5"})
		actions = append([]jsonObj{runAction}, actions...)
		run = []jsonObj{wf}
	}
	root := jsonObj{
		"@id": "./", "@type": "Dataset",
		"name": c.Name, "description": description,
		"datePublished": published.UTC().Format(time.RFC3339),
		"license":       ref(license),
		"conformsTo":    conformsTo,
		"hasPart":       refs(parts, ArtifactIRI),
		"mentions":      actionRefs(actions),
	}
	graph := []jsonObj{
		{"@id": ROCrateMetadataFile, "@type": "CreativeWork", "conformsTo": ref(ROCrateSpec), "about": ref("./")},
		root,
		{"@id": ROCrateSpec, "@type": "CreativeWork", "name": "RO-Crate 1.1"},
	}
	graph = append(graph, profiles...)
	graph = append(graph, jsonObj{"@id": license, "@type": "CreativeWork", "name": c.License})
	if len(run) > 0 {
		root["mainEntity"] = ref(run[0]["@id"].(string))
		root["hasPart"] = append([]jsonObj{ref(run[0]["@id"].(string))}, root["hasPart"].([]jsonObj)...)
		graph = append(graph, run...)
	}
	graph = append(graph, actions...)
	graph = append(graph, files...)
	graph = append(graph, tools...)
	graph = append(graph, builders...)
	labels := make([]string, 0, len(agents))
	for s := range agents {
		labels = append(labels, s)
	}
	slices.Sort(labels)
	for _, s := range labels {
		graph = append(graph, jsonObj{"@id": SignerIRI(s), "@type": agentType(s), "name": s})
	}
	return writeJSON(w, jsonObj{
		"@context": []any{ROCrateContext, jsonObj{
			"ContainerImage": workflowRunTerms + "ContainerImage",
			"sha256":         workflowRunTerms + "sha256",
		}},
		"@graph": graph,
	})
}

// workflowRun returns the ComputationalWorkflow entity of workflow and the CreateAction of its
// run: the steps that recorded workflow, their inputs that no step of the run made (tools
// aside), and their outputs that no step of the run read.
func (g *Graph) workflowRun(workflow string) (wf, run jsonObj, err error) {
	made, read, tools := map[digest.Digest]bool{}, map[digest.Digest]bool{}, map[digest.Digest]bool{}
	var start, end time.Time
	steps := 0
	for _, id := range g.actOrder {
		a := g.activities[id]
		if a.Workflow != workflow || a.BuildType == "" {
			continue
		}
		steps++
		for _, d := range a.Outputs {
			made[d] = true
		}
		for _, d := range a.Inputs {
			read[d] = true
		}
		for _, d := range a.Instruments {
			tools[d] = true
		}
		if !a.StartedOn.IsZero() && (start.IsZero() || a.StartedOn.Before(start)) {
			start = a.StartedOn
		}
		if a.FinishedOn.After(end) {
			end = a.FinishedOn
		}
	}
	if steps == 0 {
		return nil, nil, fmt.Errorf("%w: no step recorded the workflow %q", ErrInvalidCrate, workflow)
	}
	var object, result []digest.Digest
	for _, d := range g.order {
		if read[d] && !made[d] && !tools[d] {
			object = append(object, d)
		}
		if made[d] && !read[d] {
			result = append(result, d)
		}
	}
	wfID := workflow
	if !strings.Contains(wfID, ":") {
		wfID = "#workflow-" + url.PathEscape(workflow)
	}
	wf = jsonObj{"@id": wfID, "@type": []string{"File", "SoftwareSourceCode", "ComputationalWorkflow"}, "name": workflow}
	run = jsonObj{"@id": "#run-" + url.PathEscape(workflow), "@type": "CreateAction",
		"name": "Run of " + workflow, "instrument": ref(wfID), "result": refs(result, ArtifactIRI)}
	if len(object) > 0 {
		run["object"] = refs(object, ArtifactIRI)
	}
	if !start.IsZero() {
		run["startTime"] = start.UTC().Format(time.RFC3339Nano)
	}
	if !end.IsZero() {
		run["endTime"] = end.UTC().Format(time.RFC3339Nano)
	}
	return wf, run, nil
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
