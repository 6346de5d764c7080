// Package browsertest starts headless Chromium for the tests that check pages in a real
// browser (package report's reports, segment serve), and skips a test with a message that
// says how to install one where there is none.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// names are the executables looked for on PATH when SEGMENT_CHROMIUM is unset.
var names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Chromium gives the browser's executable: SEGMENT_CHROMIUM, else the first of chromium,
// chromium-browser, google-chrome and google-chrome-stable on PATH. It skips the test where
// there is none.
func Chromium(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("SEGMENT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	tb.Skip("skipped: no Chromium found (SEGMENT_CHROMIUM is unset and none of chromium, chromium-browser, google-chrome, google-chrome-stable is on PATH); `apt-get install chromium` installs it")
	return ""
}

// Context starts Chromium with one 1280x900 tab and gives the chromedp context of that tab;
// the end of the test closes the browser. As root it runs without Chromium's sandbox, which
// refuses root.
func Context(tb testing.TB) context.Context {
	tb.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(Chromium(tb)), chromedp.WindowSize(1280, 900))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	tb.Cleanup(func() { cancel(); cancelAlloc() })
	return ctx
}

// LoadReportThumbnails is a script for chromedp.Evaluate that scrolls each visible row of a
// report's image table into view, waits for its four lazy thumbnails to load, and returns
// what did not load. The report's tests and the eval --report test share it, so that both
// check the page the same way and leave it scrolled to the top, painted, for a screenshot.
const LoadReportThumbnails = `(async () => {
	const bad = [];
	const frame = () => new Promise(r => requestAnimationFrame(r));
	for (const tr of document.querySelectorAll("#images tbody tr:not(.hidden)")) {
		tr.scrollIntoView();
		for (let n = 0; n < 400 && tr.querySelectorAll("img").length < 4; n++) await frame();
		const imgs = tr.querySelectorAll("img");
		if (imgs.length !== 4) bad.push("row " + tr.dataset.i + " has " + imgs.length + " thumbnails");
		for (const img of imgs) {
			if (img.naturalWidth === 0) {
				await new Promise(done => {
					img.addEventListener("load", done, {once: true});
					img.addEventListener("error", done, {once: true});
					setTimeout(done, 10000);
				});
			}
			if (img.naturalWidth === 0) bad.push(img.getAttribute("src"));
		}
	}
	window.scrollTo(0, 0);
	// Two frames, so that the sticky header is painted again at the top before anyone looks:
	// a screenshot taken at once, on a loaded machine, once caught it half repainted.
	await frame();
	await frame();
	return bad;
})()`
