//go:build !unix

package index

// fileLock is a no-op where flock is not available: SQLite's own locking, with its busy
// timeout, serialises the processes.
type fileLock struct{}

func openLock(string) *fileLock { return nil }
func (*fileLock) lock()         {}
func (*fileLock) unlock()       {}
func (*fileLock) close()        {}
