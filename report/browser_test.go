package report

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/segment-dev/segment/internal/browsertest"
	"github.com/segment-dev/segment/metrics"
)

// These tests open reports in a real browser, Chromium headless, driven through the DevTools
// protocol. SEGMENT_CHROMIUM names the browser's executable; otherwise chromium,
// chromium-browser, google-chrome or google-chrome-stable is looked for on PATH, and the
// tests skip where there is none. With SEGMENT_SCREENSHOTS set to a folder, they write
// screenshots of the reports there.

// browser is one headless Chromium tab that records what goes wrong on its pages: console
// errors, uncaught exceptions, failed requests and HTTP errors, and every URL requested.
type browser struct {
	ctx context.Context

	mu       sync.Mutex
	problems []string
	urls     map[network.RequestID]string
}

// newBrowser starts Chromium with a tab of 1280x900; the test's end closes it.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	ctx := browsertest.Context(t)
	b := &browser{ctx: ctx, urls: map[network.RequestID]string{}}
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			b.problems = append(b.problems, "uncaught exception: "+msg)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				b.problems = append(b.problems, fmt.Sprintf("console.%s called", e.Type))
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				b.problems = append(b.problems, "console error: "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			b.urls[e.RequestID] = e.Request.URL
		case *network.EventLoadingFailed:
			if e.Canceled {
				// The page dropped the request itself: a thumbnail whose source the class
				// filter changed while it loaded. Not a failure of the report.
				return
			}
			b.problems = append(b.problems, fmt.Sprintf("request for %s failed: %s", b.urls[e.RequestID], e.ErrorText))
		case *network.EventResponseReceived:
			if e.Response.Status >= 400 {
				b.problems = append(b.problems, fmt.Sprintf("%s answered HTTP %d", e.Response.URL, e.Response.Status))
			}
		}
	})
	if err != nil {
		t.Fatalf("cannot start %s: %v", browsertest.Chromium(t), err)
	}
	return b
}

// check fails the test for every problem seen so far, and for every request that left the
// report's origin.
func (b *browser) check(t *testing.T, origin string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		t.Errorf("browser: %s", p)
	}
	for _, u := range b.urls {
		if !strings.HasPrefix(u, origin) && !strings.HasPrefix(u, "data:") {
			t.Errorf("browser: the page requested %s, outside the report", u)
		}
	}
	b.problems = nil
}

// do runs actions, failing the test on error.
func (b *browser) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// eval evaluates JavaScript (awaiting a promise), failing the test on error.
func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// serve serves a report's folder over HTTP on 127.0.0.1, as a plain file server would, so
// that every request the page makes is seen with its status.
func serve(t *testing.T, dir string) string {
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// screenshot writes a PNG of the page, its full length when full, to SEGMENT_SCREENSHOTS.
func (b *browser) screenshot(t *testing.T, name string, full bool) {
	t.Helper()
	dir := os.Getenv("SEGMENT_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	a := chromedp.CaptureScreenshot()
	if full {
		a = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o666); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", filepath.Join(dir, name))
}

// rowNames gives the names of the visible rows, top to bottom.
func rowNames(t *testing.T, b *browser) []string {
	return eval[[]string](t, b, `Array.from(document.querySelectorAll("#images tbody tr:not(.hidden) td.name"), td => td.textContent)`)
}

// column gives the text of column j (0 is Dice) of the visible rows.
func column(t *testing.T, b *browser, j int) []string {
	return eval[[]string](t, b, fmt.Sprintf(`Array.from(document.querySelectorAll("#images tbody tr:not(.hidden)"), tr => tr.cells[5+%d].textContent)`, j))
}

// TestBrowserISBI opens the report of a realistic evaluation of the ISBI test slices and
// checks what a person would: it opens cleanly, the rows and their order, sorting, the
// thumbnails and the class filter.
func TestBrowserISBI(t *testing.T) {
	browsertest.Chromium(t)
	ims, sum := isbiImages(t)
	dir := filepath.Join(t.TempDir(), "report")
	tr := &Training{Config: []byte(`{"in_channels":1,"classes":1,"base":16,"depth":4}`), Summary: []byte(`{"epochs":3,"steps":1950}`),
		Epoch: []float64{1, 2, 3}, Loss: []float64{0.6, 0.35, 0.3}, ValDice: []float64{0.85, 0.9, 0.93}, ValIoU: []float64{0.75, 0.82, 0.87}}
	if err := Write(dir, Report{Title: "ISBI 2012 test slices, thresholded", Classes: binaryClasses, Summary: sum, Training: tr, Images: ims}); err != nil {
		t.Fatal(err)
	}
	url := serve(t, dir)
	b := newBrowser(t)
	b.do(t, chromedp.Navigate(url+"index.html"), chromedp.WaitReady("#images"))

	names := rowNames(t, b)
	if len(names) != len(ims) {
		t.Fatalf("the table has %d rows, want one per image: %d", len(names), len(ims))
	}
	if want := byDice(ims, 1, false); !slices.Equal(names, want) {
		t.Errorf("rows as opened: %q, want worst Dice first: %q", names, want)
	}

	// Sort by name, then click Dice: the worst image comes first; again: the best. The
	// clicks wait for the page's pictures as a reader would, so that nothing is still moving
	// under the pointer (TestTraining checks that the page keeps the curves' place anyway).
	if state := eval[string](t, b, `(async () => {
		for (let i = 0; i < 200 && document.readyState !== "complete"; i++) await new Promise(r => setTimeout(r, 50));
		return document.readyState;
	})()`); state != "complete" {
		t.Fatalf("the page is still %q after 10 s", state)
	}
	b.do(t, chromedp.Click(`th button[data-sort="name"]`))
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	if got := rowNames(t, b); !slices.Equal(got, sorted) {
		t.Errorf("sorted by name: %q, want %q", got, sorted)
	}
	b.do(t, chromedp.Click(`th button[data-sort="0"]`))
	if got, want := rowNames(t, b), byDice(ims, 1, false); !slices.Equal(got, want) {
		t.Errorf("after a click on Dice: %q, want worst first %q", got, want)
	}
	b.do(t, chromedp.Click(`th button[data-sort="0"]`))
	if got, want := rowNames(t, b), byDice(ims, 1, true); !slices.Equal(got, want) {
		t.Errorf("after a second click on Dice: %q, want best first %q", got, want)
	}
	b.do(t, chromedp.Click(`th button[data-sort="0"]`))

	if bad := eval[[]string](t, b, browsertest.LoadReportThumbnails); len(bad) > 0 {
		t.Errorf("thumbnails that did not load: %q", bad)
	}
	if n := eval[int](t, b, `document.querySelectorAll("#images img").length`); n != 4*len(ims) {
		t.Errorf("%d thumbnails, want 4 per image: %d", n, 4*len(ims))
	}
	if w := eval[int](t, b, `document.querySelector(".curves img").naturalWidth`); w == 0 {
		t.Error("the training curves did not load")
	}
	// The curves keep the place their stated size gives them, at their own proportions.
	box := eval[[]float64](t, b, `(() => { const i = document.querySelector(".curves img");
		return [i.clientWidth, i.clientHeight, i.naturalWidth, i.naturalHeight]; })()`)
	if len(box) != 4 || box[0] == 0 || math.Abs(box[1]/box[0]-box[3]/box[2]) > 0.01*box[3]/box[2] {
		t.Errorf("the curves are drawn %v x %v, not in the proportions of their %v x %v picture", box[0], box[1], box[2], box[3])
	}
	b.screenshot(t, "report-isbi.png", true)

	// Scrolled down to the last row, the header stays at the top of the window, over the
	// rows: each of its cells is what a click at its centre reaches.
	hidden := eval[[]string](t, b, `(async () => {
		const rows = document.querySelectorAll("#images tbody tr");
		rows[rows.length - 1].scrollIntoView();
		await new Promise(r => requestAnimationFrame(r));
		const out = [];
		for (const th of document.querySelectorAll("#images thead th")) {
			const r = th.getBoundingClientRect();
			const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
			if (r.top < 0 || r.bottom > innerHeight || !th.contains(at)) out.push(th.textContent + " at " + Math.round(r.top));
		}
		window.scrollTo(0, 0);
		return out;
	})()`)
	if len(hidden) > 0 {
		t.Errorf("scrolled to the last row, header cells out of view or covered: %q", hidden)
	}

	// The class filter: the membranes' scores replace the cells', in the same rows.
	b.do(t, chromedp.SetValue("#class", "0"), chromedp.Evaluate[chromedp.Void](`document.getElementById("class").dispatchEvent(new Event("change"))`))
	got := column(t, b, 0)
	want := map[string]string{}
	for _, im := range ims {
		want[im.Name] = formatScore(metrics.Float(im.Result.Scores[0][metrics.Dice]), 0)
	}
	for i, name := range rowNames(t, b) {
		if got[i] != want[name] {
			t.Errorf("with the class filter on membranes, %s shows Dice %s, want %s", name, got[i], want[name])
		}
	}
	if got, want := rowNames(t, b), byDice(ims, 0, false); !slices.Equal(got, want) {
		t.Errorf("with the class filter on membranes: %q, want their worst first %q", got, want)
	}
	b.check(t, url)
}

// TestBrowserMultiClass checks the class filter of a multi-class report: a class shows its
// scores, only the images that have it, and its own error maps, which load.
func TestBrowserMultiClass(t *testing.T) {
	browsertest.Chromium(t)
	const k = 4
	ims, sum := syntheticImages(t, 11, 24, 200, 150, k, func(i int) string { return fmt.Sprintf(`<b>image</b> "%d" & co`, i) })
	dir := filepath.Join(t.TempDir(), "report")
	if err := Write(dir, Report{Title: "Four classes", Classes: classesOf(k), Summary: sum, Images: ims}); err != nil {
		t.Fatal(err)
	}
	url := serve(t, dir)
	b := newBrowser(t)
	b.do(t, chromedp.Navigate(url+"index.html"), chromedp.WaitReady("#images"))
	if n := len(rowNames(t, b)); n != len(ims) {
		t.Fatalf("%d rows, want %d", n, len(ims))
	}
	for c := range k {
		b.do(t, chromedp.SetValue("#class", fmt.Sprint(c)), chromedp.Evaluate[chromedp.Void](`document.getElementById("class").dispatchEvent(new Event("change"))`))
		var want []string
		for _, name := range byDice(ims, c, false) {
			for _, im := range ims {
				if im.Name == name && !im.Result.Counts[c].Empty() {
					want = append(want, name)
				}
			}
		}
		if got := rowNames(t, b); !slices.Equal(got, want) {
			t.Errorf("class %d: rows %q, want the images with the class, worst first: %q", c, got, want)
		}
		srcs := eval[[]string](t, b, `Array.from(document.querySelectorAll("#images tr:not(.hidden) td:nth-child(5) img"), i => i.getAttribute("src"))`)
		for _, s := range srcs {
			if !strings.HasSuffix(s, fmt.Sprintf("-error-c%d.t.png", c)) {
				t.Errorf("class %d: error map %s, want the class's own", c, s)
			}
		}
		if bad := eval[[]string](t, b, browsertest.LoadReportThumbnails); len(bad) > 0 {
			t.Errorf("class %d: thumbnails that did not load: %q", c, bad)
		}
		if c == 2 {
			b.screenshot(t, "report-multiclass-class2.png", false)
		}
	}
	b.do(t, chromedp.SetValue("#class", "fg"), chromedp.Evaluate[chromedp.Void](`document.getElementById("class").dispatchEvent(new Event("change"))`))
	if n := len(rowNames(t, b)); n != len(ims) {
		t.Errorf("back on all classes: %d rows, want %d", n, len(ims))
	}
	b.check(t, url)
}

// mainThread gives the page's main-thread metrics that Chromium counts: durations of its
// tasks, scripts, layouts and style recalculations, in seconds of thread CPU time once
// enableThreadTime has run.
func mainThread(t *testing.T, b *browser) map[string]float64 {
	t.Helper()
	r, err := chromedp.Call(b.ctx, performance.GetMetrics, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]float64{}
	for _, x := range r.Metrics {
		m[x.Name] = x.Value
	}
	return m
}

// TestBrowserLoad2000 opens a report of 2,000 images and times it, from the start of the
// navigation to the end of the load event by the page's own Navigation Timing: the issue
// asks for under 2 s. It is measured three times (a fresh navigation each) and the fastest
// counts, because the wall clock on a shared machine also counts other processes' time;
// the main thread's CPU time is logged beside it, a figure that other processes hardly
// change. It also checks that the thumbnails are lazy: far fewer are fetched than the page
// holds, and that only the rows in view are laid out.
func TestBrowserLoad2000(t *testing.T) {
	browsertest.Chromium(t)
	dir := largeReportDir(t)
	url := serve(t, dir)
	b := newBrowser(t)
	b.do(t, chromedp.Navigate("about:blank")) // start the browser before the clock does
	if _, err := chromedp.Call(b.ctx, performance.Enable, performance.EnableParams{TimeDomain: performance.EnableTimeDomainThreadTicks}); err != nil {
		t.Fatal(err)
	}
	best, bestLayout := math.Inf(1), math.Inf(1)
	for try := range 3 {
		b.do(t, chromedp.Navigate("about:blank"))
		before := mainThread(t, b)
		start := time.Now()
		b.do(t, chromedp.Navigate(url+"index.html"))
		wall := time.Since(start)
		nav := eval[map[string]float64](t, b, `(() => { const n = performance.getEntriesByType("navigation")[0];
			return {dcl: n.domContentLoadedEventEnd - n.startTime, load: n.loadEventEnd - n.startTime}; })()`)
		after := mainThread(t, b)
		t.Logf("try %d, 2,000 rows: DOMContentLoaded after %.0f ms, load event done after %.0f ms (Navigation Timing; Navigate returned after %v); main thread CPU: tasks %.0f ms (script %.0f, layout %.0f, style %.0f)",
			try+1, nav["dcl"], nav["load"], wall.Round(time.Millisecond),
			1000*(after["TaskDuration"]-before["TaskDuration"]), 1000*(after["ScriptDuration"]-before["ScriptDuration"]),
			1000*(after["LayoutDuration"]-before["LayoutDuration"]), 1000*(after["RecalcStyleDuration"]-before["RecalcStyleDuration"]))
		if nav["load"] <= 0 {
			t.Fatalf("no load time: %v", nav)
		}
		best = min(best, nav["load"])
		bestLayout = min(bestLayout, 1000*(after["LayoutDuration"]-before["LayoutDuration"]))
	}
	// The rows out of view are not laid out (content-visibility): laying out all 2,000
	// takes about 400 ms of main-thread CPU here, the rows in view about 50. CPU time,
	// unlike the wall clock, hardly depends on what else the machine runs.
	if bestLayout >= 200 {
		t.Errorf("layout took %.0f ms of main-thread CPU at best, want under 200: are the rows out of view laid out?", bestLayout)
	}
	if best >= 2000 {
		t.Errorf("the page took %.0f ms to load at best, want under 2,000", best)
	}
	if n := len(rowNames(t, b)); n != largeN {
		t.Errorf("%d rows, want %d", n, largeN)
	}
	imgs := eval[int](t, b, `document.images.length`)
	t.Logf("<img> elements after load: %d", imgs)
	if imgs > 4*largeN/10 {
		t.Errorf("%d <img> elements after load, of %d thumbnails: want those of the rows near the view only", imgs, 4*largeN)
	}
	// A lazy thumbnail is listed once its fetch is done, which on a loaded machine can be
	// after the load event: wait up to 10 s for the first.
	fetched := eval[int](t, b, `(async () => {
		const n = () => performance.getEntriesByType("resource").filter(e => e.name.includes("/img/")).length;
		for (let i = 0; i < 200 && n() === 0; i++) await new Promise(r => setTimeout(r, 50));
		return n();
	})()`)
	t.Logf("thumbnails fetched at load: %d of %d", fetched, 4*largeN)
	if fetched == 0 || fetched > 4*largeN/10 {
		t.Errorf("%d thumbnails fetched at load, of %d: want the visible ones only (lazy loading)", fetched, 4*largeN)
	}
	// Sorting 2,000 rows stays quick too.
	ms := eval[float64](t, b, `(() => { const t0 = performance.now(); document.querySelector('th button[data-sort="name"]').click();
		document.querySelector('th button[data-sort="0"]').click(); return performance.now() - t0; })()`)
	t.Logf("two sorts of 2,000 rows: %.0f ms", ms)
	if got, want := rowNames(t, b)[:5], byDice(largeReport.ims, 1, false)[:5]; !slices.Equal(got, want) {
		t.Errorf("2,000 rows sorted by Dice start %q, want %q", got, want)
	}
	b.screenshot(t, "report-2000.png", false)
	b.check(t, url)
}

// TestBrowserOffline opens a report straight from disk (file://), as someone who was sent
// the folder would: it must work with no server at all.
func TestBrowserOffline(t *testing.T) {
	browsertest.Chromium(t)
	ims, sum := syntheticImages(t, 5, 8, 300, 200, 2, func(i int) string { return fmt.Sprintf("tile %d", i) })
	dir := filepath.Join(t.TempDir(), "report")
	if err := Write(dir, Report{Title: "offline", Classes: binaryClasses, Summary: sum, Images: ims}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	url := "file://" + filepath.ToSlash(dir) + "/"
	b.do(t, chromedp.Navigate(url+"index.html"), chromedp.WaitReady("#images"))
	if n := len(rowNames(t, b)); n != len(ims) {
		t.Errorf("%d rows, want %d", n, len(ims))
	}
	if bad := eval[[]string](t, b, browsertest.LoadReportThumbnails); len(bad) > 0 {
		t.Errorf("thumbnails that did not load from file://: %q", bad)
	}
	b.check(t, url)
}
