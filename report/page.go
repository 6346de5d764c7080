package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"image"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/segment-dev/segment/chart"
	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/metrics"
)

// shown are the metrics the page shows, in column order.
var shown = []metrics.Metric{metrics.Dice, metrics.IoU, metrics.Precision, metrics.Recall, metrics.HD95}

// lowerIsBetter says which shown metrics are distances rather than overlaps: their worst is
// the largest.
func lowerIsBetter(m metrics.Metric) bool { return m == metrics.HD95 }

// row is one image's line of the table.
type row struct {
	ID   int    // the image's number, from 1, in the order it was added
	Base string // the stem of its pictures' names in img/
	Name string
	// Thumb is the thumbnails' size.
	Thumb image.Point
	// Scores holds the shown metrics of each class, Scores[class][column]; Fg their mean
	// over the foreground classes (NaN skipped), the image's foreground score.
	Scores [][]metrics.Float
	Fg     []metrics.Float
	// Present says which classes are in the ground truth or the prediction.
	Present []bool
	// ClassMaps lists the classes with an error map of their own (multi-class only).
	ClassMaps []int
}

func newRow(id int, im Image, k int) row {
	r := row{ID: id, Base: fmt.Sprintf("%05d", id), Name: im.Name, Scores: make([][]metrics.Float, k),
		Fg: make([]metrics.Float, len(shown)), Present: make([]bool, k)}
	for c := range k {
		r.Present[c] = !im.Result.Counts[c].Empty()
		r.Scores[c] = make([]metrics.Float, len(shown))
		for j, m := range shown {
			r.Scores[c][j] = metrics.Float(im.Result.Scores[c][m])
		}
	}
	vals := make([]float64, 0, k-1)
	for j := range shown {
		vals = vals[:0]
		for c := 1; c < k; c++ {
			vals = append(vals, float64(r.Scores[c][j]))
		}
		r.Fg[j] = metrics.Float(metrics.NaNMean(vals))
	}
	return r
}

// sortWorstFirst orders rows by foreground Dice, lowest first; undefined Dice (no
// foreground anywhere, under the "nan" policy) goes last, and ties keep the order of the
// images' numbers.
func sortWorstFirst(rows []row) {
	sort.SliceStable(rows, func(a, b int) bool {
		x, y := float64(rows[a].Fg[0]), float64(rows[b].Fg[0])
		switch {
		case math.IsNaN(x) || math.IsNaN(y):
			return !math.IsNaN(x) && math.IsNaN(y)
		case x != y:
			return x < y
		}
		return rows[a].ID < rows[b].ID
	})
}

//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"score":  formatScore,
	"fgmean": func(s metrics.Summary, j int) metrics.Float { return s.ForegroundMean[shown[j]] },
	"fgdata": func(s metrics.Summary, j int) metrics.Float { return s.ForegroundDataset[shown[j]] },
	"kinds":  func() []string { return []string{"image", "truth", "pred", "error"} },
	// rowScores gives the scores a row shows first: the foreground mean, or class 1's.
	"rowScores": func(r row, def string) []metrics.Float {
		if def == "fg" {
			return r.Fg
		}
		return r.Scores[1]
	},
}).Parse(pageHTML))

// formatScore writes a shown metric: overlaps with 4 decimals, distances with 2, and an
// en dash for an undefined value.
func formatScore(v metrics.Float, column int) string {
	f := float64(v)
	switch {
	case math.IsNaN(f):
		return "–"
	case math.IsInf(f, 0):
		return strconv.FormatFloat(f, 'f', -1, 64)
	case lowerIsBetter(shown[column]):
		return strconv.FormatFloat(f, 'f', 2, 64)
	}
	return strconv.FormatFloat(f, 'f', 4, 64)
}

// pageData is what the template gets.
type pageData struct {
	Title    string
	Summary  metrics.Summary
	Columns  []string
	Classes  []pageClass
	Multi    bool // more than two classes: a foreground mean and per-class error maps
	Default  string
	Rows     []row
	Training *trainingData
	Legend   []legendEntry
	// ThumbCol is the width of a thumbnail's column and RowHeight the height a row is
	// taken to have until it is first drawn, both in pixels.
	ThumbCol, RowHeight int
	Data                pageJSON // for the script: the scores of every class
}

type pageClass struct {
	Index, Value int
	Name         string
	Stats        []metrics.Stat // the shown metrics' reductions
}

type trainingData struct {
	Curves          image.Point // the size of curves.png; zero when there is none
	Config, Summary string
}

type legendEntry struct {
	Colour        template.CSS
	Name, Meaning string
}

// pageJSON is the data the page's script sorts and filters with.
type pageJSON struct {
	Classes []string `json:"classes"`
	// Worse is +1 for a column whose worst is its lowest value, -1 for its highest.
	Worse []int     `json:"worse"`
	Rows  []rowJSON `json:"rows"`
}

type rowJSON struct {
	Base    string            `json:"b"`
	W       int               `json:"w"` // the thumbnails' size
	H       int               `json:"h"`
	Scores  [][]metrics.Float `json:"s"`
	Fg      []metrics.Float   `json:"f,omitempty"`
	Present []bool            `json:"p"`
	Maps    []int             `json:"m"`
}

func hexColour(c interface{ RGBA() (r, g, b, a uint32) }) template.CSS {
	r, g, b, _ := c.RGBA()
	return template.CSS(fmt.Sprintf("#%02X%02X%02X", r>>8, g>>8, b>>8))
}

// writePage writes index.html.
func writePage(path, title string, classes []Class, s metrics.Summary, t *Training, curves image.Point, rows []row) error {
	if title == "" {
		title = "segment report"
	}
	sortWorstFirst(rows)
	d := pageData{Title: title, Summary: s, Multi: len(classes) > 2, Rows: rows, Default: "1"}
	for _, r := range rows {
		d.ThumbCol = max(d.ThumbCol, r.Thumb.X+8)
		d.RowHeight = max(d.RowHeight, r.Thumb.Y+8)
	}
	if d.Multi {
		d.Default = "fg"
	}
	for _, m := range shown {
		d.Columns = append(d.Columns, columnName(m))
	}
	for i, c := range classes {
		pc := pageClass{Index: i, Value: c.Value, Name: c.Name}
		for _, m := range shown {
			pc.Stats = append(pc.Stats, s.Classes[i].Stats[m])
		}
		d.Classes = append(d.Classes, pc)
		d.Data.Classes = append(d.Data.Classes, c.Name)
	}
	for _, m := range shown {
		d.Data.Worse = append(d.Data.Worse, map[bool]int{false: 1, true: -1}[lowerIsBetter(m)])
	}
	d.Data.Rows = make([]rowJSON, len(rows))
	for i, r := range rows {
		j := rowJSON{Base: r.Base, W: r.Thumb.X, H: r.Thumb.Y, Present: r.Present, Maps: r.ClassMaps}
		for _, sc := range r.Scores {
			j.Scores = append(j.Scores, rounded(sc))
		}
		if d.Multi { // a binary task's foreground is class 1: the script needs no mean
			j.Fg = rounded(r.Fg)
		}
		d.Data.Rows[i] = j
	}
	if t != nil {
		d.Training = &trainingData{Curves: curves, Config: indentJSON(t.Config), Summary: indentJSON(t.Summary)}
	}
	d.Legend = []legendEntry{
		{hexColour(colTP), "true positive", "predicted and there"},
		{hexColour(colFP), "false positive", "predicted, not there"},
		{hexColour(colFN), "false negative", "there, missed"},
		{hexColour(colTN), "true negative", "neither"},
	}
	if d.Multi {
		d.Legend = append(d.Legend, legendEntry{hexColour(colWrong), "wrong class", "foreground map only: one class predicted for another"})
	}
	d.Legend = append(d.Legend, legendEntry{hexColour(colIgnored), "ignored", "the ground truth's ignore value"})

	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, d); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o666); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// rounded returns the scores to 6 decimals, as the script gets them: it shows at most 4,
// and 17 digits a number would make the page of thousands of images half again as large.
func rounded(v []metrics.Float) []metrics.Float {
	out := make([]metrics.Float, len(v))
	for i, x := range v {
		out[i] = metrics.Float(math.Round(float64(x)*1e6) / 1e6)
	}
	return out
}

// columnName is a metric's column header.
func columnName(m metrics.Metric) string {
	switch m {
	case metrics.Dice:
		return "Dice"
	case metrics.IoU:
		return "IoU"
	case metrics.HD95:
		return "HD95"
	}
	s := m.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

// indentJSON returns JSON indented for reading, or the text as it is if it is not JSON.
func indentJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// drawCurves draws the training's loss and validation curves side by side, as train does,
// and gives the picture's size: the page states it, so that the browser keeps the picture's
// place before it loads and nothing below it moves under the reader's pointer (a click on
// a column's header then lands where it was aimed).
func drawCurves(path string, t *Training) (image.Point, error) {
	loss := &chart.Line{Title: "Training loss", XLabel: "epoch", YLabel: "loss", LogY: true,
		Series: []chart.Series{{Name: "mean loss of the epoch", X: t.Epoch, Y: t.Loss}}}
	var val []chart.Series
	if len(t.ValDice) > 0 {
		val = append(val, chart.Series{Name: "Dice", X: t.Epoch, Y: t.ValDice})
	}
	if len(t.ValIoU) > 0 {
		val = append(val, chart.Series{Name: "IoU", X: t.Epoch, Y: t.ValIoU})
	}
	a, err := loss.Image()
	if err != nil {
		return image.Point{}, err
	}
	img := a
	if len(val) > 0 {
		v := &chart.Line{Title: "Validation", XLabel: "epoch", YLabel: "score", YMin: 0, YMax: 1, Series: val}
		b, err := v.Image()
		if err != nil {
			return image.Point{}, err
		}
		img = chart.Grid(2, a, b)
	}
	return img.Bounds().Size(), atomicfile.WritePNG(path, img)
}
