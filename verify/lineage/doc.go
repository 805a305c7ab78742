// Package lineage joins verified provenance into a graph of artifacts, to answer what an
// artifact was made from, what was made from it, and how two artifacts are related, and exports
// that graph to the formats research and provenance tools read.
//
// A Graph is built only from *verify.Result values, and only the verify package makes those: a
// statement whose signature, signer or subject did not verify never reaches the graph.
//
//	results := ... // from verify.Verifier.Verify or VerifyAll, one per attestation
//	g, err := lineage.New(results)
//	up, err := g.Upstream(model)       // everything the model came from, down to raw data and images
//	down, err := g.Downstream(dataset) // everything a bad dataset or vulnerable image touched
//	path, err := g.Path(dataset, model)
//
// # Collecting results
//
// Collect reads the attestations attached to artifacts in a Source (any provenance.Store:
// a registry, an OCI layout or memory, through package oras), verifies each against its
// artifact and the expected signer, and returns those that verified with those it rejected
// and why: forged or untrusted signatures, statements about other artifacts, unsigned
// statements.
//
//	c, err := lineage.Collect(ctx, store, verifier, identity,
//		lineage.Stored{Subject: image},                       // attestations of an image
//		lineage.Stored{Subject: fileManifest, Artifact: file}) // of a file stored as an OCI artifact
//	g, err := lineage.New(c.Results)
//
// CollectUpstream does the same, then follows the dependencies of what verified to the
// manifests the store also holds (a base image, a step's container image) and collects theirs,
// on up: from an application image alone it reaches its base images' provenance.
//
// From bundle files, pair each bundle with the digest of the artifact it is about in a
// verify.Item, call Verifier.VerifyAll, and pass the results that verified to New.
//
// # Model
//
// Nodes are artifacts, keyed by digest: sha256 when the artifact has one, else another
// identifying algorithm (provenance.IdentifyingAlgorithm). Only those identify: md5, sha1,
// gitCommit and unknown algorithms never join two descriptors, and are not kept. Descriptors
// sharing an identifying digest are one node (Node.Digests lists its digests, with the names and
// URIs statements gave the artifact); results that would join two values of one algorithm are
// refused with a *DigestConflictError. A source repository named by gitCommit alone is a node of
// its own kind, keyed by SourceKey (repository and commit), never joined with an artifact. Each verified statement is an Activity,
// identified by the sha256 of its canonical form. For SLSA Provenance v1 statements, an Edge
// leads from each resolved dependency to each subject, labelled with the activity, its step
// name and who signed it (SignerLabel). Steps recorded with package provenance/workflow are
// named by their step name and have their container image as an instrument; their Activity
// keeps what the step recorded and signed: workflow, run ID (InvocationID), command line,
// parameters, environment, tool versions, times, and the people who ran it (Agents, by ORCID
// iD or email) beside its signers. A rebuild check (package provenance/rebuild) is not a step
// that made what it rebuilt: it is a Rebuild of those artifacts, found by Graph.Rebuilds, with
// its outcome, what it compared (in words, Rebuild.Summary), who signed it and when it ran.
// Statements of other predicate types add their subjects as nodes, without edges.
//
// Queries accept any digest of an artifact and return node keys in sorted order; paths are
// shortest, ties broken by edge order. Everything a Graph returns is deterministic: the same
// results, in any order, give the same answers and the same exported bytes.
//
// # Exports
//
//   - WriteDOT: Graphviz DOT, each step's parameters as its edges' tooltip.
//   - WriteHTML: a static, self-contained HTML report: what verification checked, in words;
//     the graph drawn by Graphviz as an SVG image (a data: URL, which a browser never
//     scripts); the steps in the order they ran, with image, command, parameters, environment,
//     times, people and signers; the artifacts with their digests (short, the full digest in a
//     title and a box that wraps), the steps that made and used them and their rebuilds; the
//     rebuild checks; and rejected attestations, named by their file when known, with their
//     reasons. No JavaScript and nothing loaded from elsewhere, enforced by the page's
//     Content-Security-Policy; readable at 1,400 px and on a phone.
//   - WritePROV: JSON-LD in the W3C PROV-O vocabulary: entities, activities and agents;
//     prov:used with qualified usages whose roles tell data inputs from container images and
//     parameters; parameters as entities with prov:value; plans (prov:Plan) through qualified
//     associations; start and end times; signers and people (prov:Person) as agents; rebuild
//     checks as activities that use what they rebuilt. A few terms of NamespacePROV fill what
//     PROV-O has no term for; the WritePROV documentation lists them with a SPARQL example.
//   - WriteROCrate: RO-Crate 1.1 metadata following the Process Run Crate 0.5 profile and, for a
//     named workflow, the Workflow Run Crate 0.5 and Workflow RO-Crate 1.0 profiles: each step a
//     CreateAction with its tool as instrument, its container image as containerImage (a
//     ContainerImage with registry, name, tag and sha256), its parameters as PropertyValues
//     realising FormalParameters of the tool, its command line, environment, times, status, and
//     the people who ran it as Person agents; signers as authors of each step's signed record.
//     Data files are named by their path in the crate when it holds them, else by their URL,
//     else by a local id. WriteROCrateDir and WriteROCrateZip write the crate with its data, a
//     folder or a zip, from a DataSource the caller gives, verifying each file against its
//     digest while copying. CheckROCrate checks a crate against the published rules of those
//     profiles and of RO-Crate 1.1, returning each MUST or SHOULD broken.
//
// A Graph is immutable and safe for concurrent use. Building one takes time and memory linear
// in the number of statements and descriptors. This package imports provenance,
// provenance/workflow (for its build type), provenance/rebuild (to read rebuild checks), verify,
// the model's types (go-digest, image-spec, in-toto, protobuf) and the standard library; it never links a registry client (package oras
// stays at the edge: give Collect an oras.Store as its Source). Its I/O is exactly this:
// Collect and CollectUpstream read the Source they are given; WriteHTML runs Graphviz's dot program (Report.Dot, or
// "dot" found on PATH) as a child process, with the DOT on its standard input; WriteROCrateDir
// writes under the folder it is given (through os.Root) and the crate writers read data only
// from the DataSource they are given; and the Write methods write to the writer they are given.
// Nothing reads files, the environment (beyond PATH, for dot) or the network on its own.
package lineage
