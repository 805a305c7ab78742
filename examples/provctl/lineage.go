package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/verify/lineage"
)

// lineageFormats are the outputs of "provctl lineage" without a query.
var lineageFormats = []string{"text", "json", "dot", "prov", "rocrate", "html"}

// lineageCmd runs "provctl lineage": it verifies the attestations of each REF, and of every
// image upstream of it that the same repository or layout holds, joins what verified into a
// graph, then answers a query or exports the graph.
func lineageCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	var trust trustFlags
	fset := newFlagSet("lineage", stderr, "lineage (--key FILE | keyless flags) [--upstream DIGEST | --downstream DIGEST]\n"+
		"    [--format text|json|dot|prov|rocrate|html] [--name NAME --license LICENSE [--workflow W] [--crate-dir DIR | --crate-zip FILE]]\n"+
		"    [--plain-http] [--oci-layout] REF...")
	trust.register(fset)
	upstream := fset.String("upstream", "", "print everything the artifact with this `digest` was made from")
	downstream := fset.String("downstream", "", "print everything made from the artifact with this `digest`")
	format := fset.String("format", "text", "output `format`: "+fmt.Sprint(lineageFormats))
	name := fset.String("name", "Provenance lineage", "the RO-Crate's or HTML report's title")
	license := fset.String("license", "", "the RO-Crate metadata's license: a URL or SPDX id (required with --format rocrate)")
	workflow := fset.String("workflow", "", "with --format rocrate, the `workflow` the steps recorded: the crate is a Workflow Run Crate of it")
	crateDir := fset.String("crate-dir", "", "with --format rocrate, write the crate to this `folder` with the data files the stores hold, each verified against its digest")
	crateZip := fset.String("crate-zip", "", "with --format rocrate, write the crate with its data as this zip `file`")
	plainHTTP := fset.Bool("plain-http", false, "talk plain HTTP to the registry (loopback only)")
	layout := fset.Bool("oci-layout", false, "each REF is an OCI layout: PATH[:tag|@digest]")
	refs, err := parseFlagsAtLeast(fset, args, 1)
	if err != nil {
		return err
	}
	if *upstream != "" && *downstream != "" {
		return usagef("lineage: --upstream and --downstream exclude each other")
	}
	if !slices.Contains(lineageFormats, *format) {
		return usagef("lineage: --format must be one of %v, not %q", lineageFormats, *format)
	}
	if *format == "rocrate" && *license == "" {
		return usagef("lineage: --format rocrate needs --license")
	}
	if *format != "rocrate" && *workflow+*crateDir+*crateZip != "" {
		return usagef("lineage: --workflow, --crate-dir and --crate-zip are for --format rocrate")
	}
	if *crateDir != "" && *crateZip != "" {
		return usagef("lineage: --crate-dir and --crate-zip exclude each other")
	}
	verifier, identity, err := trust.verifier(ctx, "lineage", env)
	if err != nil {
		return err
	}

	// Collect per store: REFs in one repository or layout share it, and its walk upstream.
	stores := map[string]*oras.Store{}
	stored := map[string][]lineage.Stored{}
	var names []string
	for _, s := range refs {
		ref, err := parseReference(s, *layout)
		if err != nil {
			return err
		}
		store := stores[ref.name]
		if store == nil {
			if store, err = openStore(ctx, ref, storeOptions{plainHTTP: *plainHTTP}, env); err != nil {
				return err
			}
			stores[ref.name] = store
			names = append(names, ref.name)
		}
		st, err := storedArtifact(ctx, store, ref)
		if err != nil {
			return err
		}
		stored[ref.name] = append(stored[ref.name], st)
	}
	var all lineage.Collection
	for _, name := range names {
		c, err := lineage.CollectUpstream(ctx, stores[name], verifier, identity, stored[name]...)
		if err != nil {
			return fmt.Errorf("collect from %s: %w", name, err)
		}
		all.Results = append(all.Results, c.Results...)
		all.Rejected = append(all.Rejected, c.Rejected...)
	}
	if len(all.Results) == 0 {
		// An empty graph, crate or report would read as "this artifact has no lineage" when the
		// truth is that none of its provenance could be trusted.
		return nothingVerified(refs, all.Rejected)
	}
	graph, err := lineage.New(all.Results)
	if err != nil {
		return err
	}

	if q := *upstream + *downstream; q != "" {
		d, err := digest.Parse(q)
		if err != nil {
			return usagef("lineage: %q is not a digest: %v", q, err)
		}
		query := graph.Upstream
		if *downstream != "" {
			query = graph.Downstream
		}
		found, err := query(d)
		if err != nil {
			return err
		}
		return printNodes(stdout, graph, found, *format == "json")
	}
	switch *format {
	case "dot":
		return graph.WriteDOT(stdout)
	case "prov":
		return graph.WritePROV(stdout)
	case "rocrate":
		crate := lineage.Crate{Name: *name, License: *license, Workflow: *workflow, Published: publishDate(graph)}
		data := storeData(ctx, names, stores)
		switch {
		case *crateDir != "":
			if err := graph.WriteROCrateDir(ctx, *crateDir, crate, data); err != nil {
				return err
			}
			return textout.New(stdout).Printf("%s\n", filepath.Join(*crateDir, lineage.ROCrateMetadataFile))
		case *crateZip != "":
			return writeCrateZip(ctx, graph, *crateZip, crate, data)
		}
		return graph.WriteROCrate(stdout, crate)
	case "html":
		return graph.WriteHTML(ctx, stdout, lineage.Report{Title: *name, Rejected: all.Rejected})
	case "json":
		return printNodes(stdout, graph, nodeKeys(graph), true)
	}
	return printLineage(stdout, graph, all.Rejected)
}

// nothingVerified is the error of a lineage in which no attestation verified: it names the
// references and each rejected attestation with its reason.
func nothingVerified(refs []string, rejected []lineage.Rejected) error {
	reasons := make([]string, 0, len(rejected))
	for _, r := range rejected {
		reasons = append(reasons, fmt.Sprintf("%s: %v", r.Attestation.Digest, r.Err))
	}
	msg := fmt.Sprintf("(%d rejected)", len(rejected))
	if len(reasons) > 0 {
		msg = fmt.Sprintf("(%d rejected: %s)", len(rejected), strings.Join(reasons, "; "))
	}
	return fmt.Errorf("lineage: %s: %w %s", strings.Join(refs, ", "), errNothingVerified, msg)
}

// storedArtifact resolves ref in store and names what its attestations must be about: the image
// itself, or, for a file stored as an OCI artifact (oras.Store.PushFile), the file.
func storedArtifact(ctx context.Context, store *oras.Store, ref reference) (lineage.Stored, error) {
	desc, err := store.Resolve(ctx, ref.ref())
	if err != nil {
		return lineage.Stored{}, fmt.Errorf("resolve %s: %w", ref, err)
	}
	stored := lineage.Stored{Subject: desc, Artifact: desc.Digest}
	if desc.ArtifactType != "" && desc.ArtifactType != oras.ArtifactTypeFile {
		return stored, nil
	}
	img, err := store.Image(ctx, desc)
	if err != nil {
		return lineage.Stored{}, fmt.Errorf("read %s: %w", ref, err)
	}
	if m := img.Manifest; m != nil && m.ArtifactType == oras.ArtifactTypeFile && len(m.Layers) == 1 {
		stored.Artifact = m.Layers[0].Digest
	}
	return stored, nil
}

// lineageNode is one artifact as "provctl lineage --format json" prints it.
type lineageNode struct {
	Digest  digest.Digest   `json:"digest"`
	Digests []digest.Digest `json:"digests,omitempty"`
	Names   []string        `json:"names,omitempty"`
	URIs    []string        `json:"uris,omitempty"`
}

// printNodes prints the artifacts keys names: one per line, or a JSON array.
func printNodes(w io.Writer, g *lineage.Graph, keys []digest.Digest, asJSON bool) error {
	nodes := make([]lineageNode, 0, len(keys))
	for _, k := range keys {
		n, ok := g.Node(k)
		if !ok {
			return errors.New("lineage: the graph lost a node it returned")
		}
		nodes = append(nodes, lineageNode{Digest: n.Digest, Digests: n.Digests, Names: n.Names, URIs: n.URIs})
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(nodes)
	}
	p := textout.New(w)
	for _, n := range nodes {
		label := n.Digest.String()
		if node, _ := g.Node(n.Digest); node != nil {
			label = node.Label()
		}
		p.Printf("%s %s\n", n.Digest, label)
	}
	return p.Err()
}

// printLineage prints each verified step, what it read and wrote and who signed it, then each
// attestation that did not verify.
func printLineage(w io.Writer, g *lineage.Graph, rejected []lineage.Rejected) error {
	p := textout.New(w)
	label := func(d digest.Digest) string {
		if n, ok := g.Node(d); ok {
			return n.Label()
		}
		return d.String()
	}
	for _, a := range g.Activities() {
		p.Printf("step %s (%s) signed by %s\n", a.Name, a.ID, a.Signers)
		for _, in := range a.Inputs {
			p.Printf("  in  %s %s\n", in, label(in))
		}
		for _, out := range a.Outputs {
			p.Printf("  out %s %s\n", out, label(out))
		}
	}
	for _, r := range rejected {
		p.Printf("rejected %s on %s: %s\n", r.Attestation.Digest, r.Subject.Digest, r.Err)
	}
	return p.Err()
}

// nodeKeys returns every node of g.
func nodeKeys(g *lineage.Graph) []digest.Digest {
	var keys []digest.Digest
	for _, n := range g.Nodes() {
		keys = append(keys, n.Digest)
	}
	return keys
}

// storeData finds the content of a data artifact among the files the stores hold (stored with
// oras.Store.PushFile), for a crate written with its data. A digest no store holds as a file is
// not held; a store that cannot be read stops the export.
func storeData(ctx context.Context, names []string, stores map[string]*oras.Store) lineage.DataSource {
	return func(d digest.Digest) (io.ReadCloser, error) {
		if d.Validate() != nil {
			return nil, fmt.Errorf("%s: %w", d, fs.ErrNotExist)
		}
		for _, name := range names {
			s := stores[name]
			manifests, err := s.FileManifests(ctx, d)
			if err != nil {
				return nil, fmt.Errorf("find %s in %s: %w", d, name, err)
			}
			for _, m := range manifests {
				img, err := s.Image(ctx, m)
				if err != nil {
					return nil, fmt.Errorf("read %s in %s: %w", m.Digest, name, err)
				}
				if img.Manifest == nil {
					continue
				}
				for _, layer := range img.Manifest.Layers {
					if layer.Digest == d {
						return s.Target().Fetch(ctx, layer)
					}
				}
			}
		}
		return nil, fmt.Errorf("%s: %w", d, fs.ErrNotExist)
	}
}

// writeCrateZip writes the crate with its data to a new zip file at path; a failed export
// leaves no file.
func writeCrateZip(ctx context.Context, g *lineage.Graph, path string, c lineage.Crate, data lineage.DataSource) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return configError(err)
	}
	if err := g.WriteROCrateZip(ctx, f, c, data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return configError(err)
	}
	return nil
}

// publishDate is the crate's datePublished: zero, for the latest time the graph records (the
// same graph then gives the same crate), or now when it records none.
func publishDate(g *lineage.Graph) time.Time {
	for _, a := range g.Activities() {
		if !a.FinishedOn.IsZero() || !a.StartedOn.IsZero() || !a.SignedAt.IsZero() {
			return time.Time{}
		}
	}
	return time.Now().UTC().Truncate(time.Second)
}
