package diff_test

import (
	"strconv"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance/diff"
)

// benchImages returns two images of 50 layers and 100 environment variables that differ in
// every tenth layer and variable.
func benchImages() (diff.Image, diff.Image) {
	a, b := testImage(), testImage()
	a.Manifest.Layers, b.Manifest.Layers = nil, nil
	a.Config.Config.Env, b.Config.Config.Env = nil, nil
	for i := range 50 {
		a.Manifest.Layers = append(a.Manifest.Layers, layer("layer "+strconv.Itoa(i)))
		l := layer("layer " + strconv.Itoa(i))
		if i%10 == 0 {
			l.Digest = digest.FromString("changed " + strconv.Itoa(i))
		}
		b.Manifest.Layers = append(b.Manifest.Layers, l)
	}
	for i := range 100 {
		v := "VAR" + strconv.Itoa(i) + "=value " + strconv.Itoa(i)
		a.Config.Config.Env = append(a.Config.Config.Env, v)
		if i%10 == 0 {
			v += " changed"
		}
		b.Config.Config.Env = append(b.Config.Config.Env, v)
	}
	return a, b
}

func BenchmarkImages(b *testing.B) {
	x, y := benchImages()
	if n := len(diff.Images(x, y)); n != 15 {
		b.Fatalf("%d changes, want 15", n)
	}
	b.ReportAllocs()
	for b.Loop() {
		diff.Images(x, y)
	}
}
