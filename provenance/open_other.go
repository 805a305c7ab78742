//go:build !unix

package provenance

import "os"

// openFlags are the flags files to hash are opened with.
const openFlags = os.O_RDONLY
