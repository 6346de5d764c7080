package chart_test

import (
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/segment-dev/segment/chart"
	"github.com/segment-dev/segment/internal/atomicfile"
)

// A training loss chart with a log-scale y axis, and validation Dice beside it in one PNG.
func ExampleLine() {
	var steps, loss, vsteps, dice []float64
	for s := 1; s <= 1000; s++ {
		steps = append(steps, float64(s))
		loss = append(loss, 0.05+0.7*math.Exp(-float64(s)/150))
		if s%100 == 0 {
			vsteps = append(vsteps, float64(s))
			dice = append(dice, 0.9-0.5*math.Exp(-float64(s)/200))
		}
	}
	lossChart, err := (&chart.Line{
		Title: "Training loss", XLabel: "step", YLabel: "loss", LogY: true,
		Series: []chart.Series{{Name: "train", X: steps, Y: loss}},
	}).Image()
	if err != nil {
		log.Fatal(err)
	}
	diceChart, err := (&chart.Line{
		Title: "Validation Dice", XLabel: "step", YLabel: "Dice", YMin: 0, YMax: 1,
		Series: []chart.Series{{Name: "validation", X: vsteps, Y: dice}},
	}).Image()
	if err != nil {
		log.Fatal(err)
	}
	panels := chart.Grid(2, lossChart, diceChart)

	dir, err := os.MkdirTemp("", "chart-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := atomicfile.WritePNG(filepath.Join(dir, "training.png"), panels); err != nil {
		log.Fatal(err)
	}
	fmt.Println(lossChart.Bounds().Size(), panels.Bounds().Size())
	// Output: (640,400) (1280,400)
}

// Gradient norms per layer over training steps, on a log colour scale.
func ExampleHeatMap() {
	layers := []string{"inc.conv1", "down1.conv1", "up1.conv1", "outc.conv"}
	steps := []float64{100, 200, 300, 400, 500}
	norms := make([][]float64, len(layers))
	for i := range norms {
		for j := range steps {
			norms[i] = append(norms[i], math.Pow(10, -float64(i))/float64(j+1))
		}
	}
	img, err := (&chart.HeatMap{
		Title: "Gradient norm", XLabel: "step", RowLabels: layers, X: steps,
		Values: norms, LogScale: true,
	}).Image()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(img.Bounds().Size())
	// Output: (800,340)
}
