package chart

import (
	"flag"
	"fmt"
	"image"
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

// TestSamples draws every sample chart, and with -samples writes them for a person to look
// at: go test ./chart -run TestSamples -samples /tmp/charts
func TestSamples(t *testing.T) {
	for name, draw := range sampleCharts() {
		img, err := draw()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if *samplesDir != "" {
			if err := atomicfile.WritePNG(filepath.Join(*samplesDir, name), img); err != nil {
				t.Fatal(err)
			}
			fmt.Println("wrote", filepath.Join(*samplesDir, name))
		}
	}
}
