package dashboard_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	_ "image/png"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromium = "/usr/bin/chromium"

// browser starts headless Chromium for the test, with a window of width by height pixels.
func browser(t *testing.T, width, height int) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("Chromium is not installed at " + chromium)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Headless, chromedp.WindowSize(width, height), chromedp.Flag("lang", "en-US"))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel3)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// do runs the actions in order, failing the test at the first error.
func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// get runs one action and returns its value, failing the test on error.
func value[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestBrowser drives Chromium through the dashboard of a real pipeline: pages load, links and
// search work, the lineage graph renders with one clickable region per node, and injection
// attempts through names, parameters and signer identities show as text and run nothing.
func TestBrowser(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz dot is not installed")
	}
	p := newPipeline(t)
	srv := server(t, p)
	ctx := browser(t, 1400, 900)
	path := func() string { return value(t, ctx, chromedp.Evaluate[string](`location.pathname`)) }

	t.Run("navigation", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(srv.URL+"/"))
		if title := value(t, ctx, chromedp.Title()); title != "Overview · Provenance" {
			t.Errorf("title %q", title)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS(`header nav a[href="/artifacts"]`)), chromedp.WaitVisible(chromedp.CSS(`main table`)))
		if got, title := path(), value(t, ctx, chromedp.Title()); got != "/artifacts" || title != "Artifacts · Provenance" {
			t.Errorf("after clicking Artifacts: %s, %q", got, title)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS(`a[title="`+p.model.String()+`"]`)), chromedp.WaitVisible(chromedp.CSS(`section.verdict`)))
		text := value(t, ctx, chromedp.Text(chromedp.CSS(`main`)))
		if got := path(); got != "/artifact/"+p.model.String() || !strings.Contains(text, "deprecated") || !strings.Contains(text, "train") {
			t.Errorf("model page %s: %.300q", got, text)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS(`a.button`)), chromedp.WaitReady(chromedp.CSS(`#graph`)))
		if got := path(); got != "/lineage/"+p.model.String() {
			t.Errorf("the lineage link went to %s", got)
		}
	})

	t.Run("search", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(srv.URL+"/search"),
			chromedp.SendKeys(chromedp.CSS(`input[name="param"]`), "/parameters/min=-40"),
			chromedp.Click(chromedp.CSS(`form.search button`)),
			chromedp.WaitVisible(chromedp.CSS(`main table`)))
		text := value(t, ctx, chromedp.Text(chromedp.CSS(`main`)))
		if got := path(); got != "/search" || !strings.Contains(text, "1 found") || !strings.Contains(text, "clean.csv") {
			t.Errorf("search by parameter: %s %.400q", got, text)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS(`main table a[href^="/artifact/"]`)), chromedp.WaitVisible(chromedp.CSS(`section.verdict`)))
		if got := path(); got != "/artifact/"+p.clean.String() {
			t.Errorf("the result's link went to %s", got)
		}
	})

	t.Run("injection", func(t *testing.T) {
		for _, c := range []struct {
			path, title string
			want        []string
		}{
			{"/artifact/" + p.figure.String(), p.figureName + " · Provenance", []string{p.figureName, evilSigner, "plot" + scriptPayload}},
			{"/artifact/" + p.clean.String(), "clean.csv · Provenance", []string{`src=x onerror=`}},
			{"/lineage/" + p.figure.String(), "Lineage of " + p.figureName + " · Provenance", []string{"plot" + scriptPayload, p.figureName}},
			{"/builds", "Recent builds · Provenance", []string{"plot" + scriptPayload, evilSigner}},
		} {
			do(t, ctx, chromedp.Navigate(srv.URL+c.path), chromedp.WaitReady(chromedp.CSS(`footer`)))
			// Each payload would set the title to "pwned"; the title must be the page's own.
			if title := value(t, ctx, chromedp.Title()); title != c.title {
				t.Errorf("%s: title %q, want %q", c.path, title, c.title)
			}
			if n := value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('main script, main img[src="x"], main [onerror]').length`)); n != 0 {
				t.Errorf("%s: %d payloads became elements", c.path, n)
			}
			text := value(t, ctx, chromedp.Text(chromedp.CSS(`main`)))
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("%s: payload %q not shown as text", c.path, w)
				}
			}
		}
	})

	t.Run("graph", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(srv.URL+"/lineage/"+p.figure.String()+"?dir=up"), chromedp.WaitReady(chromedp.CSS(`#graph`)))
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#graph').complete`)); err != nil {
			t.Fatal(err)
		}
		natural := value(t, ctx, chromedp.Evaluate[[]int](`[document.querySelector('#graph').naturalWidth, document.querySelector('#graph').naturalHeight]`))
		if len(natural) != 2 || natural[0] == 0 || natural[1] == 0 {
			t.Fatalf("graph image not rendered: natural size %v", natural)
		}
		if areas := value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('map#lineage area').length`)); areas != 13 {
			t.Errorf("%d map areas, want 13: one per node (4 steps, 5 data artifacts, 4 images)", areas)
		}
		shot := value(t, ctx, chromedp.Screenshot(chromedp.CSS(`#graph`)))
		img, _, err := image.Decode(bytes.NewReader(shot))
		if err != nil {
			t.Fatal(err)
		}
		// Structure, not pixels: a drawn graph has background, node fills, outlines and text.
		colors := map[color.RGBA]bool{}
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y += 2 {
			for x := b.Min.X; x < b.Max.X; x += 2 {
				r, g, bl, a := img.At(x, y).RGBA()
				colors[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)}] = true
			}
		}
		if b.Dx() < 100 || b.Dy() < 50 || len(colors) < 8 {
			t.Errorf("screenshot %dx%d with %d colours: not a drawn graph", b.Dx(), b.Dy(), len(colors))
		}

		// Click the centre of a step's region on the image itself: the map must lie over it.
		target := value(t, ctx, chromedp.Evaluate[[]float64](`(() => {
			const img = document.querySelector('#graph'), box = img.getBoundingClientRect();
			for (const a of document.querySelectorAll('map#lineage area[href^="/step/"]')) {
				const c = a.coords.split(',').map(Number);
				const xs = [], ys = [];
				for (let i = 0; i + 1 < c.length; i += 2) { xs.push(c[i]); ys.push(c[i+1]); }
				const x = box.left + (Math.min(...xs) + Math.max(...xs)) / 2, y = box.top + (Math.min(...ys) + Math.max(...ys)) / 2;
				if (x > 0 && y > 0 && x < innerWidth && y < innerHeight) return [x, y];
			}
			return [];
		})()`))
		if len(target) != 2 {
			t.Fatal("no step region visible on the graph")
		}
		do(t, ctx, chromedp.MouseClickXY(target[0], target[1]), chromedp.WaitReady(chromedp.CSS(`dl.facts`)))
		if got := path(); !strings.HasPrefix(got, "/step/sha256:") {
			t.Errorf("clicking a step on the graph went to %s", got)
		}
	})
}

// TestBrowserLayout checks that pages fit a 1,400 pixel screen and a phone's without the page
// itself scrolling sideways: long digests and tables scroll within their own boxes.
func TestBrowserLayout(t *testing.T) {
	p := newPipeline(t)
	srv := server(t, p)
	for _, size := range [][2]int{{1400, 900}, {390, 844}} {
		ctx := browser(t, size[0], size[1])
		for _, path := range []string{"/", "/artifacts", "/artifact/" + p.figure.String(), "/artifact/" + p.clean.String(), "/builds", "/drift", "/search",
			"/lineage/" + p.figure.String()} {
			do(t, ctx, chromedp.Navigate(srv.URL+path), chromedp.WaitReady(chromedp.CSS(`footer`)))
			widths := value(t, ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
			if len(widths) != 2 || widths[0] > widths[1]+1 {
				t.Errorf("%dpx wide, %s: page is %v pixels wide (scroll, client)", size[0], path, widths)
			}
		}
	}
}
