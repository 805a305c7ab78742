//go:build !unix

package rerun

// noFollow is not available here; the checks on parent directories still apply.
const noFollow = 0
