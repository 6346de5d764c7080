package chart

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/segment-dev/segment/internal/atomicfile"
)

var samplesDir = flag.String("samples", "", "write sample charts as PNG files into this directory, to look at")

// sampleCharts returns the charts of the kinds the tool draws, with realistic data.
func sampleCharts() map[string]func() (image.Image, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	steps := 3000
	var x, loss, smooth []float64
	s := 0.0
	for i := range steps {
		step := float64(i + 1)
		l := 0.08 + 0.6*math.Exp(-step/400) + 0.04*rng.NormFloat64()*math.Exp(-step/2000)
		if i == 0 {
			s = l
		}
		s = 0.98*s + 0.02*l
		x = append(x, step)
		loss = append(loss, l)
		smooth = append(smooth, s)
	}
	var vx, dice, dice2 []float64
	for e := 1; e <= 30; e++ {
		vx = append(vx, float64(e*100))
		dice = append(dice, 0.92-0.5*math.Exp(-float64(e)/6)+0.01*rng.NormFloat64())
		d2 := 0.88 - 0.6*math.Exp(-float64(e)/5) + 0.01*rng.NormFloat64()
		if e == 12 {
			d2 = math.NaN()
		}
		dice2 = append(dice2, d2)
	}
	lossChart := func() (image.Image, error) {
		return (&Line{
			Title: "Training loss", XLabel: "step", YLabel: "loss", LogY: true,
			Series: []Series{{Name: "loss", X: x, Y: loss}, {Name: "smoothed (EMA 0.98)", X: x, Y: smooth}},
			Width:  560, Height: 380,
		}).Image()
	}
	diceChart := func() (image.Image, error) {
		return (&Line{
			Title: "Validation Dice", XLabel: "step", YLabel: "Dice", YMin: 0, YMax: 1,
			Series: []Series{{Name: "foreground", X: vx, Y: dice}, {Name: "boundary (NaN at 1200)", X: vx, Y: dice2}},
			Width:  560, Height: 380,
		}).Image()
	}
	// Gradient norms: 46 layers, 2400 steps; deeper layers smaller, a dead layer, NaNs.
	var names []string
	for _, part := range []string{"inc", "down1", "down2", "down3", "down4", "up1", "up2", "up3", "up4"} {
		for _, l := range []string{"conv1.weight", "bn1.weight", "conv2.weight", "bn2.weight", "conv2.bias"} {
			names = append(names, part+"."+l)
		}
	}
	names = append(names, "outc.conv.weight")
	ncol := 2400
	vals := make([][]float64, len(names))
	gx := make([]float64, ncol)
	for c := range gx {
		gx[c] = float64((c + 1) * 10)
	}
	for r := range vals {
		vals[r] = make([]float64, ncol)
		base := math.Pow(10, -1-3*float64(r)/float64(len(names)))
		for c := range vals[r] {
			vals[r][c] = base * math.Exp(-float64(c)/1500) * math.Exp(0.5*rng.NormFloat64())
			if r == 7 {
				vals[r][c] = 0
			}
			if c >= 1700 && c < 1760 {
				vals[r][c] = math.NaN()
			}
		}
	}
	return map[string]func() (image.Image, error){
		"loss.png": lossChart,
		"dice.png": diceChart,
		"train_panels.png": func() (image.Image, error) {
			a, err := lossChart()
			if err != nil {
				return nil, err
			}
			b, err := diceChart()
			if err != nil {
				return nil, err
			}
			return Grid(2, a, b), nil
		},
		"gradnorm.png": func() (image.Image, error) {
			return (&HeatMap{
				Title: "Gradient norm per layer (log10 scale)", XLabel: "step", YLabel: "layer (input at top)",
				RowLabels: names, X: gx, Values: vals, LogScale: true,
			}).Image()
		},
		"gradnorm_small.png": func() (image.Image, error) {
			return (&HeatMap{
				Title: "Gradient norm per layer", XLabel: "step",
				RowLabels: names, X: gx, Values: vals, LogScale: true, Width: 520, Height: 360,
			}).Image()
		},
		"small_heat.png": func() (image.Image, error) {
			return (&HeatMap{
				Title: "Confusion (fraction of pixels)", XLabel: "predicted", YLabel: "true",
				RowLabels: []string{"background", "cell", "membrane"}, ColLabels: []string{"background", "cell", "membrane"},
				Values: [][]float64{{0.91, 0.05, 0.04}, {0.07, 0.85, math.NaN()}, {0.10, 0.02, 0.88}},
				Width:  480, Height: 320,
			}).Image()
		},
		"log_decades.png": func() (image.Image, error) {
			var x, a, b []float64
			for i := range 200 {
				x = append(x, float64(i*50))
				a = append(a, 3*math.Exp(-float64(i)/15))
				b = append(b, 0.5*math.Exp(-float64(i)/40)+1e-5)
			}
			return (&Line{
				Title: "Learning rate and gradient norm", XLabel: "step", LogY: true,
				Series: []Series{{Name: "gradient norm", X: x, Y: a}, {Name: "learning rate", X: x, Y: b}},
			}).Image()
		},
		"small.png": func() (image.Image, error) {
			return (&Line{
				Title: "Dice", XLabel: "epoch", YMin: 0, YMax: 1, Width: 260, Height: 180,
				Series: []Series{{Name: "val", Y: dice[:12]}},
			}).Image()
		},
		"stacked.png": func() (image.Image, error) {
			a, err := lossChart()
			if err != nil {
				return nil, err
			}
			b, err := diceChart()
			if err != nil {
				return nil, err
			}
			return Grid(1, a, b), nil
		},
		"odd.png": func() (image.Image, error) {
			return (&Line{
				Title: "Odd data: single point, constant, gaps, Inf", XLabel: "x", YLabel: "y",
				Series: []Series{
					{Name: "single point", X: []float64{3}, Y: []float64{2}},
					{Name: "constant", Y: []float64{2, 2, 2, 2, 2, 2}},
					{Name: "gaps", Y: []float64{1, 1.5, math.NaN(), 2.5, 3, math.Inf(1), 2, math.NaN(), 1.2}},
					{Name: "empty"},
				},
			}).Image()
		},
	}
}

// TestSamples draws every sample chart and checks what can be known without looking: each
// image has the size its chart asks for (the documented defaults, 640x400 for a line chart
// and 800 wide for a heat map, where it asks none; a grid's cells side by side or stacked),
// a white margin at its corners, its series drawn in the palette's colours in order (blue,
// then vermillion), a heat map's many shades, and each grid cell exactly the chart placed
// there. With -samples it writes them for a person to look at:
// go test ./chart -run TestSamples -samples /tmp/charts
func TestSamples(t *testing.T) {
	charts := sampleCharts()
	imgs := map[string]image.Image{}
	for name, draw := range charts {
		img, err := draw()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		imgs[name] = img
		if *samplesDir != "" {
			if err := atomicfile.WritePNG(filepath.Join(*samplesDir, name), img); err != nil {
				t.Fatal(err)
			}
			fmt.Println("wrote", filepath.Join(*samplesDir, name))
		}
	}
	sizes := map[string][2]int{ // 0: not fixed by the chart's settings
		"loss.png": {560, 380}, "dice.png": {560, 380}, "train_panels.png": {1120, 380}, "stacked.png": {560, 760},
		"gradnorm.png": {800, 0}, "gradnorm_small.png": {520, 360}, "small_heat.png": {480, 320},
		"log_decades.png": {640, 400}, "small.png": {260, 180}, "odd.png": {640, 400},
	}
	lines := map[string]int{"loss.png": 2, "dice.png": 2, "log_decades.png": 2, "small.png": 1, "odd.png": 2}
	heat := map[string]bool{"gradnorm.png": true, "gradnorm_small.png": true, "small_heat.png": true}
	white := color.RGBA{255, 255, 255, 255}
	okabeIto := []color.RGBA{{0x00, 0x72, 0xb2, 0xff}, {0xd5, 0x5e, 0x00, 0xff}} // blue, vermillion
	for name, img := range imgs {
		want, ok := sizes[name]
		if !ok {
			t.Errorf("%s: no expected size; add it to the table", name)
			continue
		}
		b := img.Bounds()
		if b.Dx() != want[0] || (want[1] != 0 && b.Dy() != want[1]) || b.Dy() < 100 {
			t.Errorf("%s: %dx%d, want %dx%d", name, b.Dx(), b.Dy(), want[0], want[1])
			continue
		}
		counts := map[color.RGBA]int{}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
			}
		}
		for _, p := range []image.Point{b.Min, {b.Max.X - 1, b.Min.Y}, {b.Min.X, b.Max.Y - 1}, {b.Max.X - 1, b.Max.Y - 1}} {
			if c := color.RGBAModel.Convert(img.At(p.X, p.Y)); c != white {
				t.Errorf("%s: corner %v is %v, want white", name, p, c)
			}
		}
		if counts[white] < b.Dx()*b.Dy()/4 {
			t.Errorf("%s: %d white pixels of %d: the background is not white", name, counts[white], b.Dx()*b.Dy())
		}
		// A series is a line across the plot at least: more pixels than a tenth of its width
		// (odd.png's first series is a single point, drawn as a marker).
		for i := 0; i < lines[name]; i++ {
			least := b.Dx() / 10
			if name == "odd.png" && i == 0 {
				least = 1
			}
			if n := counts[okabeIto[i]]; n < least {
				t.Errorf("%s: series %d's colour %v on %d pixels, want at least %d", name, i, okabeIto[i], n, least)
			}
		}
		if heat[name] && len(counts) < 20 {
			t.Errorf("%s: %d colours: a heat map of varied values shows many shades", name, len(counts))
		}
	}
	// The grids hold the charts themselves, pixel for pixel.
	same := func(grid, part image.Image, dx, dy int) bool {
		pb := part.Bounds()
		for y := pb.Min.Y; y < pb.Max.Y; y++ {
			for x := pb.Min.X; x < pb.Max.X; x++ {
				if color.RGBAModel.Convert(grid.At(x-pb.Min.X+dx, y-pb.Min.Y+dy)) != color.RGBAModel.Convert(part.At(x, y)) {
					return false
				}
			}
		}
		return true
	}
	if !same(imgs["train_panels.png"], imgs["loss.png"], 0, 0) || !same(imgs["train_panels.png"], imgs["dice.png"], 560, 0) {
		t.Error("train_panels.png is not the loss chart beside the Dice chart")
	}
	if !same(imgs["stacked.png"], imgs["loss.png"], 0, 0) || !same(imgs["stacked.png"], imgs["dice.png"], 0, 380) {
		t.Error("stacked.png is not the loss chart above the Dice chart")
	}
}
