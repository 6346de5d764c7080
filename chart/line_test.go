package chart

import (
	"image"
	"image/color"
	"math"
	"strings"
	"testing"
)

var magenta = color.RGBA{0xff, 0x00, 0xff, 0xff}

// isMagenta reports whether the pixel is mostly the test series' colour: a line covering at
// least about 3/4 of the pixel.
func isMagenta(img *image.RGBA, x, y int) bool {
	c := img.RGBAAt(x, y)
	return c.R > 200 && c.B > 200 && c.G < 90
}

// hasMagenta reports whether the pixel has any of the test series' colour in it.
func hasMagenta(img *image.RGBA, x, y int) bool {
	c := img.RGBAAt(x, y)
	return int(c.R)-int(c.G) > 25 && int(c.B)-int(c.G) > 25
}

// mapper returns the pixel that data point (x, y) should land on, from the plot rectangle
// and the data ranges: x0 and y0 at the centre of the bottom-left pixel, x1 and y1 at the
// centre of the top-right one.
func mapper(plot image.Rectangle, x0, x1, y0, y1 float64) func(x, y float64) (int, int) {
	return func(x, y float64) (int, int) {
		fx := float64(plot.Min.X) + 0.5 + (x-x0)/(x1-x0)*float64(plot.Dx()-1)
		fy := float64(plot.Max.Y) - 0.5 - (y-y0)/(y1-y0)*float64(plot.Dy()-1)
		return int(math.Floor(fx)), int(math.Floor(fy))
	}
}

func TestLineMapping(t *testing.T) {
	c := &Line{
		Title: "mapping", XLabel: "x", YLabel: "y", YMin: 0, YMax: 10, Width: 400, Height: 300,
		Series: []Series{{X: []float64{0, 5, 10}, Y: []float64{0, 10, 0}, Color: magenta}},
	}
	img, lay, err := c.render()
	if err != nil {
		t.Fatal(err)
	}
	if !lay.plot.In(img.Rect) || lay.plot.Dx() < 200 || lay.plot.Dy() < 150 {
		t.Fatalf("plot %v in image %v: want most of the image", lay.plot, img.Rect)
	}
	at := mapper(lay.plot, 0, 10, 0, 10)
	for _, p := range []struct {
		x, y float64
		on   bool
	}{
		{0, 0, true},    // first point, bottom left
		{5, 10, true},   // vertex, top centre
		{10, 0, true},   // last point, bottom right
		{2.5, 5, true},  // on the rising line
		{7.5, 5, true},  // on the falling line
		{5, 0, false},   // where the vertex would be with y upside down
		{5, 5, false},   // inside the V
		{2.5, 8, false}, // above the line
	} {
		x, y := at(p.x, p.y)
		if isMagenta(img, x, y) != p.on {
			t.Errorf("data (%g, %g) at pixel (%d, %d) = %v: on line = %v, want %v", p.x, p.y, x, y, img.RGBAAt(x, y), !p.on, p.on)
		}
	}
}

func TestLineLogMapping(t *testing.T) {
	c := &Line{
		LogY: true, YMin: 1e-3, YMax: 10, Width: 300, Height: 300,
		Series: []Series{{Y: []float64{0.01, 0.01, 0.01, 1, 1}, Color: magenta}},
	}
	img, lay, err := c.render()
	if err != nil {
		t.Fatal(err)
	}
	at := mapper(lay.plot, 0, 4, -3, 1) // log10 of the y range
	for _, p := range []struct {
		x, y float64
		on   bool
	}{
		{1, -2, true},        // 0.01, a quarter of the way up
		{3.5, 0, true},       // 1, three quarters up
		{1, -1, false},       // 0.1
		{1, -2 + 0.3, false}, // 0.02
	} {
		x, y := at(p.x, p.y)
		if isMagenta(img, x, y) != p.on {
			t.Errorf("data (%g, 1e%g) at pixel (%d, %d): on line = %v, want %v", p.x, p.y, x, y, !p.on, p.on)
		}
	}
}

// TestNaNGap checks that a NaN breaks the line: no line pixels between the points on either
// side of it, where the same chart without the NaN has them.
func TestNaNGap(t *testing.T) {
	for _, gap := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, broken := range []bool{true, false} {
			y := []float64{1, 2, 2, 2, 1}
			if broken {
				y[2] = gap
			}
			c := &Line{YMin: 0, YMax: 3, Width: 300, Height: 200, Series: []Series{{Y: y, Color: magenta}}}
			img, lay, err := c.render()
			if err != nil {
				t.Fatal(err)
			}
			at := mapper(lay.plot, 0, 4, 0, 3)
			x0, yy := at(1.3, 2)
			x1, _ := at(2.7, 2)
			found := 0
			for x := x0; x <= x1; x++ {
				for dy := -3; dy <= 3; dy++ {
					if hasMagenta(img, x, yy+dy) {
						found++
					}
				}
			}
			if broken && found > 0 {
				t.Errorf("y[2] = %g: %d line pixels between x = 1.3 and 2.7, want none", gap, found)
			}
			if !broken && found < x1-x0 {
				t.Errorf("no gap: %d line pixels between x = 1.3 and 2.7, want at least %d", found, x1-x0)
			}
			// The points on either side are still drawn.
			for _, px := range []float64{1, 3} {
				if x, y := at(px, 2); !isMagenta(img, x, y) {
					t.Errorf("y[2] = %g: point (%g, 2) not drawn", gap, px)
				}
			}
		}
	}
}

// TestDegenerate checks that a single point, a constant series and an isolated point
// between gaps are drawn, at the centre of a range padded around them.
func TestDegenerate(t *testing.T) {
	tests := []struct {
		name string
		s    Series
		x, y float64 // data point that must be drawn
	}{
		{"single point", Series{X: []float64{3}, Y: []float64{7}}, 3, 7},
		{"constant", Series{X: []float64{0, 1, 2}, Y: []float64{5, 5, 5}}, 1, 5},
		{"constant zero", Series{X: []float64{0, 1, 2}, Y: []float64{0, 0, 0}}, 1, 0},
		{"single x", Series{X: []float64{4, 4}, Y: []float64{1, 3}}, 4, 2},
		{"isolated", Series{Y: []float64{math.NaN(), 4, math.NaN()}}, 1, 4},
	}
	for _, tt := range tests {
		tt.s.Color = magenta
		c := &Line{Width: 300, Height: 200, Series: []Series{tt.s}}
		img, lay, err := c.render()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !(lay.x0 < tt.x && tt.x < lay.x1 && lay.y0 < tt.y && tt.y < lay.y1) {
			t.Errorf("%s: range x [%g, %g] y [%g, %g] does not have (%g, %g) inside", tt.name, lay.x0, lay.x1, lay.y0, lay.y1, tt.x, tt.y)
			continue
		}
		x, y := mapper(lay.plot, lay.x0, lay.x1, lay.y0, lay.y1)(tt.x, tt.y)
		if !isMagenta(img, x, y) {
			t.Errorf("%s: (%g, %g) at pixel (%d, %d) not drawn: %v", tt.name, tt.x, tt.y, x, y, img.RGBAAt(x, y))
		}
	}
}

// TestLegendPlacement checks that the legend goes where it hides no data: with data along
// the top of the plot it must sit in the bottom half.
func TestLegendPlacement(t *testing.T) {
	for _, top := range []bool{true, false} {
		y := []float64{9.5, 9.5, 9.5}
		if !top {
			y = []float64{0.5, 0.5, 0.5}
		}
		c := &Line{YMin: 0, YMax: 10, Width: 400, Height: 300, Series: []Series{{Name: "a series", Y: y, Color: magenta}}}
		img, lay, err := c.render()
		if err != nil {
			t.Fatal(err)
		}
		minY, maxY := lay.plot.Max.Y, lay.plot.Min.Y
		for y := lay.plot.Min.Y; y < lay.plot.Max.Y; y++ {
			for x := lay.plot.Min.X; x < lay.plot.Max.X; x++ {
				if img.RGBAAt(x, y) == inkBorder {
					minY, maxY = min(minY, y), max(maxY, y)
				}
			}
		}
		mid := (lay.plot.Min.Y + lay.plot.Max.Y) / 2
		if minY > maxY {
			t.Fatalf("data at top %v: no legend", top)
		}
		if top && minY < mid || !top && maxY > mid {
			t.Errorf("data at top %v: legend spans rows %d to %d, plot %d to %d", top, minY, maxY, lay.plot.Min.Y, lay.plot.Max.Y)
		}
	}
}

// TestLineOdd checks that odd data draw an image of the requested size, and that input
// that cannot be drawn gives an error naming the problem, without panicking.
func TestLineOdd(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name   string
		c      Line
		w, h   int
		errHas string
	}{
		{"default size", Line{Series: []Series{{Y: []float64{1, 2}}}}, 640, 400, ""},
		{"requested size", Line{Width: 321, Height: 123, Series: []Series{{Y: []float64{1, 2}}}}, 321, 123, ""},
		{"empty series", Line{Series: []Series{{Name: "empty"}}}, 640, 400, ""},
		{"all NaN", Line{Series: []Series{{Name: "nan", Y: []float64{nan, nan}}}}, 640, 400, ""},
		{"NaN x", Line{Series: []Series{{X: []float64{nan, 1, inf}, Y: []float64{1, 2, 3}}}}, 640, 400, ""},
		{"infinities", Line{Series: []Series{{Y: []float64{inf, -inf, 1}}}}, 640, 400, ""},
		{"huge values", Line{Series: []Series{{Y: []float64{-math.MaxFloat64, math.MaxFloat64, 0}}}}, 640, 400, ""},
		{"tiny values", Line{Series: []Series{{Y: []float64{5e-324, 1e-323}}}}, 640, 400, ""},
		{"beyond fixed range", Line{YMin: 0, YMax: 1, Series: []Series{{Y: []float64{-1e300, 1e300, 0.5}}}}, 640, 400, ""},
		{"log of non-positive", Line{LogY: true, Series: []Series{{Y: []float64{0, -1, -2}}}}, 640, 400, ""},
		{"log mixed", Line{LogY: true, Series: []Series{{Y: []float64{0, 1e-3, -2, 10}}}}, 640, 400, ""},
		{"1x1", Line{Width: 1, Height: 1, Title: "t", XLabel: "x", YLabel: "y", Series: []Series{{Name: "a", Y: []float64{1, 2}}}}, 1, 1, ""},
		{"30x20", Line{Width: 30, Height: 20, Title: "a long title", Series: []Series{{Name: "a", Y: []float64{1, 2}}}}, 30, 20, ""},
		{"many series", Line{Series: make([]Series, 20)}, 640, 400, ""},
		{"long names", Line{Title: strings.Repeat("title ", 40), Series: []Series{{Name: strings.Repeat("n", 300), Y: []float64{1}}}}, 640, 400, ""},
		{"non-ASCII", Line{Title: "Verlust über Schritte", Series: []Series{{Name: "λ", Y: []float64{1}}}}, 640, 400, ""},
		{"translucent colour", Line{Series: []Series{{Y: []float64{1, 2}, Color: color.NRGBA{255, 0, 0, 100}}}}, 640, 400, ""},
		{"no series", Line{}, 0, 0, "no series"},
		{"length mismatch", Line{Series: []Series{{Name: "bad", X: []float64{1}, Y: []float64{1, 2}}}}, 0, 0, "1 x values and 2 y values"},
		{"negative size", Line{Width: -1, Series: []Series{{Y: []float64{1}}}}, 0, 0, "size"},
		{"huge size", Line{Width: 1 << 20, Series: []Series{{Y: []float64{1}}}}, 0, 0, "size"},
		{"log with YMin 0", Line{LogY: true, YMin: 0, YMax: 1, Series: []Series{{Y: []float64{1}}}}, 0, 0, "YMin"},
	}
	for _, tt := range tests {
		img, err := tt.c.Image()
		if tt.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.errHas)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := img.Bounds(); got != image.Rect(0, 0, tt.w, tt.h) {
			t.Errorf("%s: bounds %v, want %dx%d", tt.name, got, tt.w, tt.h)
		}
	}
}

// TestPaletteColors checks that series without a colour take the palette in order.
func TestPaletteColors(t *testing.T) {
	c := &Line{YMin: 0, YMax: 3, Width: 300, Height: 200}
	for i := range 3 {
		y := float64(i) + 0.5
		c.Series = append(c.Series, Series{Y: []float64{y, y, y}})
	}
	img, lay, err := c.render()
	if err != nil {
		t.Fatal(err)
	}
	at := mapper(lay.plot, 0, 2, 0, 3)
	for i := range 3 {
		x, y := at(1, float64(i)+0.5)
		if got := img.RGBAAt(x, y); got != palette[i] {
			t.Errorf("series %d: colour %v, want palette colour %v", i, got, palette[i])
		}
	}
}
