package pkcs11_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCgoIsolated checks that no provkit library package but this one links PKCS#11, so that
// the rest of the SDK builds without cgo. Example programs under examples/ may use it.
func TestCgoIsolated(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("finding the go command: %v", err)
	}
	// -e: a package that does not build yet still lists the imports it names.
	out, err := exec.Command(goTool, "list", "-e", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "github.com/provkit/provkit/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 2 {
		t.Fatalf("go list listed %d packages", len(lines))
	}
	for _, line := range lines {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] == "github.com/provkit/provkit/sign/pkcs11" ||
			strings.HasPrefix(fields[0], "github.com/provkit/provkit/examples/") {
			continue
		}
		for _, dep := range fields[1:] {
			if dep == "github.com/ThalesGroup/crypto11" || dep == "github.com/miekg/pkcs11" || dep == "github.com/provkit/provkit/sign/pkcs11" {
				t.Errorf("%s depends on %s: only sign/pkcs11 may use PKCS#11 and cgo", fields[0], dep)
			}
		}
	}
}
