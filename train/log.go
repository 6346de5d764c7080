package train

import (
	"bytes"
	"encoding/csv"
	"math"
	"strconv"
	"strings"

	"github.com/segment-dev/segment/chart"
	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/metrics"
)

// writeLog rewrites the CSV log from the run's history, atomically, so that a resumed run's
// log holds each epoch once.
func writeLog(p Paths, hist []Epoch) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	// A multi-class run adds a column per class, val_dice_0 on; a binary run's log keeps
	// its columns.
	classes := 0
	for _, e := range hist {
		classes = max(classes, len(e.ClassDice))
	}
	head := []string{"epoch", "steps", "time_s", "loss", "val_dice", "val_iou", "lr", "images_per_s"}
	for c := range classes {
		head = append(head, "val_dice_"+strconv.Itoa(c))
	}
	w.Write(head)
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	for _, e := range hist {
		row := []string{strconv.Itoa(e.Epoch), strconv.Itoa(e.Steps), f(e.Time), f(e.Loss), f(float64(e.ValDice)), f(float64(e.ValIoU)), f(e.LR), f(e.Rate)}
		for c := range classes {
			v := math.NaN()
			if c < len(e.ClassDice) {
				v = float64(e.ClassDice[c])
			}
			row = append(row, f(v))
		}
		w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return writeAtomic(p.CSV, buf.Bytes())
}

// writeAtomic writes data to path through a temporary file, so a crash never leaves half a
// log (see package atomicfile).
func writeAtomic(path string, data []byte) error { return atomicfile.WriteBytes(path, data) }

// drawCurves draws the loss and the validation scores of the run's epochs, side by side.
func drawCurves(p Paths, hist []Epoch) error {
	if len(hist) == 0 {
		return nil
	}
	x := make([]float64, len(hist))
	loss := make([]float64, len(hist))
	dice := make([]float64, len(hist))
	iou := make([]float64, len(hist))
	for i, e := range hist {
		x[i] = float64(e.Epoch)
		loss[i] = e.Loss
		dice[i] = float64(e.ValDice)
		iou[i] = float64(e.ValIoU)
	}
	lossChart := &chart.Line{Title: "Training loss", XLabel: "epoch", YLabel: "loss", LogY: true,
		Series: []chart.Series{{Name: "mean loss of the epoch", X: x, Y: loss}}}
	scores := &chart.Line{Title: "Validation", XLabel: "epoch", YLabel: "score", YMin: 0, YMax: 1,
		Series: []chart.Series{{Name: "Dice", X: x, Y: dice}, {Name: "IoU", X: x, Y: iou}}}
	a, err := lossChart.Image()
	if err != nil {
		return err
	}
	b, err := scores.Image()
	if err != nil {
		return err
	}
	return atomicfile.WritePNG(p.Curves, chart.Grid(2, a, b))
}

// csvLogHook rewrites the CSV log and redraws the curves after every epoch.
func csvLogHook() Hook {
	return Hook{Name: "CSV log", Priority: 70, EndEpoch: func(l *Loop) error {
		if err := writeLog(l.Paths, l.st.History); err != nil {
			return err
		}
		return drawCurves(l.Paths, l.st.History)
	}}
}

// classScores writes each class's score as "0:0.912 1:0.000 2:-", the index (or with names
// the class's name, "sky:0.912") first, so that a class stuck at 0 stands out in the line.
func classScores(v []metrics.Float, names []string) string {
	parts := make([]string, len(v))
	for i, x := range v {
		label := strconv.Itoa(i)
		if i < len(names) {
			label = names[i]
		}
		parts[i] = label + ":" + fmtScore(float64(x))
	}
	return strings.Join(parts, " ")
}
