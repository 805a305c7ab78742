// Package diff compares what two artifacts are made of: two images (layers, configuration,
// annotations), two sets of subjects (files), two provenance statements (builder, source,
// materials, parameters), and what one tag resolves to across environments. Every comparison
// returns the differences as Changes, field by field, in a stable order, and a Report renders
// them for a machine (JSON) or a person (text).
package diff
