package chart

import (
	"errors"
	"fmt"
	"image"
	"math"
	"sort"
)

// HeatMap is a matrix of values drawn as coloured cells, rows from top to bottom and columns
// from left to right, with the viridis colour map and a colour bar. The zero value of every
// field but Values is usable.
type HeatMap struct {
	Title  string // drawn above the map; none if empty
	XLabel string // drawn below the column ticks; none if empty
	YLabel string // drawn left of the row labels, reading upwards; none if empty

	// RowLabels, if not nil, names each row (one label a row), drawn left of the map.
	// Labels too long for a third of the image are shortened, and when rows are too
	// thin for every label only every k-th is drawn.
	RowLabels []string

	// ColLabels, if not nil, names each column (one label a column); as many are drawn
	// below the map as fit. Without ColLabels, X gives numeric column ticks.
	ColLabels []string

	// X, if not nil, is the x value of each column (for example a training step), finite
	// and increasing; ticks are drawn at round values of X. Without ColLabels and X the
	// ticks count columns from 0.
	X []float64

	// Values holds the cells, Values[row][col]. Rows may differ in length: the missing
	// cells of a short row are drawn like NaN.
	Values [][]float64

	// LogScale colours cells by log10 of their values; values that are not positive
	// are then drawn like NaN.
	LogScale bool

	// VMin and VMax fix the range of the colour map when both are finite and
	// VMin < VMax (and VMin > 0 with LogScale); values beyond it get the colour of its
	// end. Otherwise the range is that of the values.
	VMin, VMax float64

	// Contours, if not empty, are levels (values, as in Values) whose iso-lines are drawn
	// over the map, found by marching squares between the cells' centres.
	Contours []float64

	// LinesOnly draws the contours in the colour of their level on a white map instead of
	// the cells: a contour plot, with the colour bar as its legend.
	LinesOnly bool

	// Width and Height are the size of the image in pixels; zero means 800 wide and
	// tall enough for 15 pixels a row plus the margins, between 300 and 1200.
	Width, Height int
}

// heatLayout is where a heat map's parts go, and the range of the colour map (log10 of
// the values with LogScale).
type heatLayout struct {
	cells      image.Rectangle
	bar        image.Rectangle
	rows, cols int
	v0, v1     float64
}

// Colour bar geometry, in pixels.
const (
	barGap   = 14
	barWidth = 14
	nanH     = 10 // height of the swatch for missing values
)

// Image draws the heat map. It fails only when there is nothing to draw (no rows, or no
// columns), when RowLabels, ColLabels or X do not match the number of rows or columns, when
// X is not finite and increasing, or when the size or the fixed colour range is invalid.
func (m *HeatMap) Image() (image.Image, error) {
	img, _, err := m.render()
	if err != nil {
		return nil, err
	}
	return img, nil
}

// shape returns the number of rows and columns of m and reports why it cannot be drawn,
// if it cannot.
func (m *HeatMap) shape() (rows, cols int, err error) {
	rows = len(m.Values)
	if rows == 0 {
		return 0, 0, errors.New("chart: heat map has no rows")
	}
	for _, r := range m.Values {
		cols = max(cols, len(r))
	}
	if cols == 0 {
		return 0, 0, fmt.Errorf("chart: heat map has %d rows but no columns", rows)
	}
	if m.RowLabels != nil && len(m.RowLabels) != rows {
		return 0, 0, fmt.Errorf("chart: heat map has %d rows but %d row labels", rows, len(m.RowLabels))
	}
	if m.ColLabels != nil && len(m.ColLabels) != cols {
		return 0, 0, fmt.Errorf("chart: heat map has %d columns but %d column labels", cols, len(m.ColLabels))
	}
	if m.X != nil {
		if len(m.X) != cols {
			return 0, 0, fmt.Errorf("chart: heat map has %d columns but %d x values", cols, len(m.X))
		}
		for i, x := range m.X {
			if !finite(x) || (i > 0 && !(x > m.X[i-1])) {
				return 0, 0, fmt.Errorf("chart: heat map x values are not finite and increasing at column %d (%g)", i, x)
			}
		}
	}
	if m.fixedV() && m.LogScale && !(m.VMin > 0) {
		return 0, 0, fmt.Errorf("chart: log colour scale needs VMin > 0, have %g", m.VMin)
	}
	return rows, cols, nil
}

// fixedV reports whether VMin and VMax fix the colour range.
func (m *HeatMap) fixedV() bool {
	return finite(m.VMin) && finite(m.VMax) && m.VMin < m.VMax
}

// scale returns v on the colour scale: v, or log10(v) with LogScale; NaN if it has no
// colour.
func (m *HeatMap) scale(v float64) float64 {
	if m.LogScale {
		if !(v > 0) {
			return math.NaN()
		}
		v = math.Log10(v)
	}
	if !finite(v) {
		return math.NaN()
	}
	return v
}

func (m *HeatMap) render() (*image.RGBA, *heatLayout, error) {
	rows, cols, err := m.shape()
	if err != nil {
		return nil, nil, err
	}
	defH := min(max(rows*15+80, 300), 1200)
	if m.Title != "" {
		defH += fontH + 8
	}
	if m.XLabel != "" {
		defH += fontH + 6
	}
	w, h, err := imageSize(m.Width, m.Height, 800, defH)
	if err != nil {
		return nil, nil, err
	}
	lay := &heatLayout{rows: rows, cols: cols}

	// Colour range.
	lo, hi := math.Inf(1), math.Inf(-1)
	missing := false
	for _, row := range m.Values {
		missing = missing || len(row) < cols
		for _, v := range row {
			s := m.scale(v)
			if math.IsNaN(s) {
				missing = true
				continue
			}
			lo, hi = math.Min(lo, s), math.Max(hi, s)
		}
	}
	switch {
	case m.fixedV():
		lay.v0, lay.v1 = m.scale(m.VMin), m.scale(m.VMax)
	case lo > hi: // nothing but missing values
		lay.v0, lay.v1 = 0, 1
	case m.LogScale:
		lay.v0, lay.v1 = padRange(lo, hi, 0, 0.5)
	default:
		lay.v0, lay.v1 = padRange(lo, hi, 0, 0)
	}

	// Layout: vertical margins, the colour bar's ticks (whose labels set the right
	// margin), the row labels (which set the left margin).
	top := margin + 4
	if m.Title != "" {
		top += fontH + 8
	}
	bottom := margin + tickLen + 2 + fontH
	if m.XLabel != "" {
		bottom += fontH + 6
	}
	mapH := max(1, h-top-bottom)
	barH := mapH
	if missing && mapH > 6*nanH {
		barH = mapH - nanH - 12
	}
	bt, bs := m.barTicks(lay, min(max(barH/50, 2), 8))
	blab := tickLabels(bt, bs)
	right := margin + barGap + barWidth + 1 + tickLen + 3 + widest(blab)
	if missing {
		right = max(right, margin+barGap+barWidth+1+tickLen+3+textWidth("n/a"))
	}
	labW := min(widest(m.RowLabels), w*35/100)
	left := margin + labW + 3 + tickLen + 1
	if m.YLabel != "" {
		left += fontH + 8
	}
	lay.cells = image.Rect(left, top, left+max(1, w-left-right), top+mapH)
	cells := lay.cells
	lay.bar = image.Rect(cells.Max.X+barGap, top, cells.Max.X+barGap+barWidth, top+barH)

	img := newCanvas(w, h)
	if !m.LinesOnly {
		m.paintCells(img, lay)
	}
	m.drawContours(img, lay)
	frame(img, cells, inkAxis)

	// Row labels.
	rowPx := float64(cells.Dy()) / float64(rows)
	if m.RowLabels != nil {
		k := max(1, int(math.Ceil(float64(fontH+1)/rowPx)))
		for r := 0; r < rows; r += k {
			y := cells.Min.Y + int((float64(r)+0.5)*rowPx)
			hline(img, cells.Min.X-1-tickLen, cells.Min.X-2, y, inkAxis)
			drawText(img, truncate(m.RowLabels[r], labW), cells.Min.X-1-tickLen-3, y+capHalf, alignRight, inkText)
		}
	}

	// Column ticks.
	xs, xlab := m.colTicks(lay)
	for i, x := range xs {
		vline(img, x, cells.Max.Y+1, cells.Max.Y+tickLen, inkAxis)
		drawText(img, xlab[i], x+1, cells.Max.Y+1+tickLen+2+fontAscent-1, alignCenter, inkText)
	}

	m.colourBar(img, lay, bt, blab, missing)

	// Labels.
	cx := (cells.Min.X + cells.Max.X) / 2
	if m.Title != "" {
		t := truncate(m.Title, w-2*margin)
		tx := min(max(cx, margin+textWidth(t)/2), w-margin-textWidth(t)/2)
		drawBold(img, t, tx, margin+fontAscent, alignCenter, inkText)
	}
	if m.XLabel != "" {
		drawText(img, truncate(m.XLabel, w-2*margin), cx, cells.Max.Y+1+tickLen+2+fontH+6+fontAscent-1, alignCenter, inkText)
	}
	if m.YLabel != "" {
		drawTextUp(img, truncate(m.YLabel, h-2*margin), margin+fontH/2, (cells.Min.Y+cells.Max.Y)/2, inkText)
	}
	return img, lay, nil
}

// span returns the cells [c0, c1) that pixel p of n pixels shows, out of k cells: the cell
// under the pixel's centre when cells are wider than pixels, else every cell that starts
// in the pixel.
func span(p, n, k int) (int, int) {
	if k <= n {
		c := (2*p + 1) * k / (2 * n)
		return c, c + 1
	}
	return p * k / n, (p + 1) * k / n
}

// paintCells fills the map's rectangle: each pixel gets the colour of the mean (on the
// colour scale) of the finite cells it shows, or grey if there are none.
func (m *HeatMap) paintCells(img *image.RGBA, lay *heatLayout) {
	r := lay.cells
	W, H := r.Dx(), r.Dy()
	// Reduce the columns of every row to W pixel columns, then the rows to H pixel rows.
	sum := make([]float64, lay.rows*W)
	cnt := make([]int32, lay.rows*W)
	for i, row := range m.Values {
		for px := range W {
			c0, c1 := span(px, W, lay.cols)
			for c := c0; c < c1 && c < len(row); c++ {
				if s := m.scale(row[c]); !math.IsNaN(s) {
					sum[i*W+px] += s
					cnt[i*W+px]++
				}
			}
		}
	}
	for py := range H {
		r0, r1 := span(py, H, lay.rows)
		for px := range W {
			s, n := 0.0, int32(0)
			for i := r0; i < r1; i++ {
				s += sum[i*W+px]
				n += cnt[i*W+px]
			}
			col := nanGrey
			if n > 0 {
				col = Viridis(lay.norm(s / float64(n)))
			}
			img.SetRGBA(r.Min.X+px, r.Min.Y+py, col)
		}
	}
}

// norm maps a value on the colour scale to [0, 1] (unclamped).
func (l *heatLayout) norm(s float64) float64 {
	return (s - l.v0) / (l.v1 - l.v0)
}

// barTicks returns the colour bar's ticks, as values, and their step (0 for log ticks).
func (m *HeatMap) barTicks(lay *heatLayout, n int) ([]float64, float64) {
	if m.LogScale {
		return logTicks(math.Pow(10, lay.v0), math.Pow(10, lay.v1), n)
	}
	return niceTicks(lay.v0, lay.v1, n)
}

// colourBar draws the colour bar with its ticks and labels, and the swatch for missing
// values below it.
func (m *HeatMap) colourBar(img *image.RGBA, lay *heatLayout, ticks []float64, labels []string, missing bool) {
	b := lay.bar
	for y := b.Min.Y; y < b.Max.Y; y++ {
		t := 0.5
		if b.Dy() > 1 {
			t = float64(b.Max.Y-1-y) / float64(b.Dy()-1)
		}
		hline(img, b.Min.X, b.Max.X-1, y, Viridis(t))
	}
	frame(img, b, inkAxis)
	for i, v := range ticks {
		t := lay.norm(m.scale(v))
		y := int(float64(b.Max.Y) - 0.5 - t*float64(b.Dy()-1))
		hline(img, b.Max.X+1, b.Max.X+tickLen, y, inkAxis)
		drawText(img, labels[i], b.Max.X+1+tickLen+3, y+capHalf, alignLeft, inkText)
	}
	if missing && b.Max.Y < lay.cells.Max.Y {
		sw := image.Rect(b.Min.X, lay.cells.Max.Y-nanH, b.Max.X, lay.cells.Max.Y)
		fillRect(img, sw, nanGrey)
		frame(img, sw, inkAxis)
		drawText(img, "n/a", b.Max.X+1+tickLen+3, (sw.Min.Y+sw.Max.Y)/2+capHalf, alignLeft, inkText)
	}
}

// colTicks returns the pixel columns and labels of the column ticks, as many as fit
// without the labels touching.
func (m *HeatMap) colTicks(lay *heatLayout) ([]int, []string) {
	r := lay.cells
	colPx := float64(r.Dx()) / float64(lay.cols)
	at := func(pos float64) int { // pos: fractional column index
		return r.Min.X + int((pos+0.5)*colPx)
	}
	if m.ColLabels != nil {
		k := max(1, int(math.Ceil(float64(widest(m.ColLabels)+10)/colPx)))
		var xs []int
		var labs []string
		for c := 0; c < lay.cols; c += k {
			if m.ColLabels[c] != "" {
				xs = append(xs, at(float64(c)))
				labs = append(labs, m.ColLabels[c])
			}
		}
		return xs, labs
	}
	x := m.X
	if x == nil {
		x = make([]float64, lay.cols)
		for i := range x {
			x[i] = float64(i)
		}
	}
	if lay.cols == 1 {
		return []int{at(0)}, []string{formatValue(x[0])}
	}
	pos := func(v float64) float64 {
		i := sort.SearchFloat64s(x, v)
		switch {
		case i == 0:
			return 0
		case i >= len(x):
			return float64(len(x) - 1)
		}
		return float64(i-1) + (v-x[i-1])/(x[i]-x[i-1])
	}
	for n := min(max(r.Dx()/80, 2), 10); n >= 1; n-- {
		t, step := niceTicks(x[0], x[len(x)-1], n)
		if m.X == nil { // column indices: whole numbers only
			t = integers(t)
			step = math.Max(step, 1)
		}
		labs := tickLabels(t, step)
		xs := make([]int, len(t))
		for i, v := range t {
			xs[i] = at(pos(v))
		}
		if n == 1 || len(xs) < 2 || xs[1]-xs[0] >= widest(labs)+12 {
			return xs, labs
		}
	}
	return nil, nil
}

// integers returns the whole numbers among t.
func integers(t []float64) []float64 {
	var out []float64
	for _, v := range t {
		if v == math.Round(v) {
			out = append(out, v)
		}
	}
	return out
}
