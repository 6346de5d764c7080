package chart

import (
	"image"
	"image/color"
	"math"
)

// contourInk is the colour of contour lines drawn over the cells.
var contourInk = color.RGBA{255, 255, 255, 255}

// drawContours strokes the iso-line of every level of m.Contours. The samples are the
// cells' centres; within each square of four neighbouring centres, marching squares puts a
// point on every edge whose ends lie on either side of the level (linearly interpolated)
// and joins them in pairs. Edges with a missing value are skipped.
func (m *HeatMap) drawContours(img *image.RGBA, lay *heatLayout) {
	r := lay.cells
	cw, ch := float64(r.Dx())/float64(lay.cols), float64(r.Dy())/float64(lay.rows)
	at := func(i, j int) float64 {
		if i >= len(m.Values) || j >= len(m.Values[i]) {
			return math.NaN()
		}
		return m.scale(m.Values[i][j])
	}
	for _, level := range m.Contours {
		lv := m.scale(level)
		if math.IsNaN(lv) {
			continue
		}
		cv := newCoverage(r)
		for i := 0; i+1 < lay.rows; i++ {
			for j := 0; j+1 < lay.cols; j++ {
				// The square's corners in order around it, as (row, col).
				corners := [4][2]int{{i, j}, {i, j + 1}, {i + 1, j + 1}, {i + 1, j}}
				var pts [][2]float64
				for k := range 4 {
					a, b := corners[k], corners[(k+1)%4]
					va, vb := at(a[0], a[1]), at(b[0], b[1])
					if math.IsNaN(va) || math.IsNaN(vb) || (va < lv) == (vb < lv) {
						continue
					}
					t := (lv - va) / (vb - va)
					y := float64(a[0]) + t*float64(b[0]-a[0])
					x := float64(a[1]) + t*float64(b[1]-a[1])
					pts = append(pts, [2]float64{float64(r.Min.X) + (x+0.5)*cw, float64(r.Min.Y) + (y+0.5)*ch})
				}
				for k := 0; k+1 < len(pts); k += 2 {
					cv.stroke(pts[k][0], pts[k][1], pts[k+1][0], pts[k+1][1], 0.6)
				}
			}
		}
		ink := contourInk
		if m.LinesOnly {
			ink = Viridis(lay.norm(lv))
		}
		cv.paint(img, ink, 1)
	}
}
