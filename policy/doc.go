// Package policy decides whether verified provenance is good enough: for an artifact, and for
// an environment it is to be promoted to, with every reason written down.
//
// A policy is a versioned YAML or JSON document (apiVersion provkit.dev/policy/v1, kind
// Policy) read strictly by Load: an unknown field, a value of the wrong type, a regular
// expression or CEL expression that does not compile, is a *LoadError with the line and the
// field. Everything is compiled once, at load.
//
//	apiVersion: provkit.dev/policy/v1
//	kind: Policy
//	metadata:
//	  name: release
//	rules:
//	  - name: signed-by-ci
//	    signers:
//	      threshold: 1
//	      identities:
//	        - issuer: https://token.actions.githubusercontent.com
//	          subjectRegexp: ^https://github\.com/acme/.*/\.github/workflows/release\.yml@refs/tags/v.*$
//	          extensions: {sourceRepositoryURI: https://github.com/acme/app}
//	        - keyId: release-2026
//	  - name: attested
//	    requiredAttestations:
//	      predicateTypes: [https://slsa.dev/provenance/v1, https://spdx.dev/Document]
//	  - name: built-by-slsa3
//	    slsa:
//	      builders:
//	        - id: https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml
//	          versions: ">=v2.0.0"
//	      source:
//	        repositories: [https://github.com/acme/app]
//	        branches: [main]
//	        tagVersions: ">=v1.0.0 <v2.0.0"
//	  - name: pinned
//	    materials: {requirePinned: true, baseImages: {registries: [cgr.dev], requirePinned: true}}
//	  - name: fresh
//	    freshness: {maxAge: 30d}
//	  - name: no-secrets
//	    environment: {forbiddenVariables: ["*_TOKEN", "*SECRET*"], forbiddenValues: ["ghp_[A-Za-z0-9]{36}"]}
//	  - name: no-criticals
//	    vulnerabilities: {failAt: critical, acceptOpenVEX: true, maxAge: 7d}
//	  - name: hosted-runner
//	    cel:
//	      predicateTypes: [https://slsa.dev/provenance/v1]
//	      expression: predicate.buildDefinition.internalParameters.github.runner_environment == "github-hosted"
//	environments:
//	  dev:  {defaultMode: warn, rules: {signed-by-ci: enforce}}
//	  prod: {defaultMode: enforce}
//
// The rule kinds:
//
//   - signers: trusted keys by id and keyless identities (issuer and subject alternative name,
//     exact or by regular expression, and Fulcio certificate extensions by their JSON names in
//     sigstore-go's certificate.Extensions); threshold makes it N of M distinct identities.
//   - requiredAttestations: predicate types that must each have a verified attestation.
//   - slsa: over every SLSA provenance, v1 or v0.2 (as cosign's "slsaprovenance" type writes
//     it; its invocation.parameters stand for externalParameters, invocation.environment for
//     internalParameters, materials for resolved dependencies): builder ids (an id without "@" matches any ref, or
//     with versions only refs/tags/vX.Y.Z in the semantic version range, as slsa-verifier
//     does), build types, source repository, branch and tag patterns ("*" matches anything),
//     tag version ranges, and expected external parameters by dotted path.
//   - materials: resolved dependencies pinned by digest, allow and deny patterns of their URIs,
//     base images (provenance.RoleBaseImage) from allowed registries and pinned by sha256.
//   - freshness: maximum age and a not-before time, judged on the verified signing time
//     (verify.Result.SignedAt); no verified time fails unless allowMissingSigningTime.
//   - environment: forbidden variable names (case-insensitive patterns, as keys or NAME=value
//     strings) and forbidden value patterns anywhere in the external and internal parameters,
//     reported with the value redacted, and required parameters.
//   - vulnerabilities: no finding at or above failAt in the in-toto vulns v0.2 predicate (as
//     provenance/vuln writes it from grype, Trivy, SARIF and OSV-Scanner reports) or cosign's
//     vuln predicate (Trivy or Grype report), unless ignored by id or, with acceptOpenVEX, an
//     OpenVEX attestation about the same subject says not_affected (matched by id or by an
//     alias: grype's relatedVulnerabilities, or the aliases of a vulns v0.2 result's
//     annotations). A finding of unknown severity counts as at the threshold. With maxAge (a
//     duration such as 24h, or days such as 7d), only scans younger than maxAge count: a scan's
//     time is the earlier of its verified signing time and its predicate's
//     metadata.scanFinishedOn, of those it has; a scan with neither, or older, is not counted
//     and named in the evidence with its age, and with no scan left the rule fails.
//   - lifecycle: the artifact's lifecycle status in effect (provenance/lifecycle.Resolve over the
//     verified statuses) must not be one of deny, such as [retired, revoked]; the explanation
//     gives the reason, since when and the successor to migrate to. Two rules, one denying
//     retired and revoked and one denying deprecated, let an environment warn on deprecation
//     and enforce the rest. Statuses count as verified: give them their own signers with
//     policy/gate.WithRole. Disagreeing statuses of the same time fail closed.
//   - cel: a boolean CEL expression over statement, predicate, predicateType, subject, signer
//     (keyId, issuer, subjectAlternativeName, extensions), timestamps, signedAt (the Unix
//     epoch when hasSignedAt is false), hasSignedAt, now and attestations (every verified attestation of the subject), per attestation (match
//     all or any), type-checked at load and held to a cost limit (celCostLimit, default
//     DefaultCELCostLimit): proven at load by CEL's static estimate, or tracked while it runs.
//
// Evaluation sees only *verify.Result values, which only package verify can make: a policy
// can never be run on unverified provenance. Policy.Evaluate enforces every rule;
// Policy.Gate applies an environment's profile, where each rule is enforced, warned about or
// skipped. Both return a *Decision — every rule's outcome (pass, fail, warn, skipped), reason
// and evidence (which attestation, which field, which value) — and, on denial, a *DeniedError
// wrapping ErrDenied: a caller that checks only the error cannot allow by mistake. They fail
// closed: no results, an empty environment (unless allowEmpty), a nil result, a rule that
// errors or a CEL expression over its cost limit all deny, even in warn mode.
//
// Decision.VSA turns a decision into a SLSA Verification Summary Attestation v1 statement,
// ready to be signed, so later stages can reuse the verification.
//
// The package is pure: it reads only the io.Reader given to Load, does no cryptography and no
// network I/O, and never reads the clock; the evaluation time is an argument. A Policy is safe
// for concurrent use.
package policy
