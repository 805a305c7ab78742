// Package storetest is the conformance suite every provenance.Store passes: memory, OCI layout
// and every registry, in-process or real. A backend's test calls Run with a function that makes
// a fresh store holding one image manifest.
package storetest
