package report

import (
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/segment-dev/segment/metrics"
)

// page reads a report's index.html.
// pngConfig reads the size and colour model of the PNG file at path.
func pngConfig(t *testing.T, path string) image.Config {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func page(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var rowRE = regexp.MustCompile(`<tr data-i="(\d+)"><td class="name">(.*?)</td>`)

// pageRows gives the image names of the table's rows in page order, unescaped, checking
// that their data-i count up from 0.
func pageRows(t *testing.T, html string) []string {
	t.Helper()
	var names []string
	for i, m := range rowRE.FindAllStringSubmatch(html, -1) {
		if m[1] != fmt.Sprint(i) {
			t.Errorf("row %d has data-i %s", i, m[1])
		}
		names = append(names, unescape(m[2]))
	}
	return names
}

func unescape(s string) string { return html.UnescapeString(s) }

// pageData decodes the page's data for its script.
func pageJSONOf(t *testing.T, html string) pageJSON {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script id="data" type="application/json">(.*?)</script>`).FindStringSubmatch(html)
	if m == nil {
		t.Fatal("the page has no data script")
	}
	var d pageJSON
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatalf("the page's data is not JSON: %v", err)
	}
	return d
}

func TestRowsWorstFirst(t *testing.T) {
	ims, _ := syntheticImages(t, 1, 30, 40, 30, 2, func(i int) string { return fmt.Sprintf("im%02d", i) })
	// Two images without foreground anywhere: Dice NaN under the "nan" policy, so last.
	for _, i := range []int{3, 17} {
		clear(ims[i].Truth)
		clear(ims[i].Pred)
	}
	ims, sum := evaluate(t, binaryClasses, ims)
	dir := filepath.Join(t.TempDir(), "r")
	if err := Write(dir, Report{Classes: binaryClasses, Summary: sum, Images: ims}); err != nil {
		t.Fatal(err)
	}
	got := pageRows(t, page(t, dir))
	want := byDice(ims, 1, false)
	if !slices.Equal(got, want) {
		t.Fatalf("rows %q, want worst Dice first %q", got, want)
	}
	if got[len(got)-2] != "im03" || got[len(got)-1] != "im17" {
		t.Errorf("the images with no foreground (Dice undefined) should come last: %q", got[len(got)-2:])
	}
	// The order is the Dice's: check the values themselves too.
	for i := 1; i < len(want)-2; i++ {
		a, b := diceOf(ims, got[i-1]), diceOf(ims, got[i])
		if a > b {
			t.Errorf("row %d (%s, Dice %g) comes before row %d (%s, Dice %g)", i-1, got[i-1], a, i, got[i], b)
		}
	}
}

func diceOf(ims []Image, name string) float64 {
	for _, im := range ims {
		if im.Name == name {
			return im.Result.Scores[1][metrics.Dice]
		}
	}
	return math.NaN()
}

func TestNamesEscaped(t *testing.T) {
	names := []string{`<script>alert("x")</script>.png`, `a&b "q" 'p'.tif`, `<img src=x onerror=alert(1)>`}
	ims, sum := syntheticImages(t, 2, len(names), 20, 20, 2, func(i int) string { return names[i] })
	classes := []Class{{Value: 0, Name: "back<ground>"}, {Value: 255, Name: `fore"ground" & co`}}
	dir := filepath.Join(t.TempDir(), "r")
	if err := Write(dir, Report{Title: `<b>title</b> & "quotes"`, Classes: classes, Summary: sum, Images: ims,
		Training: &Training{Config: []byte(`not JSON </pre><script>x</script>`)}}); err != nil {
		t.Fatal(err)
	}
	p := page(t, dir)
	for _, raw := range append(slices.Clone(names), `<b>title</b>`, "back<ground>", `fore"ground"`, "</pre><script>x") {
		if strings.Contains(p, raw) {
			t.Errorf("the page holds %q unescaped", raw)
		}
	}
	if n := strings.Count(p, "<script"); n != 2 {
		t.Errorf("the page has %d <script elements, want 2 (its data and its code)", n)
	}
	got := pageRows(t, p)
	slices.Sort(got)
	want := slices.Clone(names)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("names read back from the page: %q, want %q", got, want)
	}
	for _, s := range []string{"&lt;b&gt;title&lt;/b&gt; &amp; &#34;quotes&#34;", "back&lt;ground&gt;", "not JSON &lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;"} {
		if !strings.Contains(p, s) {
			t.Errorf("the page lacks the escaped text %s", s)
		}
	}
}

var refRE = regexp.MustCompile(`(?:href|src)="([^"]*)"`)

// TestFilesExist checks that every file the page refers to is in the report, those its
// script builds (thumbnails, per-class error maps) too, and that nothing is fetched from
// elsewhere.
func TestFilesExist(t *testing.T) {
	for _, k := range []int{2, 3} {
		ims, sum := syntheticImages(t, 3, 12, 150, 90, k, func(i int) string { return fmt.Sprint(i) })
		dir := filepath.Join(t.TempDir(), "r")
		tr := &Training{Epoch: []float64{1, 2}, Loss: []float64{1, 0.5}, ValDice: []float64{0.5, 0.7}}
		if err := Write(dir, Report{Classes: classesOf(k), Summary: sum, Images: ims, Training: tr}); err != nil {
			t.Fatal(err)
		}
		p := page(t, dir)
		for _, bad := range []string{"http:", "https:", "@import", "url(", "@font-face", `rel="stylesheet"`} {
			if strings.Contains(p, bad) {
				t.Errorf("%d classes: the page holds %q: it must load nothing from elsewhere", k, bad)
			}
		}
		refs := map[string]bool{}
		for _, m := range refRE.FindAllStringSubmatch(p, -1) {
			if strings.HasPrefix(m[1], "data:") {
				continue
			}
			refs[m[1]] = true
			if strings.HasPrefix(m[1], "img/") {
				refs[strings.TrimSuffix(m[1], ".png")+".t.png"] = true // the script's thumbnail
			}
		}
		d := pageJSONOf(t, p)
		for _, r := range d.Rows {
			for _, c := range r.Maps {
				base := fmt.Sprintf("img/%s-error-c%d", r.Base, c)
				refs[base+".png"], refs[base+".t.png"] = true, true
			}
		}
		if want := 1 + 4*2*len(ims); len(refs) < want { // curves, and 4 pictures with thumbnails a row
			t.Errorf("%d classes: the page refers to %d files, want at least %d", k, len(refs), want)
		}
		for ref := range refs {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(ref))); err != nil {
				t.Errorf("%d classes: the page refers to %s: %v", k, ref, err)
			}
		}
		if k == 3 && len(d.Rows[0].Maps) == 0 {
			t.Errorf("a multi-class row has no per-class error map")
		}
	}
}

// readRGBA reads a PNG as RGBA pixels.
func readRGBA(t *testing.T, path string) []color.RGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	var px []color.RGBA
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			px = append(px, color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)})
		}
	}
	return px
}

// The error map's colours, written out independently of the code's.
var (
	black      = color.RGBA{0, 0, 0, 255}
	grey       = color.RGBA{200, 200, 200, 255}
	vermillion = color.RGBA{213, 94, 0, 255}
	skyBlue    = color.RGBA{86, 180, 233, 255}
	yellow     = color.RGBA{240, 228, 66, 255}
	darkGrey   = color.RGBA{80, 80, 80, 255}
	white      = color.RGBA{255, 255, 255, 255}
	midGrey    = color.RGBA{128, 128, 128, 255}
)

func TestErrorMapColours(t *testing.T) {
	t.Run("binary", func(t *testing.T) {
		// 2 is the ignore index (classes 0 and 1).
		truth := []int32{1, 1, 0, 0, 1, 0, 2, 0, 1}
		pred := []int32{1, 0, 1, 0, 1, 0, 1, 0, 0}
		want := []color.RGBA{
			grey, skyBlue, vermillion,
			black, grey, black,
			darkGrey, black, skyBlue,
		}
		dir := writeTiny(t, binaryClasses, truth, pred)
		for _, f := range []string{"00001-error.png", "00001-error.t.png"} {
			if got := readRGBA(t, filepath.Join(dir, "img", f)); !slices.Equal(got, want) {
				t.Errorf("%s:\n got %v\nwant %v", f, got, want)
			}
		}
		if got, want := readRGBA(t, filepath.Join(dir, "img", "00001-truth.png")), []color.RGBA{
			white, white, black, black, white, black, midGrey, black, white}; !slices.Equal(got, want) {
			t.Errorf("ground truth:\n got %v\nwant %v", got, want)
		}
		if got, want := readRGBA(t, filepath.Join(dir, "img", "00001-pred.png")), []color.RGBA{
			white, black, white, black, white, black, white, black, black}; !slices.Equal(got, want) {
			t.Errorf("prediction:\n got %v\nwant %v", got, want)
		}
	})
	t.Run("three classes", func(t *testing.T) {
		// Classes 0, 1, 2; 3 is the ignore index.
		truth := []int32{1, 2, 0, 2, 1, 0, 3, 2, 1}
		pred := []int32{1, 1, 2, 2, 0, 0, 2, 0, 2}
		fg := []color.RGBA{
			grey, yellow, vermillion,
			grey, skyBlue, black,
			darkGrey, skyBlue, yellow,
		}
		class2 := []color.RGBA{ // TP, FN, FP, TP, TN, TN, ignored, FN, FP
			black, skyBlue, vermillion,
			grey, black, black,
			darkGrey, skyBlue, vermillion,
		}
		dir := writeTiny(t, classesOf(3), truth, pred)
		if got := readRGBA(t, filepath.Join(dir, "img", "00001-error.png")); !slices.Equal(got, fg) {
			t.Errorf("foreground error map:\n got %v\nwant %v", got, fg)
		}
		if got := readRGBA(t, filepath.Join(dir, "img", "00001-error-c2.png")); !slices.Equal(got, class2) {
			t.Errorf("error map of class 2:\n got %v\nwant %v", got, class2)
		}
		orange, blue := color.RGBA{230, 159, 0, 255}, color.RGBA{86, 180, 233, 255}
		if got, want := readRGBA(t, filepath.Join(dir, "img", "00001-truth.png")), []color.RGBA{
			orange, blue, black, blue, orange, black, midGrey, blue, orange}; !slices.Equal(got, want) {
			t.Errorf("ground truth:\n got %v\nwant %v", got, want)
		}
	})
}

// writeTiny writes a report of one 3x3 image and returns its folder.
func writeTiny(t *testing.T, classes []Class, truth, pred []int32) string {
	t.Helper()
	pic := image.NewGray(image.Rect(0, 0, 3, 3))
	ims, sum := evaluate(t, classes, []Image{{Name: "tiny", Image: pic, Truth: truth, Pred: pred, Width: 3, Height: 3}})
	dir := filepath.Join(t.TempDir(), "r")
	if err := Write(dir, Report{Classes: classes, Summary: sum, Images: ims}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestLargeReport checks that a report of 2,000 images keeps its page small (the
// pictures are files beside it; the page holds a short row and the scores per image) and
// its thumbnails within ThumbSize.
func TestLargeReport(t *testing.T) {
	dir := largeReportDir(t)
	fi, err := os.Stat(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("index.html of %d images: %d bytes (%d a row)", largeN, fi.Size(), fi.Size()/largeN)
	if limit := int64(largeN * 700); fi.Size() > limit {
		t.Errorf("index.html of %d images is %d bytes, want at most %d", largeN, fi.Size(), limit)
	}
	if n := len(pageRows(t, page(t, dir))); n != largeN {
		t.Errorf("%d rows, want %d", n, largeN)
	}
	cfg := pngConfig(t, filepath.Join(dir, "img", "00001-image.t.png"))
	if cfg.Width > ThumbSize || cfg.Height > ThumbSize {
		t.Errorf("thumbnail of %dx%d, want at most %d a side", cfg.Width, cfg.Height, ThumbSize)
	}
}

func TestThumbnailSize(t *testing.T) {
	ims, sum := syntheticImages(t, 4, 1, 300, 200, 2, func(int) string { return "wide" })
	dir := filepath.Join(t.TempDir(), "r")
	if err := Write(dir, Report{Classes: binaryClasses, Summary: sum, Images: ims}); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"image", "truth", "pred", "error"} {
		cfg := pngConfig(t, filepath.Join(dir, "img", "00001-"+kind+".t.png"))
		if cfg.Width != ThumbSize || cfg.Height != ThumbSize*200/300 {
			t.Errorf("%s thumbnail of a 300x200 image is %dx%d, want %dx%d", kind, cfg.Width, cfg.Height, ThumbSize, ThumbSize*200/300)
		}
	}
}

// TestReplace checks when a report's folder is replaced, and that failures leave nothing
// behind and the old report whole.
func TestReplace(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "r")
	ims, sum := syntheticImages(t, 5, 3, 20, 20, 2, func(i int) string { return fmt.Sprint("first ", i) })
	if err := Write(dir, Report{Classes: binaryClasses, Summary: sum, Images: ims}); err != nil {
		t.Fatal(err)
	}
	ims2, sum2 := syntheticImages(t, 6, 2, 20, 20, 2, func(i int) string { return fmt.Sprint("second ", i) })
	if err := Write(dir, Report{Classes: binaryClasses, Summary: sum2, Images: ims2}); err != nil {
		t.Fatalf("replacing a report: %v", err)
	}
	if got := pageRows(t, page(t, dir)); len(got) != 2 || !strings.HasPrefix(got[0], "second") {
		t.Errorf("after replacing, rows %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "img", "00003-image.png")); err == nil {
		t.Error("a picture of the replaced report is left")
	}

	// A failure at Finish (a summary of the wrong classes) keeps the report there.
	w, err := Create(dir, "", binaryClasses)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(ims[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(metrics.Summary{}, nil); err == nil || !strings.Contains(err.Error(), "classes") {
		t.Errorf("Finish with a summary of no classes: %v, want an error about the classes", err)
	}
	if got := pageRows(t, page(t, dir)); len(got) != 2 {
		t.Errorf("after a failed Finish, the old report has rows %q", got)
	}
	// Abort too.
	w, err = Create(dir, "", binaryClasses)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(ims[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(ims[1]); err == nil {
		t.Error("Add after Abort succeeded")
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "r" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("beside the report after failures: %q, want only r", names)
	}

	// A folder with anything a report does not hold is not replaced.
	other := filepath.Join(parent, "mine")
	if err := os.MkdirAll(other, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("keep me"), 0o666); err != nil {
		t.Fatal(err)
	}
	err = Write(other, Report{Classes: binaryClasses, Summary: sum, Images: ims})
	if err == nil || !strings.Contains(err.Error(), "notes.txt") || !strings.Contains(err.Error(), other) {
		t.Errorf("writing over a folder with notes.txt: %v, want an error naming the folder and the file", err)
	}
	if b, err := os.ReadFile(filepath.Join(other, "notes.txt")); err != nil || string(b) != "keep me" {
		t.Errorf("notes.txt after the refused write: %q, %v", b, err)
	}
	// A file in the way.
	file := filepath.Join(parent, "file")
	if err := os.WriteFile(file, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(file, "", binaryClasses); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("a report over a file: %v, want 'not a folder'", err)
	}
}

func TestBadInput(t *testing.T) {
	if _, err := Create(filepath.Join(t.TempDir(), "r"), "", binaryClasses[:1]); err == nil {
		t.Error("a report of one class was accepted")
	}
	ims, _ := syntheticImages(t, 8, 1, 10, 10, 2, func(int) string { return "bad <one>" })
	w, err := Create(filepath.Join(t.TempDir(), "r"), "", binaryClasses)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	short := ims[0]
	short.Pred = short.Pred[:99]
	noScores := ims[0]
	noScores.Result.Scores = nil
	noPicture := ims[0]
	noPicture.Image = nil
	missing := ims[0]
	missing.Image, missing.Path = nil, filepath.Join(t.TempDir(), "absent.png")
	wrongSize := ims[0]
	wrongSize.Image = image.NewGray(image.Rect(0, 0, 11, 10))
	for _, c := range []struct {
		name string
		im   Image
		want string
	}{
		{"short prediction", short, "99 predicted pixels"},
		{"no scores", noScores, "scores of 0 classes"},
		{"no picture", noPicture, "neither a picture nor a path"},
		{"missing file", missing, "absent.png"},
		{"picture of another size", wrongSize, "11x10"},
	} {
		err := w.Add(c.im)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
		if err != nil && c.want != "absent.png" && c.want != "neither a picture nor a path" && !strings.Contains(err.Error(), "bad <one>") {
			t.Errorf("%s: %v does not name the image", c.name, err)
		}
	}
}

// TestImagePath checks that a picture given by path is read, and that a 16-bit one shows
// its high byte.
func TestImagePath(t *testing.T) {
	src := image.NewGray16(image.Rect(0, 0, 2, 1))
	src.Pix = []uint8{0x12, 0x34, 0xAB, 0xCD}
	path := filepath.Join(t.TempDir(), "deep.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, src); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ims, sum := evaluate(t, binaryClasses, []Image{{Name: "deep", Path: path, Truth: []int32{0, 1}, Pred: []int32{0, 1}, Width: 2, Height: 1}})
	dir := filepath.Join(t.TempDir(), "r")
	if err := Write(dir, Report{Classes: binaryClasses, Summary: sum, Images: ims}); err != nil {
		t.Fatal(err)
	}
	got := readRGBA(t, filepath.Join(dir, "img", "00001-image.png"))
	if want := []color.RGBA{{0x12, 0x12, 0x12, 255}, {0xAB, 0xAB, 0xAB, 255}}; !slices.Equal(got, want) {
		t.Errorf("16-bit picture shown as %v, want %v", got, want)
	}
}

func TestTraining(t *testing.T) {
	ims, sum := syntheticImages(t, 9, 2, 20, 20, 2, func(i int) string { return fmt.Sprint(i) })
	for _, c := range []struct {
		name   string
		tr     *Training
		curves bool
		text   []string
	}{
		{"none", nil, false, nil},
		{"config only", &Training{Config: []byte(`{"base":16,"depth":4}`)}, false, []string{"Model configuration", "&#34;base&#34;: 16,\n  &#34;depth&#34;: 4"}},
		{"history", &Training{Summary: []byte(`{"epochs":2}`), Epoch: []float64{1, 2}, Loss: []float64{0.5, 0.25}, ValDice: []float64{0.7, math.NaN()}, ValIoU: []float64{0.6, 0.65}},
			true, []string{"Training record", "curves.png"}},
	} {
		dir := filepath.Join(t.TempDir(), "r")
		if err := Write(dir, Report{Classes: binaryClasses, Summary: sum, Images: ims, Training: c.tr}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		p := page(t, dir)
		_, err := os.Stat(filepath.Join(dir, "curves.png"))
		if (err == nil) != c.curves {
			t.Errorf("%s: curves.png exists: %v, want %v", c.name, err == nil, c.curves)
		}
		if (c.tr == nil) == strings.Contains(p, "<h2>Training</h2>") {
			t.Errorf("%s: the page's training section is there: %v", c.name, c.tr != nil)
		}
		for _, s := range c.text {
			if !strings.Contains(p, s) {
				t.Errorf("%s: the page lacks %q", c.name, s)
			}
		}
		if c.curves {
			// The page states the picture's size, so that nothing below it moves when it
			// loads (a click aimed at a column's header would land elsewhere).
			cfg := pngConfig(t, filepath.Join(dir, "curves.png"))
			want := fmt.Sprintf(`<img src="curves.png" width="%d" height="%d"`, cfg.Width, cfg.Height)
			if !strings.Contains(p, want) {
				t.Errorf("%s: the page lacks %q: the curves' place is not kept while they load", c.name, want)
			}
		}
	}
	bad := &Training{Epoch: []float64{1, 2}, Loss: []float64{0.5}}
	err := Write(filepath.Join(t.TempDir(), "r"), Report{Classes: binaryClasses, Summary: sum, Images: ims, Training: bad})
	if err == nil || !strings.Contains(err.Error(), "training curves") {
		t.Errorf("a history of 2 epochs and 1 loss: %v, want an error about the training curves", err)
	}
}

// TestSummaryTable checks the summary's figures on the page against the summary.
func TestSummaryTable(t *testing.T) {
	ims, sum := syntheticImages(t, 10, 5, 30, 30, 3, func(i int) string { return fmt.Sprint(i) })
	dir := filepath.Join(t.TempDir(), "r")
	if err := Write(dir, Report{Classes: classesOf(3), Summary: sum, Images: ims}); err != nil {
		t.Fatal(err)
	}
	p := page(t, dir)
	for c, cs := range sum.Classes {
		st := cs.Stats[metrics.Dice]
		want := fmt.Sprintf(`<tr><td>class %d</td><td class="n">%d</td><td class="n">%.4f</td><td class="n sd">%.4f</td><td class="n">%.4f</td>`,
			c, c, float64(st.Mean), float64(st.Std), float64(st.Dataset))
		if !strings.Contains(p, want) {
			t.Errorf("the summary lacks class %d's Dice: %s", c, want)
		}
		hd := cs.Stats[metrics.HD95]
		if want := fmt.Sprintf(`<td class="n">%.2f</td><td class="n sd">%.2f</td><td class="n">–</td></tr>`, float64(hd.Mean), float64(hd.Std)); !strings.Contains(p, want) {
			t.Errorf("the summary lacks class %d's HD95: %s", c, want)
		}
	}
	if want := fmt.Sprintf(`<tr><td>foreground mean</td><td></td><td class="n">%.4f</td>`, float64(sum.ForegroundMean[metrics.Dice])); !strings.Contains(p, want) {
		t.Errorf("the summary lacks the foreground mean: %s", want)
	}
}

func TestClassesOf(t *testing.T) {
	mc := []metrics.Class{{Value: 0x000000, Name: "void"}, {Value: 0x804080, Name: "road"}}
	got := ClassesOf(mc, true)
	if got[1].Name != "road" || got[1].Value != 0x804080 || got[1].Colour != (color.RGBA{0x80, 0x40, 0x80, 255}) {
		t.Errorf("colour class: %+v", got[1])
	}
	if got := ClassesOf(mc, false); got[1].Colour != nil {
		t.Errorf("gray class has colour %v, want the default", got[1].Colour)
	}
	// A colour class is drawn in its colour.
	dir := writeTiny(t, ClassesOf(mc, true), []int32{1, 0, 0, 0, 0, 0, 0, 0, 0}, make([]int32, 9))
	if got := readRGBA(t, filepath.Join(dir, "img", "00001-truth.png"))[0]; got != (color.RGBA{0x80, 0x40, 0x80, 255}) {
		t.Errorf("road drawn as %v, want #804080", got)
	}
}
