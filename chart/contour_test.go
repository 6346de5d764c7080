package chart

import (
	"image/color"
	"testing"
)

// TestContourOfARamp draws the contour at 1.5 of a map whose value is its column: the
// line must lie halfway between the centres of columns 1 and 2, straight down the map,
// and nothing else may be drawn on the white map.
func TestContourOfARamp(t *testing.T) {
	m := &HeatMap{Values: make([][]float64, 5), Contours: []float64{1.5}, LinesOnly: true, Width: 400, Height: 300}
	for i := range m.Values {
		m.Values[i] = []float64{0, 1, 2, 3, 4}
	}
	img, lay, err := m.render()
	if err != nil {
		t.Fatal(err)
	}
	r := lay.cells
	cw, ch := float64(r.Dx())/5, float64(r.Dy())/5
	lineX := float64(r.Min.X) + 2*cw // (1.5 + 0.5) column widths in
	white := color.RGBA{255, 255, 255, 255}
	for y := r.Min.Y + 2; y < r.Max.Y-2; y++ {
		inRange := float64(y)+0.5 >= float64(r.Min.Y)+0.5*ch && float64(y)+0.5 <= float64(r.Min.Y)+4.5*ch
		for x := r.Min.X + 2; x < r.Max.X-2; x++ {
			near := float64(x)+0.5 > lineX-1.2 && float64(x)+0.5 < lineX+1.2
			inked := img.RGBAAt(x, y) != white
			switch {
			case inked && !(near && float64(y)+0.5 > float64(r.Min.Y)+0.5*ch-1.2 && float64(y)+0.5 < float64(r.Min.Y)+4.5*ch+1.2):
				t.Fatalf("pixel (%d, %d) is inked, the contour runs at x=%.1f", x, y, lineX)
			case inRange && x == int(lineX) && !inked:
				t.Fatalf("pixel (%d, %d) on the contour is not inked", x, y)
			}
		}
	}
}
