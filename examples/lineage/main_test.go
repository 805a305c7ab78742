package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
)

func TestLineageRunsTheWholePipeline(t *testing.T) {
	dot := testenv.Dot(t)
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, dir, dot), out.String())
	text := out.String()
	for _, want := range []string{
		"ingest  raw.csv",
		"clean   clean.csv",
		"train   model.json",
		"3 attestations verified, 0 rejected",
		"survey-export.csv",
		"-[ingest, signed by key:data-team]-> raw.csv",
		"-[clean, signed by key:data-team]-> clean.csv",
		"-[train, signed by key:ml-team]-> model.json",
		"matched: the same subjects, byte for byte, from the same materials and parameters",
		"signed the https://provkit.dev/rebuild/v1 statement as rebuilder",
	} {
		assert.Contains(t, text, want)
	}

	// The model's upstream reaches the raw export and every step's container image.
	upstream := section(text, "3. ", "4. ")
	for _, want := range []string{"survey-export.csv", "raw.csv", "clean.csv", "science.example/tools/ingest ", "science.example/tools/clean ", "science.example/tools/train "} {
		assert.Contains(t, upstream, want)
	}
	assert.NotContains(t, upstream, "metrics.json", "a sibling output is not upstream")

	// The index finds what raw.csv fed: clean.csv directly.
	assert.Contains(t, section(text, "4. ", "5. "), "clean.csv")

	// The rebuild with another ridge penalty differs in the model and metrics and in the
	// parameter, and says so field by field.
	mismatch := section(text, "6. ", "7. ")
	assert.Contains(t, mismatch, "subjects[model.json]")
	assert.Contains(t, mismatch, "subjects[metrics.json]")
	assert.Regexp(t, `externalParameters\.parameters\.ridge +0\.25 -> 2`, mismatch)

	var crate struct {
		Context any              `json:"@context"`
		Graph   []map[string]any `json:"@graph"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "ro-crate-metadata.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &crate))
	require.IsType(t, []any{}, crate.Context)
	assert.Equal(t, "https://w3id.org/ro/crate/1.1/context", crate.Context.([]any)[0])
	actions := 0
	for _, e := range crate.Graph {
		if e["@type"] == "CreateAction" {
			actions++
		}
	}
	assert.Equal(t, 4, actions, "one CreateAction per step, and one for the workflow run")

	report, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(report), `src="data:image/svg+xml;base64,`)
	assert.Contains(t, string(report), "model.json")
}

func TestLineageRunIsReproducible(t *testing.T) {
	// The layout's artifacts and statements depend only on the inputs and the fixed clock: two
	// runs store the same model under the same manifest digest. Signatures differ (new keys).
	var digests [2]string
	for i := range digests {
		dir := t.TempDir()
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), &out, dir, "/nonexistent/dot"), out.String())
		assert.Contains(t, out.String(), "no report:", "a missing Graphviz is reported, not fatal")
		index, err := os.ReadFile(filepath.Join(dir, "layout", "index.json"))
		require.NoError(t, err)
		var idx struct {
			Manifests []struct {
				Digest      string            `json:"digest"`
				Annotations map[string]string `json:"annotations"`
			} `json:"manifests"`
		}
		require.NoError(t, json.Unmarshal(index, &idx))
		for _, m := range idx.Manifests {
			if m.Annotations["org.opencontainers.image.ref.name"] == "model" {
				digests[i] = m.Digest
			}
		}
		require.NotEmpty(t, digests[i], "the model is tagged in the layout")
	}
	assert.Equal(t, digests[0], digests[1])
}

// section returns the text between the first line starting with from and the next starting
// with to.
func section(text, from, to string) string {
	start := strings.Index(text, "\n"+from)
	if start < 0 {
		return ""
	}
	rest := text[start+1:]
	if end := strings.Index(rest, "\n"+to); end >= 0 {
		return rest[:end]
	}
	return rest
}
