package rebuild_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/diff"
	"github.com/provkit/provkit/provenance/rebuild"
)

var checkedOn = time.Date(2026, 3, 4, 5, 6, 7, 890, time.UTC)

// writeTree writes files (relative path -> content) below a new directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func hashTree(t *testing.T, files map[string]string) []*intoto.ResourceDescriptor {
	t.Helper()
	subjects, err := provenance.SubjectsFromDir(context.Background(), writeTree(t, files))
	require.NoError(t, err)
	return subjects
}

func build(builder string, deps ...*intoto.ResourceDescriptor) *provenance.Build {
	if deps == nil {
		deps = []*intoto.ResourceDescriptor{
			{Uri: "git+https://github.com/example/app@refs/tags/v1.0.0", Digest: map[string]string{"gitCommit": strings.Repeat("c", 40)}},
			{Uri: "pkg:golang/golang.org/x/text@v0.3.0", Digest: map[string]string{"sha256": digest.FromString("text").Encoded()}},
		}
	}
	return &provenance.Build{
		BuildType:            "https://example.com/make/v1",
		ExternalParameters:   map[string]any{"target": "release"},
		ResolvedDependencies: deps,
		BuilderID:            builder,
	}
}

func statement(t *testing.T, b *provenance.Build, subjects []*intoto.ResourceDescriptor) *intoto.Statement {
	t.Helper()
	st, err := b.Statement(subjects)
	require.NoError(t, err)
	return st
}

var release = map[string]string{"bin/app": "app binary", "share/README": "read me", "lib/libx.so": "lib"}

func TestCheckDirectoryMatch(t *testing.T) {
	original := statement(t, build("https://ci.example/release"), hashTree(t, release))
	rebuiltProv := statement(t, build("https://rebuilder.example/independent"), hashTree(t, release))
	res, err := rebuild.Check(rebuild.Input{
		Original:   original,
		Rebuilt:    hashTree(t, release),
		Provenance: rebuiltProv,
		CheckedOn:  checkedOn,
	})
	require.NoError(t, err)
	assert.True(t, res.Matched())
	require.NoError(t, res.Err())
	assert.Equal(t, rebuild.Match, res.Outcome)
	assert.Empty(t, res.Differences)
	assert.Equal(t, "https://rebuilder.example/independent", res.RebuilderID)
	assert.Equal(t, []string{rebuild.ComparedSubjects, rebuild.ComparedMaterials, rebuild.ComparedParameters}, res.Compared)
	canonical, err := provenance.Marshal(original)
	require.NoError(t, err)
	assert.Equal(t, digest.FromBytes(canonical), res.Original.Statement)
	assert.Equal(t, provenance.PredicateSLSAProvenanceV1, res.Original.PredicateType)
	assert.Len(t, res.Original.Subjects, 3)
	assert.Equal(t, checkedOn, res.CheckedOn)
}

func TestCheckDirectoryMismatch(t *testing.T) {
	original := statement(t, build("https://ci.example/release"), hashTree(t, release))
	changed := map[string]string{"bin/app": "app binary, different", "share/README": "read me", "share/extra": "x"}
	res, err := rebuild.Check(rebuild.Input{Original: original, Rebuilt: hashTree(t, changed), CheckedOn: checkedOn})
	require.NoError(t, err)
	assert.False(t, res.Matched())
	assert.Equal(t, rebuild.Mismatch, res.Outcome)
	var fields []string
	for _, c := range res.Differences {
		fields = append(fields, c.Field+" "+string(c.Kind))
	}
	assert.Equal(t, []string{"subjects[bin/app] changed", "subjects[lib/libx.so] removed", "subjects[share/extra] added"}, fields)
	err = res.Err()
	require.ErrorIs(t, err, rebuild.ErrMismatch)
	var me *rebuild.MismatchError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, res.Differences, me.Differences)
	assert.Contains(t, err.Error(), "3 differences: subjects[bin/app] changed")
}

func TestCheckMaterials(t *testing.T) {
	subjects := hashTree(t, release)
	original := statement(t, build("https://ci.example/release"), subjects)
	other := build("https://rebuilder.example", &intoto.ResourceDescriptor{
		Uri: "git+https://github.com/example/app@refs/tags/v1.0.0", Digest: map[string]string{"gitCommit": strings.Repeat("d", 40)},
	})
	res, err := rebuild.Check(rebuild.Input{Original: original, Rebuilt: subjects, Provenance: statement(t, other, subjects), CheckedOn: checkedOn})
	require.NoError(t, err)
	assert.Equal(t, []diff.Change{
		{Field: "materials[git+https://github.com/example/app@refs/tags/v1.0.0]", Kind: diff.Changed,
			Baseline: "gitCommit:" + strings.Repeat("c", 40), Current: "gitCommit:" + strings.Repeat("d", 40)},
		{Field: "materials[pkg:golang/golang.org/x/text@v0.3.0]", Kind: diff.Removed, Baseline: digest.FromString("text").String()},
	}, res.Differences)
	assert.Equal(t, "https://rebuilder.example", res.RebuilderID)
}

func TestCheckParameters(t *testing.T) {
	subjects := hashTree(t, release)
	original := statement(t, build("https://ci.example/release"), subjects)
	other := build("https://rebuilder.example")
	other.BuildType = "https://example.com/make/v2"
	other.ExternalParameters = map[string]any{"target": "debug", "jobs": 8}
	res, err := rebuild.Check(rebuild.Input{Original: original, Rebuilt: subjects, Provenance: statement(t, other, subjects), CheckedOn: checkedOn})
	require.NoError(t, err)
	assert.Equal(t, []diff.Change{
		{Field: "buildType", Kind: diff.Changed, Baseline: "https://example.com/make/v1", Current: "https://example.com/make/v2"},
		{Field: "externalParameters.jobs", Kind: diff.Added, Current: "8"},
		{Field: "externalParameters.target", Kind: diff.Changed, Baseline: "release", Current: "debug"},
	}, res.Differences, "the same subjects from other inputs are not a reproduction")
	assert.False(t, res.Matched())

	st, err := res.Statement()
	require.NoError(t, err)
	back, err := rebuild.Parse(st)
	require.NoError(t, err)
	assert.Equal(t, res.Differences, back.Differences)
}

func image(layers ...string) *diff.Image {
	m := &ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest}
	for _, l := range layers {
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromString(l)})
	}
	return &diff.Image{
		Descriptor: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString(strings.Join(layers, ","))},
		Manifest:   m,
		Config:     &ocispec.Image{Config: ocispec.ImageConfig{User: "app"}},
	}
}

func TestCheckImage(t *testing.T) {
	orig, rebuilt := image("base", "app"), image("base", "app with timestamps")
	origSubject, err := provenance.SubjectFromDescriptor("registry.example/team/app", orig.Descriptor)
	require.NoError(t, err)
	rebuiltSubject, err := provenance.SubjectFromDescriptor("localhost:5000/rebuilds/app", rebuilt.Descriptor)
	require.NoError(t, err)
	original := statement(t, build("https://ci.example/release"), []*intoto.ResourceDescriptor{origSubject})

	res, err := rebuild.Check(rebuild.Input{Original: original, Rebuilt: []*intoto.ResourceDescriptor{rebuiltSubject},
		OriginalImage: orig, RebuiltImage: rebuilt, CheckedOn: checkedOn})
	require.NoError(t, err)
	var fields []string
	for _, c := range res.Differences {
		fields = append(fields, c.Field)
	}
	// The single subjects are paired though their repositories differ.
	assert.Equal(t, []string{"image.digest", "image.layers[1]", "subjects[registry.example/team/app]"}, fields)
	assert.Equal(t, []string{rebuild.ComparedSubjects, rebuild.ComparedImage}, res.Compared)

	// The same image pushed elsewhere matches.
	same, err := provenance.SubjectFromDescriptor("localhost:5000/rebuilds/app", orig.Descriptor)
	require.NoError(t, err)
	res, err = rebuild.Check(rebuild.Input{Original: original, Rebuilt: []*intoto.ResourceDescriptor{same},
		OriginalImage: orig, RebuiltImage: image("base", "app"), CheckedOn: checkedOn})
	require.NoError(t, err)
	assert.True(t, res.Matched(), "%v", res.Differences)
}

func TestCheckInputErrors(t *testing.T) {
	subjects := []*intoto.ResourceDescriptor{{Name: "app", Digest: map[string]string{"sha256": digest.FromString("app").Encoded()}}}
	original := statement(t, build("https://ci.example"), subjects)
	sbom, err := provenance.NewStatement(subjects, provenance.PredicateSPDX, map[string]any{"spdxVersion": "SPDX-2.3"})
	require.NoError(t, err)
	valid := func() rebuild.Input {
		return rebuild.Input{Original: original, Rebuilt: subjects, CheckedOn: checkedOn}
	}
	tests := []struct {
		name  string
		edit  func(*rebuild.Input)
		field string
	}{
		{"no original", func(in *rebuild.Input) { in.Original = nil }, "Original"},
		{"invalid original", func(in *rebuild.Input) { in.Original = &intoto.Statement{Type: provenance.StatementTypeV1} }, "Original"},
		{"no rebuilt", func(in *rebuild.Input) { in.Rebuilt = nil }, "Rebuilt"},
		{"rebuilt without digest", func(in *rebuild.Input) { in.Rebuilt = []*intoto.ResourceDescriptor{{Name: "app"}} }, "Rebuilt"},
		{"rebuilt bad digest", func(in *rebuild.Input) {
			in.Rebuilt = []*intoto.ResourceDescriptor{{Name: "app", Digest: map[string]string{"sha256": "zz"}}}
		}, "Rebuilt"},
		{"rebuilt nil", func(in *rebuild.Input) { in.Rebuilt = []*intoto.ResourceDescriptor{nil} }, "Rebuilt"},
		{"rebuilt duplicate", func(in *rebuild.Input) {
			in.Rebuilt = append(append([]*intoto.ResourceDescriptor{}, subjects...), subjects...)
		}, "Rebuilt"},
		{"no time", func(in *rebuild.Input) { in.CheckedOn = time.Time{} }, "CheckedOn"},
		{"one image", func(in *rebuild.Input) { in.OriginalImage = image("a") }, "RebuiltImage"},
		{"original image not the subject", func(in *rebuild.Input) { in.OriginalImage, in.RebuiltImage = image("a"), image("a") }, "OriginalImage"},
		{"rebuilt image not the subject", func(in *rebuild.Input) {
			img := image("a")
			in.OriginalImage, in.RebuiltImage = img, image("b")
			in.Original = statement(t, build("https://ci.example"), []*intoto.ResourceDescriptor{{Name: "app", Digest: map[string]string{"sha256": img.Descriptor.Digest.Encoded()}}})
		}, "RebuiltImage"},
		{"other image", func(in *rebuild.Input) { in.RebuiltImage = image("a") }, "OriginalImage"},
		{"original not SLSA", func(in *rebuild.Input) { in.Original, in.Provenance = sbom, original }, "Original"},
		{"provenance not SLSA", func(in *rebuild.Input) { in.Provenance = sbom }, "Provenance"},
		{"provenance of another artifact", func(in *rebuild.Input) {
			in.Provenance = statement(t, build("https://rebuilder.example"), []*intoto.ResourceDescriptor{{Name: "app", Digest: map[string]string{"sha256": digest.FromString("other").Encoded()}}})
		}, "Provenance"},
		{"original subject without a name", func(in *rebuild.Input) {
			in.Original = statement(t, build("https://ci.example"), []*intoto.ResourceDescriptor{{Digest: subjects[0].GetDigest()}})
		}, "Original"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.edit(&in)
			res, err := rebuild.Check(in)
			require.ErrorIs(t, err, rebuild.ErrInvalidInput)
			assert.Nil(t, res)
			var ie *rebuild.InputError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
}

// equalResults compares two results, the protobuf descriptors with proto.Equal.
func equalResults(t *testing.T, want, got *rebuild.Result) {
	t.Helper()
	equalDescriptors := func(a, b []*intoto.ResourceDescriptor) {
		t.Helper()
		require.Len(t, b, len(a))
		for i := range a {
			assert.True(t, proto.Equal(a[i], b[i]), "%v != %v", a[i], b[i])
		}
	}
	equalDescriptors(want.Original.Subjects, got.Original.Subjects)
	equalDescriptors(want.Rebuilt, got.Rebuilt)
	w, g := *want, *got
	w.Original.Subjects, g.Original.Subjects, w.Rebuilt, g.Rebuilt = nil, nil, nil, nil
	assert.Equal(t, w, g)
}

func TestStatementRoundTrip(t *testing.T) {
	subjects := hashTree(t, release)
	original := statement(t, build("https://ci.example/release"), subjects)
	imageOriginal := statement(t, build("https://ci.example/release"), []*intoto.ResourceDescriptor{{Name: "registry.example/app", Digest: map[string]string{"sha256": image("a").Descriptor.Digest.Encoded()}}})
	imageRebuilt := []*intoto.ResourceDescriptor{{Name: "localhost/app", Digest: map[string]string{"sha256": image("a", "b\x1b").Descriptor.Digest.Encoded()}}}
	for _, in := range []rebuild.Input{
		{Original: original, Rebuilt: subjects, Provenance: statement(t, build("https://rebuilder.example"), subjects), CheckedOn: checkedOn},
		{Original: imageOriginal, Rebuilt: imageRebuilt, CheckedOn: checkedOn, OriginalImage: image("a"), RebuiltImage: image("a", "b\x1b")},
	} {
		res, err := rebuild.Check(in)
		require.NoError(t, err)
		st, err := res.Statement()
		require.NoError(t, err)
		assert.Equal(t, rebuild.PredicateType, st.GetPredicateType())
		data, err := provenance.Marshal(st)
		require.NoError(t, err)
		back, err := provenance.ParseStatement(data)
		require.NoError(t, err)
		got, err := rebuild.Parse(back)
		require.NoError(t, err)
		equalResults(t, res, got)
		assert.Equal(t, res.Matched(), got.Matched())
	}
}
