package lineage_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provkit/provkit/verify/lineage"
)

// roCrateModules returns the node_modules folder holding npm's ro-crate package, and node,
// skipping the test when either is absent.
func roCrateModules(t *testing.T) (node, modules string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	bin := os.Getenv("PROVKIT_TOOLS_BIN")
	if bin == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Skip("no PROVKIT_TOOLS_BIN and no home directory")
		}
		bin = filepath.Join(home, ".cache", "provkit", "bin")
	}
	modules = filepath.Join(bin, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "ro-crate", "package.json")); err != nil {
		t.Skipf("npm's ro-crate is not installed in %s", modules)
	}
	return node, modules
}

// roCrateScript validates the crate folder given as its argument with npm's ro-crate library:
// the validator's checks of the RO-Crate JSON-LD and the root data entity, and its check that
// every data entity with a local path is a file of the folder and the reverse. The library
// resolves @context URLs over the network, which tests have none of: the RO-Crate 1.1 context
// is given the terms of the library's own bundled RO-Crate context, a superset of 1.1's.
const roCrateScript = `
const fs = require("fs"), path = require("path");
const {ROCrate} = require("ro-crate");
const {Validator} = require("ro-crate/lib/validator");
const bundled = require("ro-crate/lib/context.json")["@context"];
(async () => {
  const dir = process.argv[process.argv.length - 1];
  const json = JSON.parse(fs.readFileSync(path.join(dir, "ro-crate-metadata.json"), "utf8"));
  const crate = new ROCrate(json, {array: true, link: true});
  crate.__contextCache["https://w3id.org/ro/crate/1.1/context"] = bundled;
  const v = new Validator(crate);
  v.hasContext = async () => {};
  await v.validate();
  const files = {};
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(dir, rel), {withFileTypes: true})) {
      const p = rel ? rel + "/" + e.name : e.name;
      if (e.isDirectory()) { files[p + "/"] = {exists: true, isDir: true}; walk(p); }
      else if (p !== "ro-crate-metadata.json") files[p] = {exists: true};
    }
  };
  walk("");
  v.checkFiles(files);
  const root = crate.rootDataset;
  const main = crate.getEntity(root.mainEntity[0]["@id"]);
  console.log(JSON.stringify({results: v.results, root: root["@id"], main: main && main["@type"],
    mentions: root.mentions.length, parts: root.hasPart.length}));
})().catch(e => { console.error(e); process.exit(1); });
`

// TestROCrateNPM checks the crate folder of the study with npm's ro-crate 3.7.2: the library
// reads it, finds its workflow, and its validator reports no error and no warning.
func TestROCrateNPM(t *testing.T) {
	node, modules := roCrateModules(t)
	s := newStudy(t)
	g := s.graph(t)
	dir := filepath.Join(t.TempDir(), "crate")
	if err := g.WriteROCrateDir(t.Context(), dir, lineage.Crate{Name: "Heat study", License: "CC-BY-4.0", Workflow: "heat-study"}, s.dataOf()); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), node, "-e", roCrateScript, dir)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var out struct {
		Results         []struct{ ID, Status, Message, Entity string }
		Root            string
		Main            []string
		Mentions, Parts int
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	successes := 0
	for _, r := range out.Results {
		switch r.Status {
		case "success":
			successes++
		default:
			t.Errorf("ro-crate %s %s %s: %s", r.Status, r.ID, r.Entity, r.Message)
		}
	}
	if successes < 7 || out.Root != "./" || strings.Join(out.Main, ",") != "File,SoftwareSourceCode,ComputationalWorkflow" || out.Mentions != 7 || out.Parts != 8 {
		t.Errorf("ro-crate read %+v", out)
	}
}

// TestROCrateNPMMissingFile removes a data file the crate names: npm's validator reports it.
func TestROCrateNPMMissingFile(t *testing.T) {
	node, modules := roCrateModules(t)
	s := newStudy(t)
	dir := filepath.Join(t.TempDir(), "crate")
	if err := s.graph(t).WriteROCrateDir(t.Context(), dir, lineage.Crate{Name: "Heat study", License: "CC-BY-4.0", Workflow: "heat-study"}, s.dataOf()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "clean.csv")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), node, "-e", roCrateScript, dir)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	if !strings.Contains(string(out), `"entity":"clean.csv"`) || !strings.Contains(string(out), "validCrateDataEntityPath") {
		t.Errorf("the validator did not report the missing file: %s", out)
	}
}

// debianPython is Debian's python3, which has rdflib (python3-rdflib).
const debianPython = "/usr/bin/python3"

// sparqlScript reads PROV-O JSON-LD from its standard input with rdflib and answers the
// questions a researcher asks of it, as SPARQL queries, printing the answers as JSON.
const sparqlScript = `
import json, sys, rdflib
g = rdflib.Graph().parse(data=sys.stdin.read(), format="json-ld")
prefixes = """PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX provkit: <https://provkit.dev/ns/lineage#>
"""
queries = json.loads(sys.argv[1])
out = {}
for name, q in queries.items():
    out[name] = sorted("|".join(str(v) for v in row) for row in g.query(prefixes + q))
out["triples"] = len(g)
print(json.dumps(out))
`

// TestPROVSPARQL parses the study's PROV-O with rdflib and asks it what the figure was derived
// from, what generated it, who was associated with each step, when they ran, with which
// parameters, plans and images, and whether the figure was rebuilt.
func TestPROVSPARQL(t *testing.T) {
	if err := exec.Command(debianPython, "-c", "import rdflib").Run(); err != nil {
		t.Skipf("%s has no rdflib (install python3-rdflib): %v", debianPython, err)
	}
	s := newStudy(t)
	g := s.graph(t)
	var prov bytes.Buffer
	if err := g.WritePROV(&prov); err != nil {
		t.Fatal(err)
	}
	fig := lineage.ArtifactIRI(s.fig)
	queries := map[string]string{
		"derivedFrom":   `SELECT ?src WHERE { <` + fig + `> prov:wasDerivedFrom+ ?src . FILTER NOT EXISTS { ?src prov:wasGeneratedBy ?any } }`,
		"generatedBy":   `SELECT ?label WHERE { <` + fig + `> prov:wasGeneratedBy ?act . ?act rdfs:label ?label }`,
		"people":        `SELECT ?label ?who WHERE { ?act rdfs:label ?label ; prov:wasAssociatedWith ?who . ?who a prov:Person }`,
		"signers":       `SELECT ?label ?key WHERE { ?act rdfs:label ?label ; prov:wasAssociatedWith ?k . ?k a provkit:SigningKey ; rdfs:label ?key }`,
		"when":          `SELECT ?label ?start ?end WHERE { ?act a prov:Activity ; rdfs:label ?label ; prov:startedAtTime ?start ; prov:endedAtTime ?end }`,
		"min":           `SELECT ?label WHERE { ?act rdfs:label ?label ; prov:used ?p . ?p a provkit:Parameter ; rdfs:label "min" ; prov:value -40 }`,
		"plans":         `SELECT DISTINCT ?label ?plan WHERE { ?act rdfs:label ?label ; prov:qualifiedAssociation ?q . ?q prov:hadPlan ?plan . ?plan a prov:Plan }`,
		"images":        `SELECT ?label ?img WHERE { ?act rdfs:label ?label ; prov:qualifiedUsage ?u . ?u prov:hadRole provkit:containerImage ; prov:entity ?img }`,
		"rebuilt":       `SELECT ?outcome WHERE { ?r a provkit:RebuildCheck ; prov:used <` + fig + `> ; provkit:outcome ?outcome }`,
		"madeByRebuild": `SELECT ?r WHERE { ?r a provkit:RebuildCheck ; prov:generated ?x }`,
	}
	arg, _ := json.Marshal(queries)
	cmd := exec.CommandContext(t.Context(), debianPython, "-c", sparqlScript, string(arg))
	cmd.Stdin = &prov
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("rdflib: %v\n%s", err, stderr.String())
	}
	var got map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	rows := func(name string) string {
		var out []string
		for _, r := range got[name].([]any) {
			out = append(out, r.(string))
		}
		return strings.Join(out, "\n")
	}
	ada, grace := "https://orcid.org/0000-0002-1825-0097", "mailto:grace@lab.example"
	for name, want := range map[string]string{
		"derivedFrom":   strings.Join(iris(s.export, s.config), "\n"),
		"generatedBy":   "plot",
		"people":        "clean|" + ada + "\nclean|" + grace + "\nfit|" + grace + "\ningest|" + ada + "\nplot|" + grace,
		"signers":       "clean|key:alice\nfit|key:bob\ningest|key:alice\nplot|key:bob\nrebuild check: match|key:bob\nrebuild check: mismatch|key:alice",
		"when":          "clean|2026-05-04T14:10:00+00:00|2026-05-04T14:15:00+00:00\nfit|2026-05-04T14:20:00+00:00|2026-05-04T14:25:00+00:00\ningest|2026-05-04T14:00:00+00:00|2026-05-04T14:05:00+00:00\nplot|2026-05-04T14:30:00+00:00|2026-05-04T14:35:00+00:00",
		"min":           "clean",
		"plans":         "clean|urn:provkit:plan:heat-study/clean\nfit|urn:provkit:plan:heat-study/fit\ningest|urn:provkit:plan:heat-study/ingest\nplot|urn:provkit:plan:heat-study/plot",
		"images":        "clean|" + lineage.ArtifactIRI(s.images["clean"]) + "\nfit|" + lineage.ArtifactIRI(s.images["fit"]) + "\ningest|" + lineage.ArtifactIRI(s.images["ingest"]) + "\nplot|" + lineage.ArtifactIRI(s.images["plot"]),
		"rebuilt":       "match",
		"madeByRebuild": "",
	} {
		if g := rows(name); g != want {
			t.Errorf("%s:\n%s\nwant\n%s", name, g, want)
		}
	}
}
