package chart

import (
	"image"
	"image/color"
	"math"
	"strings"
	"testing"
)

// cellCentre returns the pixel at the centre of cell (r, c) of a rows x cols map drawn in
// rect.
func cellCentre(rect image.Rectangle, rows, cols, r, c int) (int, int) {
	return rect.Min.X + (2*c+1)*rect.Dx()/(2*cols), rect.Min.Y + (2*r+1)*rect.Dy()/(2*rows)
}

func TestHeatMapCells(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		m    HeatMap
		want [2][2]color.RGBA
	}{
		{
			"linear",
			HeatMap{Values: [][]float64{{0, 1}, {2, nan}}},
			[2][2]color.RGBA{{Viridis(0), Viridis(0.5)}, {Viridis(1), nanGrey}},
		},
		{
			"log",
			HeatMap{LogScale: true, Values: [][]float64{{1, 10}, {100, -1}}},
			[2][2]color.RGBA{{Viridis(0), Viridis(0.5)}, {Viridis(1), nanGrey}},
		},
		{
			"log zero",
			HeatMap{LogScale: true, Values: [][]float64{{0, 10}, {1000, math.Inf(1)}}},
			[2][2]color.RGBA{{nanGrey, Viridis(0)}, {Viridis(1), nanGrey}},
		},
		{
			"fixed range, clamped",
			HeatMap{VMin: 0, VMax: 4, Values: [][]float64{{-5, 1}, {3, 9}}},
			[2][2]color.RGBA{{Viridis(0), Viridis(0.25)}, {Viridis(0.75), Viridis(1)}},
		},
		{
			"ragged",
			HeatMap{Values: [][]float64{{0, 2}, {1}}},
			[2][2]color.RGBA{{Viridis(0), Viridis(1)}, {Viridis(0.5), nanGrey}},
		},
		{
			"labelled",
			HeatMap{Title: "t", XLabel: "x", YLabel: "y", RowLabels: []string{"encoder.0.conv1", "b"}, ColLabels: []string{"p", "q"}, Values: [][]float64{{4, 3}, {2, 0}}},
			[2][2]color.RGBA{{Viridis(1), Viridis(0.75)}, {Viridis(0.5), Viridis(0)}},
		},
	}
	for _, tt := range tests {
		tt.m.Width, tt.m.Height = 300, 200
		img, lay, err := tt.m.render()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if lay.cells.Dx() < 100 || lay.cells.Dy() < 80 || !lay.cells.In(img.Rect) {
			t.Fatalf("%s: cells %v in image %v", tt.name, lay.cells, img.Rect)
		}
		for r := range 2 {
			for c := range 2 {
				x, y := cellCentre(lay.cells, 2, 2, r, c)
				if got := img.RGBAAt(x, y); got != tt.want[r][c] {
					t.Errorf("%s: cell (%d, %d) at (%d, %d) = %v, want %v", tt.name, r, c, x, y, got, tt.want[r][c])
				}
			}
		}
	}
}

// TestHeatMapDownsample checks that columns beyond the pixel width are averaged, in log
// space on a log scale: alternating 1 and 100, two columns a pixel, average to 10.
func TestHeatMapDownsample(t *testing.T) {
	for _, log := range []bool{true, false} {
		probe := &HeatMap{LogScale: log, Width: 400, Height: 100, Values: [][]float64{{1, 100}}}
		_, lay, err := probe.render()
		if err != nil {
			t.Fatal(err)
		}
		row := make([]float64, 2*lay.cells.Dx())
		for i := range row {
			row[i] = 1
			if i%2 == 1 {
				row[i] = 100
			}
		}
		m := &HeatMap{LogScale: log, Width: 400, Height: 100, Values: [][]float64{row}}
		img, lay2, err := m.render()
		if err != nil {
			t.Fatal(err)
		}
		if lay2.cells != lay.cells {
			t.Fatalf("layout changed with the number of columns: %v, then %v", lay.cells, lay2.cells)
		}
		want := Viridis(0.5) // log: mean of 0 and 2 is 1, halfway; linear: 50.5 is halfway too
		for _, px := range []int{0, lay.cells.Dx() / 3, lay.cells.Dx() - 1} {
			x, y := lay.cells.Min.X+px, (lay.cells.Min.Y+lay.cells.Max.Y)/2
			if got := img.RGBAAt(x, y); got != want {
				t.Errorf("log %v: pixel column %d = %v, want %v", log, px, got, want)
			}
		}
	}
	// Averaging in log space, not linearly: 1, 1, 1, 1000 averages to 10^0.75, which is
	// a quarter of the way up a scale from 1 to 1000 (linearly it would be 250.75, 80%).
	probe := &HeatMap{LogScale: true, Width: 400, Height: 100, Values: [][]float64{{1, 1000}}}
	_, lay, _ := probe.render()
	row := make([]float64, 4*lay.cells.Dx())
	for i := range row {
		row[i] = 1
		if i%4 == 3 {
			row[i] = 1000
		}
	}
	img, _, err := (&HeatMap{LogScale: true, Width: 400, Height: 100, Values: [][]float64{row}}).render()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := img.RGBAAt(lay.cells.Min.X+5, lay.cells.Min.Y+5), Viridis(0.25); got != want {
		t.Errorf("log average of 1, 1, 1, 1000: %v, want %v", got, want)
	}
}

// TestHeatMapOdd checks that odd data draw an image of the requested size, and that input
// that cannot be drawn gives an error naming the problem, without panicking.
func TestHeatMapOdd(t *testing.T) {
	nan := math.NaN()
	big := make([][]float64, 60)
	labels := make([]string, 60)
	for r := range big {
		big[r] = make([]float64, 3000)
		for c := range big[r] {
			big[r][c] = math.Exp(float64(r-c%7) / 5)
		}
		labels[r] = "decoder.up.3.conv2.weight"
	}
	tests := []struct {
		name   string
		m      HeatMap
		w, h   int
		errHas string
	}{
		{"default size", HeatMap{Values: [][]float64{{1, 2}}}, 800, 300, ""},
		{"default height for many rows", HeatMap{Values: big, RowLabels: labels, LogScale: true}, 800, 980, ""},
		{"requested size", HeatMap{Width: 123, Height: 321, Values: [][]float64{{1}}}, 123, 321, ""},
		{"all NaN", HeatMap{Values: [][]float64{{nan, nan}, {nan, nan}}}, 800, 300, ""},
		{"log all non-positive", HeatMap{LogScale: true, Values: [][]float64{{0, -1}}}, 800, 300, ""},
		{"single cell", HeatMap{Values: [][]float64{{7}}, X: []float64{100}}, 800, 300, ""},
		{"constant", HeatMap{Values: [][]float64{{3, 3}, {3, 3}}}, 800, 300, ""},
		{"huge values", HeatMap{Values: [][]float64{{-math.MaxFloat64, math.MaxFloat64}}}, 800, 300, ""},
		{"more rows than pixels", HeatMap{Height: 40, Values: big}, 800, 40, ""},
		{"1x1", HeatMap{Width: 1, Height: 1, Title: "t", RowLabels: []string{"r"}, Values: [][]float64{{1, nan}}}, 1, 1, ""},
		{"x values", HeatMap{X: []float64{10, 20, 40}, Values: [][]float64{{1, 2, 3}}}, 800, 300, ""},
		{"no rows", HeatMap{}, 0, 0, "no rows"},
		{"no columns", HeatMap{Values: [][]float64{{}, nil}}, 0, 0, "no columns"},
		{"row labels", HeatMap{RowLabels: []string{"a"}, Values: [][]float64{{1}, {2}}}, 0, 0, "2 rows but 1 row labels"},
		{"column labels", HeatMap{ColLabels: []string{"a"}, Values: [][]float64{{1, 2}}}, 0, 0, "2 columns but 1 column labels"},
		{"x length", HeatMap{X: []float64{1}, Values: [][]float64{{1, 2}}}, 0, 0, "2 columns but 1 x values"},
		{"x decreasing", HeatMap{X: []float64{2, 1}, Values: [][]float64{{1, 2}}}, 0, 0, "increasing"},
		{"x NaN", HeatMap{X: []float64{1, nan}, Values: [][]float64{{1, 2}}}, 0, 0, "increasing"},
		{"log VMin", HeatMap{LogScale: true, VMin: 0, VMax: 1, Values: [][]float64{{1}}}, 0, 0, "VMin"},
		{"negative size", HeatMap{Height: -5, Values: [][]float64{{1}}}, 0, 0, "size"},
	}
	for _, tt := range tests {
		img, err := tt.m.Image()
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

func TestViridis(t *testing.T) {
	tests := []struct {
		t    float64
		want color.RGBA
	}{
		{0, color.RGBA{0x44, 0x01, 0x54, 0xff}},
		{1, color.RGBA{0xfd, 0xe7, 0x25, 0xff}},
		{0.5, color.RGBA{0x21, 0x90, 0x8c, 0xff}}, // matplotlib: #21918c, within 1
		{-3, color.RGBA{0x44, 0x01, 0x54, 0xff}},
		{7, color.RGBA{0xfd, 0xe7, 0x25, 0xff}},
		{math.NaN(), color.RGBA{0x44, 0x01, 0x54, 0xff}},
		{math.Inf(1), color.RGBA{0xfd, 0xe7, 0x25, 0xff}},
	}
	for _, tt := range tests {
		if got := Viridis(tt.t); got != tt.want {
			t.Errorf("Viridis(%g) = %v, want %v", tt.t, got, tt.want)
		}
	}
	// Perceptual: lightness rises all the way.
	luma := func(c color.RGBA) float64 { return 0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B) }
	prev := -1.0
	for i := 0; i <= 128; i++ {
		l := luma(Viridis(float64(i) / 128))
		if l <= prev {
			t.Fatalf("Viridis(%g) is no lighter than the colour before it", float64(i)/128)
		}
		prev = l
	}
}
