package train

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/segment-dev/segment/chart"
	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/internal/regular"
	"github.com/segment-dev/segment/unet"
)

// GradLogPaths gives the gradient-flow files of the run whose model file is out:
// model.safetensors gives model.grads.csv (the numbers) and model.grads.png (the picture).
func GradLogPaths(out string) (csvPath, pngPath string) {
	stem := strings.TrimSuffix(out, ".safetensors")
	return stem + ".grads.csv", stem + ".grads.png"
}

// GradRecord is one row of the gradient log: one layer at one recorded step.
type GradRecord struct {
	// Step is the number of updates made before this gradient: 0 is the gradient of the
	// initial weights.
	Step int
	// Layer names the layer's weight tensor, e.g. encoder.0.conv1.weight. The layers are the
	// convolutions, transposed convolutions, residual projections and the head, in the
	// order of Config.Params: input side first, output side last.
	Layer string
	// GradNorm is the L2 norm of the loss gradient of the whole weight tensor.
	GradNorm float64
	// UpdateRatio is ||w_after - w_before|| / ||w_before|| of this step's update: how much
	// of the weight one step changes. Adam keeps it near the learning rate whatever the
	// gradient's size, so a layer can learn while its gradient vanishes; the two together
	// tell whether it does.
	UpdateRatio float64
}

// gradLog records the gradient flow of a run every few steps.
type gradLog struct {
	every    int
	layers   []int       // indices into the run's []Param of the recorded weights
	before   [][]float32 // their values before the update of a recorded step
	step     int         // the step being recorded; -1 when none is
	norms    []float64   // its gradient norms, one per layer
	rows     []GradRecord
	csv, png string
}

// gradLogHook records, every Options.GradLog steps, each layer's gradient norm and the
// size of its update, and writes the log and its picture when the run ends.
func gradLogHook() Hook {
	var g *gradLog
	return Hook{Name: "gradient log", Priority: 50,
		Start: func(l *Loop) (err error) {
			g, err = newGradLog(l.Options, l.Model.Config, l.Params, l.Options.Resume, l.Steps())
			return err
		},
		Gradients: func(l *Loop) error { g.beforeUpdate(l.Steps(), l.Params); return nil },
		AfterStep: func(l *Loop) error { g.afterUpdate(l.Params); return nil },
		End: func(l *Loop, err error) error {
			if !halted(err) {
				return nil
			}
			return g.write() // the gradients before a blow-up are worth seeing too
		},
	}
}

// gradLayers gives the indices into ps of the layers the gradient log records: the 4-D
// weights (convolutions, transposed convolutions, residual projections, the head) in the
// order of cfg.Params, input side first.
func gradLayers(cfg unet.Config, ps []Param) []int {
	index := make(map[string]int, len(ps))
	for i, p := range ps {
		index[p.Name] = i
	}
	var layers []int
	for _, p := range cfg.Params() {
		if i, ok := index[p.Name]; ok && len(p.Shape) == 4 {
			layers = append(layers, i)
		}
	}
	return layers
}

// newGradLog makes the recorder of a run with params ps. A resumed run that has done steps
// updates keeps the rows its earlier part wrote before that step, so that the log and the
// picture cover the whole run once.
func newGradLog(o Options, cfg unet.Config, ps []Param, resume bool, steps int) (*gradLog, error) {
	g := &gradLog{every: o.GradLog, step: -1, layers: gradLayers(cfg, ps)}
	g.csv, g.png = GradLogPaths(o.Out)
	for _, i := range g.layers {
		g.before = append(g.before, make([]float32, len(ps[i].W)))
	}
	g.norms = make([]float64, len(g.layers))
	if resume {
		rows, err := ReadGradLog(g.csv)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("resume: %w", err)
		}
		for _, r := range rows {
			if r.Step < steps {
				g.rows = append(g.rows, r)
			}
		}
	}
	return g, nil
}

// beforeUpdate notes the gradient norms and the weights of a step that is to be recorded;
// steps is the number of updates made so far, ps holds this step's gradients.
func (g *gradLog) beforeUpdate(steps int, ps []Param) {
	if steps%g.every != 0 {
		return
	}
	g.step = steps
	for k, i := range g.layers {
		g.norms[k] = norm2(ps[i].G)
		copy(g.before[k], ps[i].W)
	}
}

// afterUpdate completes the recorded step with the size of the update it made.
func (g *gradLog) afterUpdate(ps []Param) {
	if g.step < 0 {
		return
	}
	for k, i := range g.layers {
		var d2, w2 float64
		for j, w := range g.before[k] {
			d := float64(ps[i].W[j]) - float64(w)
			d2 += d * d
			w2 += float64(w) * float64(w)
		}
		ratio := math.NaN()
		if w2 > 0 {
			ratio = math.Sqrt(d2 / w2)
		}
		g.rows = append(g.rows, GradRecord{Step: g.step, Layer: ps[i].Name, GradNorm: g.norms[k], UpdateRatio: ratio})
	}
	g.step = -1
}

// write saves the CSV and draws the picture, both atomically.
func (g *gradLog) write() error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"step", "layer", "grad_norm", "update_ratio"})
	for _, r := range g.rows {
		w.Write([]string{strconv.Itoa(r.Step), r.Layer, formatLogged(r.GradNorm), formatLogged(r.UpdateRatio)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := writeAtomic(g.csv, buf.Bytes()); err != nil {
		return err
	}
	if len(g.rows) == 0 {
		return nil
	}
	return DrawGradLog(g.png, g.rows)
}

// formatLogged is how the gradient log writes a number: six significant digits.
func formatLogged(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// asLogged is v as the gradient log holds it, read back.
func asLogged(v float64) float64 {
	x, _ := strconv.ParseFloat(formatLogged(v), 64)
	return x
}

func norm2(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// ReadGradLog reads a gradient log written by a run with Options.GradLog.
func ReadGradLog(path string) ([]GradRecord, error) {
	f, err := regular.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil || strings.Join(head, ",") != "step,layer,grad_norm,update_ratio" {
		return nil, fmt.Errorf("%s: not a gradient log (header %q)", path, head)
	}
	var rows []GradRecord
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		step, err1 := strconv.Atoi(rec[0])
		gn, err2 := strconv.ParseFloat(rec[2], 64)
		ur, err3 := strconv.ParseFloat(rec[3], 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", path, line, err)
		}
		rows = append(rows, GradRecord{Step: step, Layer: rec[1], GradNorm: gn, UpdateRatio: ur})
	}
}

// GradMatrix arranges gradient-log rows as a layers-by-steps matrix: layers in the order
// they first appear (the model's order, input side first), steps increasing, and a NaN
// where a layer has no row for a step. value picks the number of a row.
func GradMatrix(rows []GradRecord, value func(GradRecord) float64) (layers []string, steps []int, m [][]float64) {
	li, si := map[string]int{}, map[int]int{}
	for _, r := range rows {
		if _, ok := li[r.Layer]; !ok {
			li[r.Layer] = len(layers)
			layers = append(layers, r.Layer)
		}
		if _, ok := si[r.Step]; !ok {
			si[r.Step] = 0
			steps = append(steps, r.Step)
		}
	}
	sort.Ints(steps)
	for i, s := range steps {
		si[s] = i
	}
	m = make([][]float64, len(layers))
	for i := range m {
		m[i] = make([]float64, len(steps))
		for j := range m[i] {
			m[i][j] = math.NaN()
		}
	}
	for _, r := range rows {
		m[li[r.Layer]][si[r.Step]] = value(r)
	}
	return layers, steps, m
}

// DrawGradLog draws the gradient log as two heat maps, one above the other: the gradient
// norm of every layer (rows, input side at the top) at every recorded step (columns), and
// the update ratio, both on a log scale. A vanishing gradient shows as rows near the top
// that are darker than those near the bottom.
func DrawGradLog(path string, rows []GradRecord) error {
	layers, steps, grads := GradMatrix(rows, func(r GradRecord) float64 { return r.GradNorm })
	_, _, ratios := GradMatrix(rows, func(r GradRecord) float64 { return r.UpdateRatio })
	labels := make([]string, len(layers))
	for i, l := range layers {
		labels[i] = strings.TrimSuffix(l, ".weight")
	}
	x := make([]float64, len(steps))
	for i, s := range steps {
		x[i] = float64(s)
	}
	a, err := (&chart.HeatMap{Title: "Gradient L2 norm per layer (log scale)", XLabel: "step", YLabel: "layer, input side at the top",
		RowLabels: labels, X: x, Values: grads, LogScale: true}).Image()
	if err != nil {
		return err
	}
	b, err := (&chart.HeatMap{Title: "Update size / weight size per layer (log scale)", XLabel: "step", YLabel: "layer, input side at the top",
		RowLabels: labels, X: x, Values: ratios, LogScale: true}).Image()
	if err != nil {
		return err
	}
	return atomicfile.WritePNG(path, chart.Grid(1, a, b))
}
