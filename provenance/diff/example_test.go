package diff_test

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/provenance/diff"
)

// A drift check: the image running now against the known-good baseline, written for a person
// and for a machine.
func Example() {
	config := func(user string, env ...string) *ocispec.Image {
		return &ocispec.Image{
			Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
			Config:   ocispec.ImageConfig{User: user, Env: env, Entrypoint: []string{"/app"}},
		}
	}
	manifest := func(layers ...string) *ocispec.Manifest {
		m := &ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest}
		for _, l := range layers {
			m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromString(l)})
		}
		return m
	}
	baseline := diff.Image{Manifest: manifest("base", "app"), Config: config("app", "PATH=/usr/bin")}
	current := diff.Image{Manifest: manifest("base", "app", "debug tools"), Config: config("root", "PATH=/usr/bin", "DEBUG=1")}

	report := &diff.Report{
		Schema:   diff.ReportSchema,
		Baseline: "registry.example/shop/api@prod",
		Current:  "registry.example/shop/api:latest",
		Changes:  diff.Images(baseline, current),
	}
	if err := report.WriteText(os.Stdout); err != nil {
		fmt.Println(err)
	}
	data, _ := json.Marshal(report.Changes[0])
	fmt.Println(string(data))
	// Output:
	// baseline registry.example/shop/api@prod, current registry.example/shop/api:latest: 3 differences
	// + config.env.DEBUG: 1
	// ~ config.user: app -> root
	// + layers[2]: sha256:522059c1dfe5af55b1464a8a9305bc7f18e8a8f17154fb87b08843fff9d18022
	// {"field":"config.env.DEBUG","kind":"added","current":"1"}
}

// What one tag resolves to in each environment, compared with production.
func ExampleEnvironments() {
	good := digest.FromString("release 1.4")
	for _, c := range diff.Environments("prod", map[string]digest.Digest{
		"prod":    good,
		"staging": digest.FromString("release 1.5"),
		"dr":      good,
		"eu":      "",
	}) {
		fmt.Println(c.Field, c.Kind)
	}
	// Output:
	// environments.eu removed
	// environments.staging changed
}
