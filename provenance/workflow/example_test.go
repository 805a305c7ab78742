package workflow_test

import (
	"fmt"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/workflow"
)

func Example() {
	raw := digest.FromString("id,value\n1,\n2,3\n")
	clean := digest.FromString("id,value\n2,3\n")
	image := digest.FromString("the clean tool's image manifest")

	step := &workflow.Step{
		Name:       "clean",
		Workflow:   "https://github.com/example/pipeline",
		Image:      "registry.example/tools/clean:1.2@" + image.String(),
		Command:    []string{"clean", "--drop-nulls", "raw.csv", "-o", "clean.csv"},
		Parameters: map[string]any{"dropNulls": true, "columns": []string{"id", "value"}},
		Inputs: []*intoto.ResourceDescriptor{{
			Uri:    "https://data.example/raw.csv",
			Digest: map[string]string{"sha256": raw.Encoded()},
		}},
		Outputs:   []*intoto.ResourceDescriptor{{Name: "clean.csv", Digest: map[string]string{"sha256": clean.Encoded()}}},
		BuilderID: "https://ci.example/runners/science",
		RunID:     "run-42",
	}
	st, err := step.Statement()
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := provenance.SLSAProvenance(st)
	bd := p.GetBuildDefinition()
	fmt.Println(bd.GetBuildType())
	fmt.Println(bd.GetExternalParameters().GetFields()["name"].GetStringValue())
	for _, dep := range bd.GetResolvedDependencies() {
		fmt.Println(provenance.Role(dep), dep.GetUri(), dep.GetDigest()["sha256"][:12])
	}
	fmt.Println(st.GetSubject()[0].GetName(), strings.HasPrefix(clean.Encoded(), st.GetSubject()[0].GetDigest()["sha256"][:12]))
	// Output:
	// https://provkit.dev/workflow/step/v1
	// clean
	// toolchain oci://registry.example/tools/clean 7d7f7fac5d7c
	// material https://data.example/raw.csv 100c6b016ebf
	// clean.csv true
}

func ExampleImage() {
	repo, d, err := workflow.Image("localhost:5000/tools/train:v3@sha256:" + strings.Repeat("ab", 32))
	fmt.Println(repo, d.Algorithm(), err)

	_, _, err = workflow.Image("localhost:5000/tools/train:v3")
	fmt.Println(err)
	// Output:
	// localhost:5000/tools/train sha256 <nil>
	// workflow: image "localhost:5000/tools/train:v3" is not pinned by digest (want REPOSITORY@sha256:HEX)
}

func ExampleNormalizeORCID() {
	id, err := workflow.NormalizeORCID("0000-0002-1825-0097")
	fmt.Println(id, err)
	_, err = workflow.NormalizeORCID("0000-0002-1825-0098")
	fmt.Println(err)
	// Output:
	// https://orcid.org/0000-0002-1825-0097 <nil>
	// workflow: ORCID iD "0000-0002-1825-0098": check digit is 8, want 7
}
