package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/segment-dev/segment/internal/browsertest"
	"github.com/segment-dev/segment/internal/sharedtest"
)

// These tests drive serve and the report of eval --report in Chromium headless, as package
// report's tests do (SEGMENT_CHROMIUM names the browser, else it is looked for on PATH; the
// tests skip without one). With SEGMENT_SCREENSHOTS set to a folder they write screenshots
// there.

// tab is a headless Chromium tab that records console errors, uncaught exceptions and
// requests that failed or answered 4xx/5xx.
type tab struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
	urls     map[network.RequestID]string
}

func newTab(t *testing.T) *tab {
	t.Helper()
	ctx := browsertest.Context(t)
	b := &tab{ctx: ctx, urls: map[network.RequestID]string{}}
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			b.problems = append(b.problems, "uncaught exception: "+e.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				b.problems = append(b.problems, "console.error called")
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				b.problems = append(b.problems, "console error: "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			b.urls[e.RequestID] = e.Request.URL
		case *network.EventLoadingFailed:
			if !e.Canceled {
				b.problems = append(b.problems, fmt.Sprintf("request for %s failed: %s", b.urls[e.RequestID], e.ErrorText))
			}
		case *network.EventResponseReceived:
			if e.Response.Status >= 400 {
				b.problems = append(b.problems, fmt.Sprintf("%s answered HTTP %d", e.Response.URL, e.Response.Status))
			}
		}
	})
	if err != nil {
		t.Fatalf("cannot start Chromium: %v", err)
	}
	return b
}

// take returns the problems seen so far and forgets them.
func (b *tab) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

func (b *tab) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

func evalJS[T any](t *testing.T, b *tab, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func (b *tab) screenshot(t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("SEGMENT_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(dir, 0o777)
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o666); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", filepath.Join(dir, name))
}

// waitPrediction waits until the page has finished the upload in flight: the busy note
// hidden again.
const waitPrediction = `(async () => {
	const busy = document.getElementById("busy");
	for (let i = 0; i < 6000 && busy.hidden; i++) await new Promise(r => setTimeout(r, 5));
	while (!busy.hidden) await new Promise(r => setTimeout(r, 20));
	return true;
})()`

// overlayPixels counts the overlay's pixels drawn (alpha above 0) and the largest alpha.
const overlayPixels = `(() => {
	const c = document.getElementById("overlay");
	const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
	let n = 0, a = 0;
	for (let i = 3; i < d.length; i += 4) if (d[i] > 0) { n++; a = Math.max(a, d[i]); }
	return [n, a];
})()`

// TestBrowserServe uploads an ISBI test slice to serve in Chromium: the overlay appears and
// follows the opacity slider and the class switch, and the mask behind the download link is
// predict's, byte for byte. A text file uploaded next shows the server's message, and the
// upload after it works.
func TestBrowserServe(t *testing.T) {
	b := newTab(t)
	model := sharedtest.Path(t, "models/isbi-unet-b32-torch.safetensors")
	img := filepath.Join(sharedtest.Path(t, "data/isbi2012-em-membranes/test/images"), "24.png")
	_, ts := testServer(t, serveOptions{model: model})

	out := t.TempDir()
	if code, _, errOut := runCmd("predict", img, "--model", model, "--out", out, "-q"); code != exitOK {
		t.Fatalf("predict: exit %d: %s", code, errOut)
	}
	want, err := os.ReadFile(filepath.Join(out, "24_mask.png"))
	if err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(t.TempDir(), "notes.png")
	os.WriteFile(text, []byte("these are notes, not an image\n"), 0o644)

	b.do(t, chromedp.Navigate(ts.URL+"/"), chromedp.WaitReady("#toggles input"))
	for round, file := range []string{img, text, img} {
		b.do(t, chromedp.SetUploadFiles("#file", []string{file}))
		evalJS[bool](t, b, waitPrediction)
		errText := evalJS[string](t, b, `document.getElementById("error").hidden ? "" : document.getElementById("error").textContent`)
		problems := b.take()
		if file == text {
			if !strings.Contains(errText, "notes.png is not an image") {
				t.Errorf("round %d: the page shows %q for a text file, want the server's message", round, errText)
			}
			for _, p := range problems { // the browser logs the 415 it was answered, and nothing else
				if !strings.Contains(p, "/api/predict?name=notes.png") || !strings.Contains(p, "415") {
					t.Errorf("round %d: %s", round, p)
				}
			}
			if len(problems) == 0 {
				t.Errorf("round %d: no HTTP 415 seen for the text file", round)
			}
			continue
		}
		if errText != "" || len(problems) > 0 {
			t.Errorf("round %d: error %q, problems %q", round, errText, problems)
		}
		if title := evalJS[string](t, b, `document.getElementById("title").textContent`); !strings.HasPrefix(title, "24.png (512×512)") {
			t.Errorf("round %d: title %q", round, title)
		}
		px := evalJS[[]int](t, b, overlayPixels)
		if px[0] < 512*512/2 || px[1] != 128 {
			t.Errorf("round %d: %d overlay pixels drawn, alpha %d; want most of the slice (cells), alpha 128 (opacity 50)", round, px[0], px[1])
		}
		if round == 0 {
			b.screenshot(t, "serve.png")
		}
		b.do(t, chromedp.SetValue("#opacity", "100"), chromedp.Evaluate[chromedp.Void](`document.getElementById("opacity").dispatchEvent(new Event("input"))`))
		if px := evalJS[[]int](t, b, overlayPixels); px[1] != 255 {
			t.Errorf("round %d: opacity 100 draws alpha %d", round, px[1])
		}
		b.do(t, chromedp.Click("#class-1"))
		if px := evalJS[[]int](t, b, overlayPixels); px[0] != 0 {
			t.Errorf("round %d: with the foreground switched off, %d pixels drawn", round, px[0])
		}
		b.do(t, chromedp.Click("#class-1"), chromedp.SetValue("#opacity", "50"), chromedp.Evaluate[chromedp.Void](`document.getElementById("opacity").dispatchEvent(new Event("input"))`))
		if name := evalJS[string](t, b, `document.getElementById("download").download`); name != "24_mask.png" {
			t.Errorf("round %d: the download is named %q", round, name)
		}
		b64 := evalJS[string](t, b, `(async () => {
			const r = await fetch(document.getElementById("download").href);
			const u = new Uint8Array(await r.arrayBuffer());
			let s = ""; for (const x of u) s += String.fromCharCode(x);
			return btoa(s);
		})()`)
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("round %d: the downloaded mask (%d bytes) is not predict's 24_mask.png (%d bytes)", round, len(got), len(want))
		}
	}
}

// TestBrowserEvalReport writes the report of an ISBI evaluation with eval --report and
// opens it, served by serve --reports, in Chromium: no console errors, no failed requests,
// a row per image and every thumbnail loaded.
func TestBrowserEvalReport(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: six 512x512 predictions with a base-32 model")
	}
	b := newTab(t)
	model := sharedtest.Path(t, "models/isbi-unet-b32-torch.safetensors")
	data := sharedtest.Path(t, "data/isbi2012-em-membranes/test")
	reports := t.TempDir()
	if code, _, errOut := runCmd("eval", "--model", model, "--data", data, "--out", t.TempDir(), "--report", filepath.Join(reports, "isbi"), "-q"); code != exitOK {
		t.Fatalf("eval: exit %d: %s", code, errOut)
	}
	_, ts := testServer(t, serveOptions{reports: reports})
	b.do(t, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible("#report-list a"))
	b.do(t, chromedp.Click("#report-list a"), chromedp.WaitReady("#images"))
	rows := evalJS[int](t, b, `document.querySelectorAll("#images tbody tr").length`)
	if rows != 6 {
		t.Errorf("%d rows, want the 6 test slices", rows)
	}
	bad := evalJS[[]string](t, b, browsertest.LoadReportThumbnails)
	if len(bad) > 0 {
		t.Errorf("thumbnails that did not load: %q", bad)
	}
	for _, p := range b.take() {
		t.Errorf("browser: %s", p)
	}
	b.screenshot(t, "report.png")
}

// TestBrowserServeData browses a data set in serve: the rows show each image's Dice once the
// background scoring is done, a click predicts the image and shows it, and the data set's
// report opens from the page with no console errors.
func TestBrowserServeData(t *testing.T) {
	b := newTab(t)
	_, ts := testServer(t, serveOptions{data: "../../sample_data/val"})
	b.do(t, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible("#report-list a")) // the report is listed once scored
	dice := evalJS[[]string](t, b, `Array.from(document.querySelectorAll("#data-rows tr"), tr => tr.cells[1].textContent)`)
	if len(dice) != 8 {
		t.Fatalf("%d data rows, want 8", len(dice))
	}
	for i, d := range dice {
		if !strings.HasPrefix(d, "0.") && !strings.HasPrefix(d, "1.") {
			t.Errorf("row %d: Dice %q", i, d)
		}
	}
	b.do(t, chromedp.Click("#data-rows tr:nth-child(4) button"))
	evalJS[bool](t, b, waitPrediction)
	if title := evalJS[string](t, b, `document.getElementById("title").textContent`); !strings.HasPrefix(title, "0003.png") {
		t.Errorf("after predicting the fourth row, the title is %q", title)
	}
	if px := evalJS[[]int](t, b, overlayPixels); px[0] == 0 {
		t.Errorf("no overlay drawn for 0003.png")
	}
	for _, p := range b.take() {
		t.Errorf("browser: %s", p)
	}
	b.screenshot(t, "serve-data.png")
	b.do(t, chromedp.Click("#report-list a"), chromedp.WaitReady("#images"))
	if rows := evalJS[int](t, b, `document.querySelectorAll("#images tbody tr").length`); rows != 8 {
		t.Errorf("the data set's report has %d rows, want 8", rows)
	}
	for _, p := range b.take() {
		t.Errorf("browser: %s", p)
	}
}
