package lineage_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/provkit/provkit/verify/lineage"
)

// debianChromium is the browser the report is read in.
const debianChromium = "/usr/bin/chromium"

// TestReportInBrowser opens the study's report in headless Chromium at 1,400 pixels and at a
// phone's 390: the page never scrolls sideways as a whole (wide tables scroll in their own
// box), a short digest stays on one line, the graph image renders, and the policy lets no
// script run.
func TestReportInBrowser(t *testing.T) {
	if _, err := os.Stat(debianChromium); err != nil {
		t.Skip("Chromium is not installed at " + debianChromium)
	}
	dot := testDot(t)
	s := newStudy(t)
	var buf bytes.Buffer
	if err := s.graph(t).WriteHTML(t.Context(), &buf, lineage.Report{Title: "Heat study", Dot: dot}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{1400, 900}, {390, 844}} {
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(debianChromium), chromedp.NoSandbox, chromedp.DisableGPU,
			chromedp.Headless, chromedp.WindowSize(size[0], size[1]))
		actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel2 := chromedp.NewContext(actx)
		ctx, cancel3 := context.WithTimeout(ctx, 2*time.Minute)
		if err := chromedp.Do(ctx, chromedp.Navigate("file://"+path), chromedp.WaitReady(chromedp.CSS(`h1`))); err != nil {
			cancel3()
			cancel2()
			cancel()
			t.Fatal(err)
		}
		check := func(what, expr string) {
			t.Helper()
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
			if err != nil || !ok {
				t.Errorf("%dpx: %s (%v)", size[0], what, err)
			}
		}
		check("the page scrolls sideways", `document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1`)
		check("a table overflows its box", `[...document.querySelectorAll("div.scroll")].every(d => d.getBoundingClientRect().right <= document.documentElement.clientWidth + 1)`)
		check("a short digest wraps", `[...document.querySelectorAll("code.digest")].every(c => c.getClientRects().length === 1 && c.getBoundingClientRect().height < 30)`)
		check("the graph does not render", `(() => { const i = document.querySelector("img.lineage-graph"); return i.complete && i.naturalWidth > 0 })()`)
		check("the steps are missing", `document.querySelectorAll("tr[id^=step-]").length === 4`)
		cancel3()
		cancel2()
		cancel()
	}
}
