//go:build unix

package provenance

import (
	"os"
	"syscall"
)

// openFlags open a FIFO without waiting for a writer, so its mode can be checked and refused.
// O_NONBLOCK changes nothing for regular files.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK
