// Package workflow records one step of a multi-step workflow (a data pipeline, a scientific
// analysis, a training run) as SLSA Provenance v1, so each step can be signed, stored and
// verified like any other attestation, and the verified steps joined into a lineage graph (see
// package verify/lineage).
//
// A Step names what ran (Name), the container image it ran in, pinned by digest (Image), the
// files and datasets it read (Inputs, each a URI and a digest), its Parameters and Command, and
// the artifacts it wrote (Outputs), which become the statement's subjects:
//
//	st, err := (&workflow.Step{
//		Name:      "clean",
//		Image:     "registry.example/tools/clean@sha256:…",
//		Command:   []string{"clean", "--drop-nulls", "raw.csv"},
//		Inputs:    []*intoto.ResourceDescriptor{{Uri: "https://data.example/raw.csv", Digest: …}},
//		Outputs:   []*intoto.ResourceDescriptor{{Name: "clean.csv", Digest: …}},
//		BuilderID: "https://ci.example/runners/science",
//	}).Statement()
//
// # Build type
//
// The predicate's buildDefinition.buildType is BuildType,
// "https://provkit.dev/workflow/step/v1". Its fields are:
//
// buildDefinition.externalParameters, what the workflow author chose:
//
//   - name (string, required): the step's name, unique within its workflow.
//   - image (string, required): the container image reference the step ran in, pinned by
//     digest: "REPOSITORY@ALGORITHM:HEX", optionally with a tag before the "@".
//   - command (array of strings, optional): the command line, program first.
//   - parameters (object, optional): the step's parameters, as JSON values. Integers above 2^53
//     lose precision in the in-toto model: give such values as strings.
//   - inputs (array of strings, optional): the URI (or, when it has none, the name) of each
//     input, in the order given. Their digests are in resolvedDependencies.
//   - workflow (string, optional): the name or URI of the workflow the step belongs to.
//
// buildDefinition.internalParameters, what the platform running the step chose; present only
// when one of these is given:
//
//   - environment (object of strings, optional): environment variables the step ran with.
//     Record only values that are not secret.
//   - agents (array of objects, optional): the people who ran the step (Step.Agents), each
//     {"name": …, "orcid": "https://orcid.org/XXXX-XXXX-XXXX-XXXX", "email": …}, with orcid or
//     email or both. They are internal parameters, not external ones, because who ran a step
//     does not change what it computes: a rebuild check that compares external parameters
//     (package provenance/rebuild) finds no difference when someone else reruns the step.
//     Statements without agents are read as before (AgentsOf gives none).
//
// buildDefinition.resolvedDependencies, every artifact the step read, pinned:
//
//   - first, the container image: uri "oci://REPOSITORY", name the full reference as given,
//     its digest, and the annotation "dev.provkit.role" = "toolchain" (RoleImage);
//   - then each input in the order given, as given, with "dev.provkit.role" = "material"
//     (RoleInput) unless the input already carries a role (for example "base-image").
//
// runDetails.builder.id is BuilderID, the platform that ran the step (required);
// runDetails.builder.version is ToolVersions, when given; and
// runDetails.metadata holds RunID as invocationId (shared by all steps of one workflow run) and
// StartedOn and FinishedOn.
//
// The statement's subjects are Outputs, exactly as given.
//
// # Errors
//
// A step without a name, an image or outputs fails with a *MissingFieldError; an image
// named by a tag alone, or with a malformed digest, fails with an *UnpinnedImageError; an input
// or output without a digest fails with an *ArtifactError; an agent without an ORCID iD or an
// email address, or with a malformed one (an ORCID iD's check digit is verified), fails with an
// *AgentError. All wrap the sentinels in errors.go.
//
// The annotation key and role values are the provenance package's AnnotationRole, RoleToolchain
// and RoleMaterial, and the predicate is made by provenance.Build, like any other SLSA
// provenance. This package imports only provenance and the model's own dependencies. A Step is a plain value:
// methods read it and never modify it, so a Step not being modified is safe for concurrent use.
package workflow
