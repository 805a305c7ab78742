package lineage_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/verify/lineage"
)

type entity = map[string]any

// graphOf indexes a JSON-LD document's @graph by @id, failing on duplicate or missing ids.
func graphOf(t *testing.T, doc map[string]any) map[string]entity {
	t.Helper()
	items, ok := doc["@graph"].([]any)
	if !ok {
		t.Fatalf("@graph is %T", doc["@graph"])
	}
	byID := map[string]entity{}
	for _, it := range items {
		e := it.(map[string]any)
		id, _ := e["@id"].(string)
		if id == "" {
			t.Fatalf("entity without @id: %v", e)
		}
		if _, dup := byID[id]; dup {
			t.Fatalf("two entities with @id %s", id)
		}
		byID[id] = e
	}
	return byID
}

// ids returns the @id of a reference or of each reference in a list.
func ids(v any) []string {
	switch x := v.(type) {
	case map[string]any:
		id, _ := x["@id"].(string)
		return []string{id}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, ids(e)...)
		}
		return out
	}
	return nil
}

func types(e entity) []string {
	switch x := e["@type"].(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, s := range x {
			out = append(out, s.(string))
		}
		return out
	}
	return nil
}

// references collects every {"@id": ...} object nested in v that is a reference (holds only
// @id), except values of @id itself.
func references(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		if id, ok := x["@id"].(string); ok && len(x) == 1 {
			if !strings.HasPrefix(id, "http://schema.org/") && !strings.HasPrefix(id, "https://w3id.org/ro/terms/workflow-run#") && !strings.HasPrefix(id, "provkit:") {
				*out = append(*out, id)
			}
			return
		}
		for k, e := range x {
			if k != "@id" {
				references(e, out)
			}
		}
	case []any:
		for _, e := range x {
			references(e, out)
		}
	}
}

func iris(ds ...digest.Digest) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = lineage.ArtifactIRI(d)
	}
	slices.Sort(out)
	return out
}

// TestROCrate checks the crate against the rules of RO-Crate 1.1 and the Process Run Crate
// profile: the context, the metadata descriptor, the root data entity and its required
// properties, data entities reachable through hasPart, every reference resolved, and one
// CreateAction per step with its instrument, object and result.
func TestROCrate(t *testing.T) {
	p, g := pipelineGraph(t)
	for _, workflow := range []string{"", "survey-model"} {
		t.Run("workflow="+workflow, func(t *testing.T) {
			var buf bytes.Buffer
			if err := g.WriteROCrate(&buf, lineage.Crate{Name: "Survey model, run 1", License: "CC-BY-4.0", Workflow: workflow}); err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			checkROCrate(t, p, doc, workflow)
		})
	}
}

func checkROCrate(t *testing.T, p *pipeline, doc map[string]any, workflow string) {
	t.Helper()

	// @context: the RO-Crate 1.1 context, alone or first of a list.
	switch c := doc["@context"].(type) {
	case string:
		if c != "https://w3id.org/ro/crate/1.1/context" {
			t.Fatalf("@context %q", c)
		}
	case []any:
		if len(c) == 0 || c[0] != "https://w3id.org/ro/crate/1.1/context" {
			t.Fatalf("@context %v", c)
		}
	default:
		t.Fatalf("@context is %T", c)
	}
	byID := graphOf(t, doc)

	// The metadata descriptor.
	md, ok := byID["ro-crate-metadata.json"]
	if !ok || !slices.Contains(types(md), "CreativeWork") {
		t.Fatalf("metadata descriptor %v", md)
	}
	if c := ids(md["conformsTo"]); len(c) == 0 || c[0] != "https://w3id.org/ro/crate/1.1" {
		t.Fatalf("descriptor conformsTo %v", c)
	}
	if a := ids(md["about"]); !slices.Equal(a, []string{"./"}) {
		t.Fatalf("descriptor about %v", a)
	}

	// The root data entity: a Dataset with name, description, datePublished (ISO 8601) and
	// license, conforming to the Process Run Crate profile.
	root := byID["./"]
	if !slices.Contains(types(root), "Dataset") {
		t.Fatalf("root %v", root)
	}
	for _, k := range []string{"name", "description", "datePublished"} {
		if s, _ := root[k].(string); s == "" {
			t.Errorf("root lacks %s", k)
		}
	}
	if ts, err := time.Parse(time.RFC3339, root["datePublished"].(string)); err != nil || !ts.Equal(time.Date(2026, 3, 1, 9, 9, 0, 0, time.UTC)) {
		t.Errorf("datePublished %v (%v): want the last step's end", root["datePublished"], err)
	}
	if l := ids(root["license"]); !slices.Equal(l, []string{"https://spdx.org/licenses/CC-BY-4.0"}) {
		t.Errorf("license %v", l)
	}
	if c := ids(root["conformsTo"]); !slices.Contains(c, lineage.ProcessRunCrateProfile) {
		t.Errorf("root conformsTo %v", c)
	}

	// Every reference names an entity of the crate.
	var refs []string
	references(doc["@graph"], &refs)
	for _, r := range refs {
		if _, ok := byID[r]; !ok {
			t.Errorf("reference to %s, which is not an entity", r)
		}
	}

	// Data entities: every File is in hasPart and every part is a File, named by its URL
	// when it has one, else by a local id; never by a URN.
	parts := ids(root["hasPart"])
	fileOf := map[digest.Digest]string{}
	for id, e := range byID {
		if slices.Contains(types(e), "File") != slices.Contains(parts, id) {
			t.Errorf("%s: File %v, in hasPart %v", id, slices.Contains(types(e), "File"), slices.Contains(parts, id))
		}
		if h, ok := e["sha256"].(string); ok && slices.Contains(types(e), "File") {
			fileOf[digest.NewDigestFromEncoded(digest.SHA256, h)] = id
		}
		if strings.HasPrefix(id, "urn:") && slices.Contains(types(e), "File") {
			t.Errorf("data entity named by a URN: %s", id)
		}
	}
	files := func(ds ...digest.Digest) []string {
		var out []string
		for _, d := range ds {
			out = append(out, fileOf[d])
		}
		slices.Sort(out)
		return out
	}
	wantFiles := files(p.survey, p.raw, p.clean, p.config, p.model, p.metrics)
	if workflow != "" {
		wantFiles = append(wantFiles, "#workflow-"+workflow)
		slices.Sort(wantFiles)
	}
	slices.Sort(parts)
	if !slices.Equal(parts, wantFiles) {
		t.Errorf("hasPart %v\nwant %v", parts, wantFiles)
	}
	if fileOf[p.survey] != "https://data.example/surveys/2026/export.csv" || fileOf[p.model] != "#file-"+strings.ReplaceAll(p.model.String(), ":", "-") {
		t.Errorf("file ids %v", fileOf)
	}
	if model := byID[fileOf[p.model]]; model["name"] != "model.json" || model["sha256"] != p.model.Encoded() {
		t.Errorf("model entity %v", model)
	}

	// One CreateAction per step, mentioned by the root, with the step's tool as instrument
	// and its image as containerImage.
	want := map[string]struct{ object, result []string }{
		"ingest": {files(p.survey), files(p.raw)},
		"clean":  {files(p.raw), files(p.clean)},
		"train":  {files(p.clean, p.config), files(p.model, p.metrics)},
	}
	images := map[string]digest.Digest{"ingest": p.ingestImage, "clean": p.cleanImage, "train": p.trainImage}
	mentions := ids(root["mentions"])
	var seen int
	for id, e := range byID {
		if !slices.Contains(types(e), "CreateAction") {
			continue
		}
		seen++
		name, _ := e["name"].(string)
		if strings.HasPrefix(name, "Run of ") {
			checkWorkflowRun(t, p, byID, root, e, files)
			continue
		}
		w, ok := want[name]
		if !ok {
			t.Errorf("unexpected action %s", name)
			continue
		}
		var object []string
		for _, o := range ids(e["object"]) {
			if !slices.Contains(types(byID[o]), "PropertyValue") {
				object = append(object, o)
			}
		}
		got := struct{ object, result []string }{object, ids(e["result"])}
		for _, l := range [][]string{got.object, got.result} {
			slices.Sort(l)
		}
		if !slices.Equal(got.object, w.object) || !slices.Equal(got.result, w.result) {
			t.Errorf("action %s: %+v\nwant %+v", name, got, w)
		}
		if !slices.Contains(mentions, id) {
			t.Errorf("action %s not mentioned by the root", name)
		}
		tool := byID[ids(e["instrument"])[0]]
		if !slices.Equal(types(tool), []string{"SoftwareApplication"}) || tool["name"] != name {
			t.Errorf("instrument of %s: %v", name, tool)
		}
		img := byID[ids(e["containerImage"])[0]]
		if !slices.Equal(types(img), []string{"ContainerImage"}) || img["registry"] != "registry.example" || img["name"] != "tools/"+name || img["sha256"] != images[name].Encoded() {
			t.Errorf("containerImage of %s: %v", name, img)
		}
		if _, err := time.Parse(time.RFC3339, e["startTime"].(string)); err != nil {
			t.Errorf("startTime of %s: %v", name, err)
		}
		for _, a := range ids(e["agent"]) {
			if ag := byID[a]; !slices.Contains(types(ag), "Organization") {
				t.Errorf("agent %v", ag)
			}
		}
	}
	if wantActions := map[bool]int{false: 3, true: 4}[workflow != ""]; seen != wantActions {
		t.Errorf("%d actions, want %d", seen, wantActions)
	}
}

// checkWorkflowRun checks the Workflow Run Crate parts: the workflow as the root's main entity
// and the run as a CreateAction from the pipeline's raw input to its final outputs.
func checkWorkflowRun(t *testing.T, p *pipeline, byID map[string]entity, root, run entity, files func(...digest.Digest) []string) {
	t.Helper()
	main := ids(root["mainEntity"])
	if len(main) != 1 || !slices.Equal(ids(run["instrument"]), main) {
		t.Fatalf("mainEntity %v, run instrument %v", main, ids(run["instrument"]))
	}
	if wf := byID[main[0]]; !slices.Contains(types(wf), "ComputationalWorkflow") || !slices.Contains(types(wf), "File") || len(ids(wf["programmingLanguage"])) != 1 {
		t.Errorf("workflow entity %v", wf)
	}
	if c := ids(root["conformsTo"]); !slices.Contains(c, lineage.WorkflowRunCrateProfile) {
		t.Errorf("root conformsTo %v", c)
	}
	obj, res := ids(run["object"]), ids(run["result"])
	slices.Sort(obj)
	slices.Sort(res)
	if !slices.Equal(obj, files(p.survey, p.config)) || !slices.Equal(res, files(p.model, p.metrics)) {
		t.Errorf("run object %v, result %v", obj, res)
	}
	if run["startTime"] != "2026-03-01T09:00:00Z" || run["endTime"] != "2026-03-01T09:09:00Z" || run["identifier"] != "run-1" {
		t.Errorf("run times %v %v, id %v", run["startTime"], run["endTime"], run["identifier"])
	}
}

func TestROCrateErrors(t *testing.T) {
	_, g := pipelineGraph(t)
	for name, c := range map[string]lineage.Crate{
		"no name":          {License: "MIT"},
		"no license":       {Name: "x"},
		"no such workflow": {Name: "x", License: "MIT", Workflow: "other"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := g.WriteROCrate(&bytes.Buffer{}, c); !errors.Is(err, lineage.ErrInvalidCrate) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("no date", func(t *testing.T) {
		empty, err := lineage.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := empty.WriteROCrate(&bytes.Buffer{}, lineage.Crate{Name: "x", License: "MIT"}); !errors.Is(err, lineage.ErrInvalidCrate) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestPROV parses the JSON-LD back and checks the PROV-O terms and the relations of the
// pipeline.
func TestPROV(t *testing.T) {
	p, g := pipelineGraph(t)
	var buf bytes.Buffer
	if err := g.WritePROV(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	ctx, _ := doc["@context"].(map[string]any)
	if ctx["prov"] != "http://www.w3.org/ns/prov#" {
		t.Fatalf("@context %v", doc["@context"])
	}
	byID := graphOf(t, doc)
	count := map[string]int{}
	for _, e := range byID {
		for _, ty := range types(e) {
			count[ty]++
		}
	}
	// 9 artifacts, 2 parameters, 3 plans; 3 images; 2 signing keys.
	if count["prov:Entity"] != 14 || count["prov:Activity"] != 3 || count["prov:Agent"] != 2 || count["prov:Plan"] != 3 ||
		count["provkit:Parameter"] != 2 || count["provkit:ContainerImage"] != 3 || count["provkit:SigningKey"] != 2 {
		t.Fatalf("types %v", count)
	}
	model := byID[lineage.ArtifactIRI(p.model)]
	gen := ids(model["prov:wasGeneratedBy"])
	if len(gen) != 1 {
		t.Fatalf("model wasGeneratedBy %v", gen)
	}
	if d := ids(model["prov:wasDerivedFrom"]); !slices.Equal(d, iris(p.clean, p.config)) {
		t.Errorf("model wasDerivedFrom %v", d)
	}
	train := byID[gen[0]]
	if !slices.Contains(types(train), "prov:Activity") || train["rdfs:label"] != "train" {
		t.Fatalf("train activity %v", train)
	}
	if u := ids(train["prov:used"]); !slices.Equal(u, append(iris(p.clean, p.config, p.trainImage), train["@id"].(string)+"/parameter/seed")) {
		t.Errorf("train used %v", u)
	}
	if gd := ids(train["prov:generated"]); !slices.Equal(gd, iris(p.model, p.metrics)) {
		t.Errorf("train generated %v", gd)
	}
	roles := map[string]string{}
	for _, u := range train["prov:qualifiedUsage"].([]any) {
		u := u.(map[string]any)
		roles[ids(u["prov:entity"])[0]] = ids(u["prov:hadRole"])[0]
	}
	if roles[lineage.ArtifactIRI(p.trainImage)] != "provkit:containerImage" || roles[lineage.ArtifactIRI(p.clean)] != "provkit:input" {
		t.Errorf("usage roles %v", roles)
	}
	agents := ids(train["prov:wasAssociatedWith"])
	if !slices.Equal(agents, []string{lineage.SignerIRI("key:bob")}) {
		t.Fatalf("train wasAssociatedWith %v", agents)
	}
	if a := byID[agents[0]]; !slices.Contains(types(a), "prov:Agent") || !slices.Contains(types(a), "provkit:SigningKey") || a["rdfs:label"] != "key:bob" {
		t.Errorf("agent %v", a)
	}
	started, _ := train["prov:startedAtTime"].(map[string]any)
	if started["@type"] != "xsd:dateTime" || started["@value"] != "2026-03-01T09:04:00Z" {
		t.Errorf("startedAtTime %v", started)
	}
	var refs []string
	references(doc["@graph"], &refs)
	for _, r := range refs {
		if _, ok := byID[r]; !ok {
			t.Errorf("reference to %s, which is not described", r)
		}
	}
	if raw := byID[lineage.ArtifactIRI(p.survey)]; raw["prov:wasGeneratedBy"] != nil {
		t.Errorf("raw data has a generator: %v", raw)
	}
}

func TestDOT(t *testing.T) {
	p, g := pipelineGraph(t)
	var buf bytes.Buffer
	if err := g.WriteDOT(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"digraph lineage {\n",
		`"` + p.model.String() + `" [label="model.json\nsha256:` + p.model.Encoded()[:12] + `"];`,
		`"` + p.raw.String() + `" -> "` + p.clean.String() + `" [label="clean\nkey:alice", tooltip="clean: dropIncomplete=true"];`,
		`"` + p.survey.String() + `" -> "` + p.raw.String() + `" [label="ingest\nkey:alice"];`,
		`"` + p.trainImage.String() + `" -> "` + p.model.String() + `" [label="train\nkey:bob", tooltip="train: seed=42", style=dashed];`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("DOT lacks %s\n%s", want, out)
		}
	}
	if n := strings.Count(out, " -> "); n != 10 {
		t.Errorf("%d edges", n)
	}
}
