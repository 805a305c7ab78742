package kms_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoCloudProviders checks that package kms links no KMS provider and no cloud SDK: the
// caller opts in with a blank import, so programs that do not use a cloud keep a small
// module graph.
func TestNoCloudProviders(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("finding the go command: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", "github.com/provkit/provkit/sign/kms").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{
		"github.com/sigstore/sigstore/pkg/signature/kms/aws",
		"github.com/sigstore/sigstore/pkg/signature/kms/azure",
		"github.com/sigstore/sigstore/pkg/signature/kms/gcp",
		"github.com/sigstore/sigstore/pkg/signature/kms/hashivault",
		"github.com/aws/",
		"github.com/Azure/",
		"cloud.google.com/",
		"github.com/hashicorp/vault/",
		"github.com/ThalesGroup/crypto11",
		"github.com/miekg/pkcs11",
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list printed no dependencies")
	}
	for _, dep := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("package kms depends on %s", dep)
			}
		}
	}
}
