// Package dashboard is the reproducibility dashboard: a read-only web application over a
// provenance index (package verify/lineage/index, SQLite or PostgreSQL) that answers, for
// people who do not read JSON, "what produced this figure, who signed each step, was it
// rebuilt, and is it still trusted".
//
//	ix, err := index.OpenSQLite(ctx, "provenance.db")
//	h, err := dashboard.New(ix)
//	http.ListenAndServe("127.0.0.1:8080", h)
//
// # Pages
//
//   - / — an overview: how many artifacts, the latest builds, vulnerable artifacts, tags that
//     moved.
//   - /artifacts — every artifact, those of the latest statements first, 50 to a page, each
//     with who signed its statements, its lifecycle status, its latest rebuild and its
//     vulnerabilities.
//   - /builds — builds and workflow steps newest first (by verified signing time, else the
//     time the statement records); ?kind=all lists every statement.
//   - /artifact/DIGEST — one artifact: a verdict in words (trusted, needs attention, not
//     trusted, and why), the steps that produced it with their command, parameters, container
//     image, times and signers, its rebuild checks and what each compared, its lifecycle
//     status, vulnerabilities, runtime deviations and audit events, its tags, and the steps
//     that read it.
//   - /step/DIGEST — one statement, by its id.
//   - /lineage/DIGEST — the lineage graph, up (what it was made from), down (what was made
//     from it) or both, drawn by Graphviz, every node a link; and listed, for phones and for
//     graphs too large to draw.
//   - /drift — what each environment last deployed of each repository, rows that differ
//     marked, and the tags seen pointing at more than one digest.
//   - /search — artifacts by source commit, source repository, dataset (material) digest,
//     parameter (JSON-POINTER=VALUE, such as /parameters/seed=42), signer and digest.
//
// Everything shown comes from statements whose signatures verified before they were indexed
// (index.Add takes only *verify.Result values): the dashboard verifies nothing itself and
// says so. Statements indexed before schema version 7 show their facts but not their
// command, parameters and times until their results are added again.
//
// # Safety
//
// Pages are rendered on the server with html/template, so every string a statement holds
// (names, parameters, signer identities, tags) is escaped as text. No page holds a script,
// and the Content-Security-Policy forbids them: default-src 'none', the stylesheet served
// from the binary (/static/style.css), images from the dashboard or data: URLs, forms sent
// to the dashboard, no framing. Nothing is loaded from elsewhere, so the dashboard works
// offline. The lineage graph is safe by construction: Graphviz draws it as SVG, shown as an
// <img> with a data: URL, which browsers never script; its clickable regions are an HTML
// image map whose coordinates are checked as numbers and whose links the dashboard builds
// from digests alone, never from Graphviz's output or a statement's text.
//
// The handler serves GET and HEAD and answers 405 to every other method; it never writes to
// the index. Query strings are bounded (MaxQueryBytes, MaxValueBytes, MaxPageNumber), digests
// are parsed before use, and errors are served as pages that say what was wrong
// (*RequestError, *NotFoundError) without internal detail, which goes to the optional logger.
// WithBearerToken requires a token (a bearer header, or a login cookie set by opening a
// page with ?token=), compared in constant time; serve the dashboard on loopback without one.
//
// A Handler is safe for concurrent use. This package imports the standard library, provkit's
// provenance packages, verify/lineage and its index; it runs Graphviz's dot (WithDot, else
// "dot" on PATH) as a child process for lineage pages, and does no other I/O.
package dashboard
