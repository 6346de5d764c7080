package landscape

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image"
	"math"
	"os"
	"strconv"

	"github.com/segment-dev/segment/chart"
	"github.com/segment-dev/segment/internal/atomicfile"
)

// Files are where Write put a landscape.
type Files struct {
	CSV, Contour, Surface, Line string
}

// Write saves r under prefix: prefix.csv (a, b, loss for every grid point),
// prefix.contour.png (the contour plot), prefix.surface.png (the heat map, with the
// contours over it) and prefix.1d.png (the loss along d1, b = 0). title heads the pictures.
func Write(r *Result, prefix, title string) (Files, error) {
	f := Files{CSV: prefix + ".csv", Contour: prefix + ".contour.png", Surface: prefix + ".surface.png", Line: prefix + ".1d.png"}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"a", "b", "loss"})
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	for j, b := range r.Coords {
		for i, a := range r.Coords {
			w.Write([]string{g(a), g(b), g(r.Loss[j][i])})
		}
	}
	w.Flush()
	if err := os.WriteFile(f.CSV, buf.Bytes(), 0o644); err != nil {
		return f, err
	}
	for _, p := range []struct {
		path  string
		lines bool
	}{{f.Contour, true}, {f.Surface, false}} {
		img, err := r.Map(title, p.lines)
		if err != nil {
			return f, err
		}
		if err := atomicfile.WritePNG(p.path, img); err != nil {
			return f, err
		}
	}
	img, err := r.Line(title)
	if err != nil {
		return f, err
	}
	return f, atomicfile.WritePNG(f.Line, img)
}

// Map draws the landscape as a heat map of log10 of the loss with contours over it, or
// (lines) as a contour plot alone: d1 runs left to right, d2 bottom to top. Its 15
// contour levels are evenly spaced in log10 of the loss between the grid's least and
// greatest, so that the basin's walls and its floor both get lines.
func (r *Result) Map(title string, lines bool) (image.Image, error) {
	n := len(r.Coords)
	m := &chart.HeatMap{Title: title + " (loss, log colour scale)", XLabel: "d1", YLabel: "d2", X: r.Coords, LogScale: true,
		LinesOnly: lines, Width: 560, Height: 480}
	lo, hi := math.Inf(1), math.Inf(-1)
	for j := n - 1; j >= 0; j-- { // top row: the largest b
		m.Values = append(m.Values, r.Loss[j])
		m.RowLabels = append(m.RowLabels, strconv.FormatFloat(r.Coords[j], 'g', 3, 64))
		for _, v := range r.Loss[j] {
			if v > 0 && !math.IsInf(v, 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if lo < hi {
		const levels = 15
		for k := 1; k <= levels; k++ {
			m.Contours = append(m.Contours, lo*math.Pow(hi/lo, float64(k)/float64(levels+1)))
		}
	}
	return m.Image()
}

// Line draws the loss along d1 through the centre (b = 0).
func (r *Result) Line(title string) (image.Image, error) {
	row := r.Loss[len(r.Coords)/2]
	l := &chart.Line{Title: fmt.Sprintf("%s: along d1", title), XLabel: "a (weights + a*d1)", YLabel: "loss", Width: 560, Height: 400,
		Series: []chart.Series{{Name: "loss", X: r.Coords, Y: row}}}
	return l.Image()
}
