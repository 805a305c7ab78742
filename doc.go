// Package provkit is the map of an SDK for build provenance: generate it from a real build, sign
// it, store it beside the artifact, find it again, verify it, and decide with it.
package provkit
