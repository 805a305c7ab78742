package lineage_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/provenance/rebuild"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/lineage"
	"google.golang.org/protobuf/types/known/structpb"
)

// study is a four-step analysis run for real on files, as a research group would record it:
// ingest a survey export, clean it with a lower bound of -40 (min=-40), fit a model, and plot
// the figure of the paper. Every step names the people who ran it, its command line,
// parameters and environment; it is signed by a key and verified. Then the figure is rebuilt
// (and matches) and the model is rebuilt on other hardware (and differs), each check signed.
type study struct {
	dir                                             string
	export, raw, clean, config, model, metrics, fig digest.Digest
	images                                          map[string]digest.Digest
	results                                         []*verify.Result
	statements                                      map[string]*intoto.Statement
	ada, grace                                      workflow.Agent
	data                                            map[digest.Digest]string // artifact -> file name in dir
	verifier                                        *verify.Verifier
	identity                                        verify.Identity
	alice, bob                                      crypto.Signer
}

var studyStart = time.Date(2026, 5, 4, 14, 0, 0, 0, time.UTC)

func newStudy(t testing.TB) *study {
	t.Helper()
	s := &study{dir: t.TempDir(), images: map[string]digest.Digest{}, statements: map[string]*intoto.Statement{}, data: map[digest.Digest]string{}}
	s.alice, s.bob = ecdsaKey(t), ecdsaKey(t)
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "alice", Key: s.alice.Public()}, verify.PublicKey{ID: "bob", Key: s.bob.Public()})
	if err != nil {
		t.Fatal(err)
	}
	s.verifier, err = verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	if err != nil {
		t.Fatal(err)
	}
	s.identity = verify.KeyIDs("alice", "bob")
	s.ada = workflow.Agent{Name: "Ada Lovelace", ORCID: "0000-0002-1825-0097"}
	s.grace = workflow.Agent{Name: "Grace Hopper", Email: "grace@lab.example"}
	file := func(name, content string) *intoto.ResourceDescriptor {
		rd := writeFile(t, s.dir, name, content)
		s.data[sha256Of(t, rd)] = name
		return rd
	}

	// Step 1, ingest: the survey export, as downloaded, becomes raw.csv.
	export := file("export.csv", "ID,TEMP\r\n1,-52\r\n2,-12\r\n3,18\r\n4,\r\n5,33\r\n")
	export.Uri, export.Name = "https://data.example/surveys/2026/export.csv", ""
	raw := file("raw.csv", "id,temp\n1,-52\n2,-12\n3,18\n4,\n5,33\n")
	// Step 2, clean: keep readings of at least min=-40 and at most max=120.
	clean := file("clean.csv", "id,temp\n2,-12\n3,18\n5,33\n")
	// Step 3, fit: the mean temperature, from the clean data and a configuration file.
	config := file("fit.json", `{"method":"mean"}`)
	model := file("model.json", `{"mean":13}`)
	metrics := file("metrics.json", `{"rows":3}`)
	// Step 4, plot: the paper's figure.
	fig := file("figure-2.svg", `<svg xmlns="http://www.w3.org/2000/svg"><text>mean 13</text></svg>`)
	s.export, s.raw, s.clean, s.config = sha256Of(t, export), sha256Of(t, raw), sha256Of(t, clean), sha256Of(t, config)
	s.model, s.metrics, s.fig = sha256Of(t, model), sha256Of(t, metrics), sha256Of(t, fig)

	steps := []struct {
		key    crypto.Signer
		step   *workflow.Step
		output digest.Digest
	}{
		{s.alice, &workflow.Step{Name: "ingest", Command: []string{"ingest", "https://data.example/surveys/2026/export.csv", "-o", "raw.csv"},
			Inputs: []*intoto.ResourceDescriptor{export}, Outputs: []*intoto.ResourceDescriptor{raw}, Agents: []workflow.Agent{s.ada}}, s.raw},
		{s.alice, &workflow.Step{Name: "clean", Command: []string{"clean", "--min=-40", "--max=120", "raw.csv", "-o", "clean.csv"},
			Parameters:  map[string]any{"min": -40, "max": 120, "dropIncomplete": true},
			Environment: map[string]string{"LC_ALL": "C"},
			Inputs:      []*intoto.ResourceDescriptor{raw}, Outputs: []*intoto.ResourceDescriptor{clean}, Agents: []workflow.Agent{s.ada, s.grace}}, s.clean},
		{s.bob, &workflow.Step{Name: "fit", Command: []string{"fit", "--config", "fit.json", "clean.csv"},
			Parameters: map[string]any{"seed": 7}, ToolVersions: map[string]string{"python": "3.12.1", "numpy": "2.1.0"},
			Inputs: []*intoto.ResourceDescriptor{clean, config}, Outputs: []*intoto.ResourceDescriptor{model, metrics}, Agents: []workflow.Agent{s.grace}}, s.model},
		{s.bob, &workflow.Step{Name: "plot", Command: []string{"plot", "model.json", "-o", "figure 2.svg"},
			Parameters: map[string]any{"title": "Mean temperature", "dpi": 300},
			Inputs:     []*intoto.ResourceDescriptor{model}, Outputs: []*intoto.ResourceDescriptor{fig}, Agents: []workflow.Agent{s.grace}}, s.fig},
	}
	for i, st := range steps {
		name := st.step.Name
		s.images[name] = digest.FromString(name + " image manifest")
		st.step.Workflow, st.step.RunID = "heat-study", "run-7"
		st.step.Image = "ghcr.io/lab/" + name + ":1." + string(rune('0'+i)) + "@" + s.images[name].String()
		st.step.BuilderID = "https://ci.lab.example/runners/science"
		st.step.StartedOn = studyStart.Add(time.Duration(10*i) * time.Minute)
		st.step.FinishedOn = st.step.StartedOn.Add(5 * time.Minute)
		statement, err := st.step.Statement()
		if err != nil {
			t.Fatal(err)
		}
		s.statements[name] = statement
		s.results = append(s.results, s.verifyStatement(t, st.key, statement, st.output))
	}

	// The rebuilds: the figure matches; the model, rebuilt elsewhere, differs.
	figRebuild := s.rebuild(t, "plot", []*intoto.ResourceDescriptor{fig}, studyStart.Add(2*time.Hour))
	s.results = append(s.results, s.verifyStatement(t, s.bob, figRebuild, s.fig))
	otherModel := digest.FromString(`{"mean":13.000001}`)
	other := &intoto.ResourceDescriptor{Name: "model.json", Digest: map[string]string{"sha256": otherModel.Encoded()}}
	modelRebuild := s.rebuild(t, "fit", []*intoto.ResourceDescriptor{other, metrics}, studyStart.Add(3*time.Hour))
	s.results = append(s.results, s.verifyStatement(t, s.alice, modelRebuild, s.model))
	return s
}

func (s *study) verifyStatement(t testing.TB, key crypto.Signer, st *intoto.Statement, subject digest.Digest) *verify.Result {
	t.Helper()
	res, err := s.verifier.Verify(context.Background(), signStatement(t, key, st), subject, s.identity)
	if err != nil {
		t.Fatalf("%s: %v", st.GetPredicateType(), err)
	}
	return res
}

func (s *study) rebuild(t testing.TB, step string, rebuilt []*intoto.ResourceDescriptor, at time.Time) *intoto.Statement {
	t.Helper()
	res, err := rebuild.Check(rebuild.Input{Original: s.statements[step], Rebuilt: rebuilt, CheckedOn: at})
	if err != nil {
		t.Fatal(err)
	}
	st, err := res.Statement()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (s *study) graph(t testing.TB) *lineage.Graph {
	t.Helper()
	g, err := lineage.New(s.results)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func activityNamed(t *testing.T, g *lineage.Graph, name string) *lineage.Activity {
	t.Helper()
	for _, a := range g.Activities() {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no activity %s", name)
	return nil
}

// TestActivityRecordsStep: what each verified step recorded reaches the graph.
func TestActivityRecordsStep(t *testing.T) {
	s := newStudy(t)
	g := s.graph(t)
	clean := activityNamed(t, g, "clean")
	if clean.Parameters["min"] != -40.0 || clean.Parameters["max"] != 120.0 || clean.Parameters["dropIncomplete"] != true {
		t.Errorf("parameters %v", clean.Parameters)
	}
	if !slices.Equal(clean.Command, []string{"clean", "--min=-40", "--max=120", "raw.csv", "-o", "clean.csv"}) {
		t.Errorf("command %v", clean.Command)
	}
	if clean.Environment["LC_ALL"] != "C" || clean.InvocationID != "run-7" || clean.Workflow != "heat-study" {
		t.Errorf("environment %v, run %q, workflow %q", clean.Environment, clean.InvocationID, clean.Workflow)
	}
	want := []workflow.Agent{{Name: "Ada Lovelace", ORCID: "https://orcid.org/0000-0002-1825-0097"}, {Name: "Grace Hopper", Email: "grace@lab.example"}}
	if !slices.Equal(clean.Agents, want) {
		t.Errorf("agents %+v", clean.Agents)
	}
	if fit := activityNamed(t, g, "fit"); fit.ToolVersions["python"] != "3.12.1" || fit.ToolVersions["numpy"] != "2.1.0" {
		t.Errorf("tool versions %v", fit.ToolVersions)
	}
	if !strings.HasPrefix(clean.Image, "ghcr.io/lab/clean:1.1@sha256:") {
		t.Errorf("image %q", clean.Image)
	}
}

// TestRebuildsAreNotSteps: a rebuild statement does not become the step that made the file
// it rebuilt; it is a Rebuild of that file, with its outcome, signer and time.
func TestRebuildsAreNotSteps(t *testing.T) {
	s := newStudy(t)
	g := s.graph(t)
	if n := len(g.Activities()); n != 4 {
		t.Fatalf("%d activities, want the 4 steps", n)
	}
	for _, a := range g.Activities() {
		if a.PredicateType == rebuild.PredicateType {
			t.Errorf("rebuild statement %s is an activity", a.ID)
		}
	}
	for _, e := range g.Edges() {
		if e.To == s.fig && e.Step != "plot" {
			t.Errorf("figure made by %s", e.Step)
		}
	}
	fig := g.Rebuilds(s.fig)
	if len(fig) != 1 || !fig[0].Matched() || !slices.Equal(fig[0].Signers, []string{"key:bob"}) ||
		!fig[0].CheckedOn.Equal(studyStart.Add(2*time.Hour)) || !slices.Equal(fig[0].Artifacts, []digest.Digest{s.fig}) {
		t.Fatalf("figure rebuilds %+v", fig)
	}
	plot := activityNamed(t, g, "plot")
	if fig[0].Original != plot.ID || !strings.HasPrefix(fig[0].Summary, "every output matched, but the inputs were not compared") {
		t.Errorf("original %s (plot is %s), summary %q", fig[0].Original, plot.ID, fig[0].Summary)
	}
	model := g.Rebuilds(s.model)
	if len(model) != 1 || model[0].Matched() || len(model[0].Differences) != 1 || model[0].Differences[0].Field != "subjects[model.json]" {
		t.Fatalf("model rebuilds %+v", model)
	}
	if m := g.Rebuilds(s.metrics); len(m) != 1 || m[0] != model[0] {
		t.Errorf("metrics rebuilds %+v", m)
	}
	if r := g.Rebuilds(s.raw); len(r) != 0 {
		t.Errorf("raw.csv rebuilds %+v", r)
	}
	if all := g.AllRebuilds(); len(all) != 2 || all[0] != fig[0] || all[1] != model[0] {
		t.Errorf("all rebuilds %+v", all)
	}
	// The mismatching rebuilt model is not a node: the graph holds what was recorded.
	if other := digest.FromString(`{"mean":13.000001}`); !slices.Contains(model[0].Rebuilt, other) {
		t.Errorf("rebuilt %v", model[0].Rebuilt)
	} else if _, ok := g.Node(other); ok {
		t.Error("the rebuilt model is a node of the graph")
	}
}

// TestParameterEverywhere: the clean step's min=-40 appears in every export.
func TestParameterEverywhere(t *testing.T) {
	s := newStudy(t)
	g := s.graph(t)
	clean := activityNamed(t, g, "clean")

	var prov bytes.Buffer
	if err := g.WritePROV(&prov); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(prov.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	p := graphOf(t, doc)[lineage.ParameterIRI(clean.ID, "min")]
	if p["rdfs:label"] != "min" || p["prov:value"] != -40.0 || !slices.Contains(types(p), "provkit:Parameter") {
		t.Errorf("PROV parameter %v", p)
	}

	var crate bytes.Buffer
	if err := g.WriteROCrate(&crate, lineage.Crate{Name: "Heat study", License: "CC-BY-4.0", Workflow: "heat-study"}); err != nil {
		t.Fatal(err)
	}
	doc = nil
	if err := json.Unmarshal(crate.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	byID := graphOf(t, doc)
	action := byID[lineage.ActivityIRI(clean.ID)]
	var found bool
	for _, o := range ids(action["object"]) {
		pv := byID[o]
		if pv["name"] == "min" {
			found = true
			fp := byID[ids(pv["exampleOfWork"])[0]]
			if pv["value"] != -40.0 || !slices.Contains(types(pv), "PropertyValue") || fp["name"] != "min" || fp["additionalType"] != "Integer" {
				t.Errorf("crate parameter %v, formal %v", pv, fp)
			}
		}
	}
	if !found {
		t.Errorf("the clean action has no min: %v", action["object"])
	}

	var dot bytes.Buffer
	if err := g.WriteDOT(&dot); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dot.String(), `tooltip="clean: dropIncomplete=true, max=120, min=-40"`) {
		t.Errorf("DOT lacks the parameters:\n%s", dot.String())
	}

	t.Run("HTML", func(t *testing.T) {
		var page bytes.Buffer
		if err := g.WriteHTML(t.Context(), &page, lineage.Report{Dot: testDot(t)}); err != nil {
			t.Fatal(err)
		}
		row := rowOf(t, page.String(), "step-"+strings.ReplaceAll(string(clean.ID), ":", "-"))
		if !strings.Contains(row, "<code>min=-40</code>") {
			t.Errorf("the step's row lacks min=-40: %s", row)
		}
	})
}

// TestWorkflowRunCrate checks the crate of the study with CheckROCrate: every MUST of RO-Crate
// 1.1, Process Run Crate 0.5, Workflow Run Crate 0.5 and Workflow RO-Crate 1.0, and every
// SHOULD but those provkit has no data for.
func TestWorkflowRunCrate(t *testing.T) {
	s := newStudy(t)
	g := s.graph(t)
	// SHOULDs without data: the workflow's authors, creation date, license and version, and
	// each tool's homepage and version, are not in the statements.
	noData := []string{"wfro:workflow-creator", "wfro:workflow-dateCreated", "wfro:workflow-license", "wfro:workflow-url", "wfro:workflow-version", "process:tool-url", "process:tool-version"}
	for _, wf := range []string{"", "heat-study"} {
		t.Run("workflow="+wf, func(t *testing.T) {
			var buf bytes.Buffer
			if err := g.WriteROCrate(&buf, lineage.Crate{Name: "Heat study", License: "CC-BY-4.0", Workflow: wf}); err != nil {
				t.Fatal(err)
			}
			findings, err := lineage.CheckROCrate(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range findings {
				if f.Level == lineage.LevelMust || !slices.Contains(noData, f.Rule) {
					t.Errorf("%s", f)
				}
			}
			checkStudyCrate(t, s, g, buf.Bytes(), wf)
		})
	}
}

func checkStudyCrate(t *testing.T, s *study, g *lineage.Graph, crate []byte, wf string) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(crate, &doc); err != nil {
		t.Fatal(err)
	}
	byID := graphOf(t, doc)
	// People as Person agents, by ORCID URL and mailto:; keys as authors of the signed records.
	clean := byID[lineage.ActivityIRI(activityNamed(t, g, "clean").ID)]
	if a := ids(clean["agent"]); !slices.Equal(a, []string{"https://orcid.org/0000-0002-1825-0097", "mailto:grace@lab.example"}) {
		t.Errorf("clean agents %v", a)
	}
	if p := byID["https://orcid.org/0000-0002-1825-0097"]; !slices.Equal(types(p), []string{"Person"}) || p["name"] != "Ada Lovelace" {
		t.Errorf("Ada %v", p)
	}
	record := byID[ids(clean["subjectOf"])[0]]
	if a := ids(record["author"]); !slices.Equal(a, []string{lineage.SignerIRI("key:alice")}) || !strings.Contains(byID[a[0]]["description"].(string), "Signing key") {
		t.Errorf("record %v", record)
	}
	if clean["description"] != "clean --min=-40 --max=120 raw.csv -o clean.csv" || clean["actionStatus"].(map[string]any)["@id"] != "http://schema.org/CompletedActionStatus" {
		t.Errorf("clean action %v", clean)
	}
	env := byID[ids(clean["environment"])[0]]
	if env["name"] != "LC_ALL" || env["value"] != "C" {
		t.Errorf("environment %v", env)
	}
	plot := byID[lineage.ActivityIRI(activityNamed(t, g, "plot").ID)]
	if plot["description"] != "plot model.json -o 'figure 2.svg'" {
		t.Errorf("plot command %v", plot["description"])
	}
	img := byID[ids(plot["containerImage"])[0]]
	if img["registry"] != "ghcr.io" || img["name"] != "lab/plot" || img["tag"] != "1.3" || img["sha256"] != s.images["plot"].Encoded() {
		t.Errorf("plot image %v", img)
	}
	if ids(plot["instrument"])[0] == ids(plot["containerImage"])[0] {
		t.Error("the image is the instrument")
	}
	fit := byID[lineage.ActivityIRI(activityNamed(t, g, "fit").ID)]
	tool := byID[ids(fit["instrument"])[0]]
	var versions []string
	for _, r := range ids(tool["softwareRequirements"]) {
		versions = append(versions, byID[r]["name"].(string)+" "+byID[r]["softwareVersion"].(string))
	}
	if !slices.Equal(versions, []string{"numpy 2.1.0", "python 3.12.1"}) {
		t.Errorf("fit tool versions %v", versions)
	}
	if fit["startTime"] != "2026-05-04T14:20:00Z" || fit["endTime"] != "2026-05-04T14:25:00Z" {
		t.Errorf("fit times %v %v", fit["startTime"], fit["endTime"])
	}
	// Rebuild checks are AssessActions of the files they rebuilt; only plot made the figure.
	var figure string
	for id, e := range byID {
		if e["sha256"] == s.fig.Encoded() {
			figure = id
		}
	}
	var makers, checks []string
	for id, e := range byID {
		if slices.Contains(ids(e["result"]), figure) {
			makers = append(makers, e["name"].(string))
		}
		if slices.Contains(types(e), "AssessAction") && slices.Contains(ids(e["object"]), figure) {
			checks = append(checks, id)
		}
	}
	slices.Sort(makers)
	want := []string{"plot"}
	if wf != "" {
		want = []string{"Run of heat-study (run run-7)", "plot"}
	}
	if !slices.Equal(makers, want) {
		t.Errorf("the figure is the result of %v, want %v", makers, want)
	}
	if len(checks) != 1 {
		t.Fatalf("figure rebuild checks %v", checks)
	}
	check := byID[checks[0]]
	if outcome := byID[ids(check["result"])[0]]; outcome["value"] != "match" || !slices.Equal(ids(check["agent"]), []string{lineage.SignerIRI("key:bob")}) ||
		check["endTime"] != "2026-05-04T16:00:00Z" || !strings.HasPrefix(check["description"].(string), "every output matched") {
		t.Errorf("figure rebuild check %v, outcome %v", check, outcome)
	}
	if wf != "" {
		main := byID[ids(byID["./"]["mainEntity"])[0]]
		if lang := byID[ids(main["programmingLanguage"])[0]]; !slices.Contains(types(lang), "ComputerLanguage") {
			t.Errorf("programmingLanguage %v", lang)
		}
		if n := len(ids(main["input"])); n != 2 { // the export and the fit configuration
			t.Errorf("%d workflow inputs", n)
		}
	}
}

// TestCheckROCrateFindsBreaks breaks a conforming crate one rule at a time: CheckROCrate names
// the rule broken.
func TestCheckROCrateFindsBreaks(t *testing.T) {
	s := newStudy(t)
	g := s.graph(t)
	var buf bytes.Buffer
	if err := g.WriteROCrate(&buf, lineage.Crate{Name: "Heat study", License: "CC-BY-4.0", Workflow: "heat-study"}); err != nil {
		t.Fatal(err)
	}
	clean := lineage.ActivityIRI(activityNamed(t, g, "clean").ID)
	for _, tt := range []struct {
		name, rule, level string
		edit              func(byID map[string]map[string]any)
	}{
		{"no programmingLanguage", "wfro:programmingLanguage", lineage.LevelMust, func(m map[string]map[string]any) { delete(m["#workflow-heat-study"], "programmingLanguage") }},
		{"workflow not a File", "wfro:main-workflow-type", lineage.LevelMust, func(m map[string]map[string]any) {
			m["#workflow-heat-study"]["@type"] = []any{"SoftwareSourceCode", "ComputationalWorkflow"}
		}},
		{"no mainEntity", "wfro:mainEntity", lineage.LevelMust, func(m map[string]map[string]any) { delete(m["./"], "mainEntity") }},
		{"no license", "rocrate:root-license", lineage.LevelMust, func(m map[string]map[string]any) { delete(m["./"], "license") }},
		{"image as instrument", "process:instrument-not-image", lineage.LevelShould, func(m map[string]map[string]any) {
			m[clean]["instrument"] = m[clean]["containerImage"]
		}},
		{"no instrument", "process:action-instrument", lineage.LevelMust, func(m map[string]map[string]any) { delete(m[clean], "instrument") }},
		{"no agent", "process:action-agent", lineage.LevelShould, func(m map[string]map[string]any) { delete(m[clean], "agent") }},
		{"URN data entity", "rocrate:data-entity-id", lineage.LevelMust, func(m map[string]map[string]any) {
			m["urn:provkit:artifact:x"] = map[string]any{"@id": "urn:provkit:artifact:x", "@type": "File"}
			m["./"]["hasPart"] = append(m["./"]["hasPart"].([]any), map[string]any{"@id": "urn:provkit:artifact:x"})
		}},
		{"file not in hasPart", "rocrate:data-entity-haspart", lineage.LevelMust, func(m map[string]map[string]any) {
			m["extra.csv"] = map[string]any{"@id": "extra.csv", "@type": "File"}
		}},
		{"formal parameter without type", "wfrun:formal-parameter-additionalType", lineage.LevelMust, func(m map[string]map[string]any) {
			delete(m["#tool-heat-study/clean-param-min"], "additionalType")
		}},
		{"parameter value without its formal parameter", "wfrun:exampleOfWork", lineage.LevelShould, func(m map[string]map[string]any) {
			for id, e := range m {
				if e["@type"] == "PropertyValue" && e["name"] == "min" {
					delete(m[id], "exampleOfWork")
				}
			}
		}},
		{"no run of the workflow", "wfrun:workflow-run", lineage.LevelMust, func(m map[string]map[string]any) {
			m["#run-heat-study/run-7"]["instrument"] = map[string]any{"@id": "#tool-heat-study/clean"}
		}},
		{"image without registry", "process:container-image-registry", lineage.LevelShould, func(m map[string]map[string]any) {
			for id, e := range m {
				if e["@type"] == "ContainerImage" {
					delete(m[id], "registry")
				}
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			byID := map[string]map[string]any{}
			for _, e := range doc["@graph"].([]any) {
				byID[e.(map[string]any)["@id"].(string)] = e.(map[string]any)
			}
			tt.edit(byID)
			var items []any
			for _, e := range byID {
				items = append(items, e)
			}
			doc["@graph"] = items
			data, _ := json.Marshal(doc)
			findings, err := lineage.CheckROCrate(data)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(findings, func(f lineage.CrateFinding) bool { return f.Rule == tt.rule && f.Level == tt.level }) {
				t.Errorf("no %s %s in %v", tt.level, tt.rule, findings)
			}
		})
	}
	for name, doc := range map[string]string{"not JSON": "{", "no graph": `{"@context":"x"}`, "entity without id": `{"@graph":[{"@type":"File"}]}`, "two documents": `{"@graph":[]} {}`} {
		t.Run(name, func(t *testing.T) {
			if _, err := lineage.CheckROCrate([]byte(doc)); !errors.Is(err, lineage.ErrInvalidCrateDocument) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// FuzzCheckROCrate checks that whatever the document, CheckROCrate returns findings or an
// ErrInvalidCrateDocument, never panics.
func FuzzCheckROCrate(f *testing.F) {
	s := newStudy(f)
	var buf bytes.Buffer
	if err := s.graph(f).WriteROCrate(&buf, lineage.Crate{Name: "x", License: "MIT", Workflow: "heat-study"}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"@context":"https://w3id.org/ro/crate/1.1/context","@graph":[{"@id":"ro-crate-metadata.json","about":{"@id":"./"}},{"@id":"./","hasPart":[{"@id":"./"}],"conformsTo":{"@id":"https://w3id.org/ro/wfrun/workflow/0.5"},"mainEntity":"x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		findings, err := lineage.CheckROCrate(data)
		if err != nil && !errors.Is(err, lineage.ErrInvalidCrateDocument) {
			t.Fatalf("err = %v", err)
		}
		for _, x := range findings {
			if x.Level != lineage.LevelMust && x.Level != lineage.LevelShould || x.Rule == "" {
				t.Fatalf("finding %+v", x)
			}
		}
	})
}

// dataOf is a DataSource of the study's files, by digest.
func (s *study) dataOf() lineage.DataSource {
	return lineage.FSDataSource(os.DirFS(s.dir), func(d digest.Digest) string { return s.data[d] })
}

// TestROCrateWithData writes the crate with its data, as a folder and as a zip: the files are
// in it by relative path, with their digests, and the crate names them by that path.
func TestROCrateWithData(t *testing.T) {
	s := newStudy(t)
	g := s.graph(t)
	c := lineage.Crate{Name: "Heat study", License: "CC-BY-4.0", Workflow: "heat-study"}
	dir := filepath.Join(t.TempDir(), "crate")
	if err := g.WriteROCrateDir(t.Context(), dir, c, s.dataOf()); err != nil {
		t.Fatal(err)
	}
	metadata, err := os.ReadFile(filepath.Join(dir, lineage.ROCrateMetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(metadata, &doc); err != nil {
		t.Fatal(err)
	}
	byID := graphOf(t, doc)
	for d, name := range s.data {
		e := byID[name]
		if e == nil || e["sha256"] != d.Encoded() || !slices.Contains(types(e), "File") {
			t.Errorf("%s: entity %v", name, e)
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || digest.FromBytes(got) != d {
			t.Errorf("%s in the crate: %v", name, err)
		}
	}
	// The export, named by URL in the statements, is held under its file name.
	if e := byID["export.csv"]; e == nil || !slices.Contains(ids(byID["./"]["hasPart"]), "export.csv") {
		t.Errorf("export entity %v", e)
	}
	findings, err := lineage.CheckROCrate(metadata)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if f.Level == lineage.LevelMust {
			t.Errorf("%s", f)
		}
	}

	// The zip holds the same files, and the same graph gives the same bytes.
	var zipped, again bytes.Buffer
	if err := g.WriteROCrateZip(t.Context(), &zipped, c, s.dataOf()); err != nil {
		t.Fatal(err)
	}
	if err := g.WriteROCrateZip(t.Context(), &again, c, s.dataOf()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(zipped.Bytes(), again.Bytes()) {
		t.Error("the same crate gave different zips")
	}
	checkZip(t, zipped.Bytes(), dir)
}

// TestROCrateDataMismatch gives data that does not match its digest: the copy fails and leaves
// no file.
func TestROCrateDataMismatch(t *testing.T) {
	s := newStudy(t)
	g := s.graph(t)
	tampered := func(d digest.Digest) (io.ReadCloser, error) {
		if d == s.clean {
			return io.NopCloser(strings.NewReader("id,temp\n1,-52\n")), nil
		}
		return s.dataOf()(d)
	}
	dir := t.TempDir()
	err := g.WriteROCrateDir(t.Context(), dir, lineage.Crate{Name: "x", License: "MIT"}, tampered)
	var de *lineage.CrateDataError
	if !errors.Is(err, lineage.ErrDataDigest) || !errors.Is(err, lineage.ErrCrateData) || !errors.As(err, &de) || de.Digest != s.clean || de.Path != "clean.csv" {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "clean.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the tampered file is left: %v", err)
	}
	failing := func(digest.Digest) (io.ReadCloser, error) { return nil, errors.New("disk on fire") }
	if err := g.WriteROCrateZip(t.Context(), io.Discard, lineage.Crate{Name: "x", License: "MIT"}, failing); !errors.Is(err, lineage.ErrCrateData) || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("err = %v", err)
	}
}

// TestCratePaths gives artifacts names that are not safe paths, or that collide: they go under
// data/, by digest.
func TestCratePaths(t *testing.T) {
	p := newPipeline(t)
	names := []string{"../escape.csv", "same.csv", "same.csv", "ro-crate-metadata.json", "dir/ok.csv"}
	var results []*verify.Result
	data := map[digest.Digest]string{}
	for i, name := range names {
		content := "content " + string(rune('a'+i))
		d := digest.FromString(content)
		data[d] = content
		st := &workflow.Step{Name: "s" + string(rune('a'+i)), Image: "registry.example/x@" + digest.FromString("x").String(), BuilderID: "https://ci.example",
			Outputs: []*intoto.ResourceDescriptor{{Name: name, Digest: map[string]string{"sha256": d.Encoded()}}}, FinishedOn: studyStart}
		b := signStep(t, p.alice, st)
		res, err := p.verifier.Verify(t.Context(), b, d, p.identity)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	g, err := lineage.New(results)
	if err != nil {
		t.Fatal(err)
	}
	source := func(d digest.Digest) (io.ReadCloser, error) {
		if c, ok := data[d]; ok {
			return io.NopCloser(strings.NewReader(c)), nil
		}
		return nil, os.ErrNotExist
	}
	dir := t.TempDir()
	if err := g.WriteROCrateDir(t.Context(), dir, lineage.Crate{Name: "x", License: "MIT"}, source); err != nil {
		t.Fatal(err)
	}
	var got []string
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 || !slices.Contains(got, "dir/ok.csv") || !slices.Contains(got, "same.csv") || !slices.Contains(got, "ro-crate-metadata.json") {
		t.Errorf("files %v", got)
	}
	for _, f := range got {
		if f != "dir/ok.csv" && f != "same.csv" && f != "ro-crate-metadata.json" && !strings.HasPrefix(f, "data/sha256-") {
			t.Errorf("file %s", f)
		}
	}
	metadata, _ := os.ReadFile(filepath.Join(dir, lineage.ROCrateMetadataFile))
	if !strings.Contains(string(metadata), `"alternateName": "../escape.csv"`) {
		t.Errorf("the unsafe name is not kept as alternateName")
	}
}

// testDot returns Graphviz's dot, skipping the test when it is not installed.
func testDot(t *testing.T) string {
	t.Helper()
	return testenv.Dot(t)
}

// checkZip checks that the zip holds exactly the files of the crate folder dir, with the same
// bytes.
func checkZip(t *testing.T, data []byte, dir string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Name)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("zip entry %s differs from the folder's file (%v)", f.Name, err)
		}
	}
	if len(names) == 0 || names[len(names)-1] != lineage.ROCrateMetadataFile {
		t.Errorf("zip entries %v: want the metadata last", names)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(names) {
		t.Errorf("zip holds %d files, the folder %d", len(names), len(entries))
	}
}

// TestStudyExportsDeterministic builds the study's graph from its results in several orders,
// duplicates included: every export, the crate zip with its data too, is the same bytes.
func TestStudyExportsDeterministic(t *testing.T) {
	dot := testDot(t)
	s := newStudy(t)
	n := len(s.results)
	orders := [][]int{{0, 1, 2, 3, 4, 5}, {5, 4, 3, 2, 1, 0}, {2, 5, 0, 4, 1, 3, 5, 0}}
	var want [5][]byte
	for i, order := range orders {
		var in []*verify.Result
		for _, j := range order {
			in = append(in, s.results[j%n])
		}
		g, err := lineage.New(in)
		if err != nil {
			t.Fatal(err)
		}
		c := lineage.Crate{Name: "Heat study", License: "CC-BY-4.0", Workflow: "heat-study"}
		var got [5]bytes.Buffer
		errs := []error{
			g.WriteDOT(&got[0]), g.WritePROV(&got[1]), g.WriteROCrate(&got[2], c),
			g.WriteROCrateZip(t.Context(), &got[3], c, s.dataOf()),
			g.WriteHTML(t.Context(), &got[4], lineage.Report{Dot: dot}),
		}
		for k, err := range errs {
			if err != nil {
				t.Fatalf("export %d: %v", k, err)
			}
			if i == 0 {
				want[k] = got[k].Bytes()
			} else if !bytes.Equal(got[k].Bytes(), want[k]) {
				t.Errorf("order %v: export %d differs", order, k)
			}
		}
	}
}

// TestMalformedAgents gives the graph a step whose recorded people were not checked when
// recorded (a statement made by another tool): malformed ORCID iDs and email addresses are left
// out, so every agent the exports name has an IRI.
func TestMalformedAgents(t *testing.T) {
	p := newPipeline(t)
	st, err := (&workflow.Step{Name: "s", Image: "registry.example/x@" + digest.FromString("x").String(), BuilderID: "https://ci.example",
		Outputs: []*intoto.ResourceDescriptor{{Name: "out", Digest: map[string]string{"sha256": digest.FromString("out").Encoded()}}}}).Statement()
	if err != nil {
		t.Fatal(err)
	}
	pred := st.GetPredicate().AsMap()
	pred["buildDefinition"].(map[string]any)["internalParameters"] = map[string]any{"agents": []any{
		map[string]any{"name": "bad iD", "orcid": "0000-0002-1825-0098"},
		map[string]any{"name": "bad email", "email": "<x>"},
		map[string]any{"name": "both", "orcid": "javascript:alert(1)", "email": "ok@lab.example"},
		"not an object",
	}}
	st.Predicate, err = structpb.NewStruct(pred)
	if err != nil {
		t.Fatal(err)
	}
	g, err := lineage.New([]*verify.Result{p.verifyStatement(t, p.alice, st, digest.FromString("out"))})
	if err != nil {
		t.Fatal(err)
	}
	if a := g.Activities()[0].Agents; !slices.Equal(a, []workflow.Agent{{Name: "both", Email: "ok@lab.example"}}) {
		t.Errorf("agents %+v", a)
	}
}
