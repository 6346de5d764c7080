package train

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/segment-dev/segment/chart"
	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/unet"
)

// AblateOptions says which variants an ablation trains and how.
type AblateOptions struct {
	// Train is what every variant shares: data, time budget or epochs, batch, crop, seed,
	// learning rate, and the model's depth, base channels and block. Each variant sets its
	// own Model.Skip, Model.Norm (and Model.Depth with Deep) and Out, and gets a hook that
	// hands the table its gradient norms. GradLog 0 means 10: the table takes the norms at
	// the steps the gradient log records, and each variant keeps its log.
	Train Options
	// Dir is the output folder: one subfolder per variant holding its run's files, and
	// ablation.md, ablation.csv and ablation_loss.png; "ablation".
	Dir string
	// Deep adds every variant again at depth 5.
	Deep bool
	// Log receives one line per variant as it finishes; nil discards them.
	Log io.Writer
}

// Variant is one model of an ablation.
type Variant struct {
	Name  string // e.g. concat-batchnorm-d4: also its subfolder
	Skip  unet.Skip
	Norm  unet.Norm
	Depth int
}

// Variants lists an ablation's models: every long skip (concat, add, none) with batch norm
// and without normalisation at the given depth, and with deep the same at depth 5.
func Variants(depth int, deep bool) []Variant {
	depths := []int{depth}
	if deep && depth != 5 {
		depths = append(depths, 5)
	}
	var vs []Variant
	for _, d := range depths {
		for _, s := range []unet.Skip{unet.SkipConcat, unet.SkipAdd, unet.SkipNone} {
			for _, n := range []unet.Norm{unet.NormBatch, unet.NormNone} {
				norm := "batchnorm"
				if n == unet.NormNone {
					norm = "nonorm"
				}
				vs = append(vs, Variant{Name: fmt.Sprintf("%s-%s-d%d", s, norm, d), Skip: s, Norm: n, Depth: d})
			}
		}
	}
	return vs
}

// AblateRow is what one variant's run gave.
type AblateRow struct {
	Variant
	BestDice  float64 // best mean validation Dice (NaN without validation)
	FinalLoss float64 // mean training loss of the last epoch
	Steps     int
	Seconds   float64
	Weights   int // learned parameters
	// FirstGrad and LastGrad are the mean gradient norms of the first layer
	// (encoder.0.conv1) and the last (the head) over the recorded steps of the second
	// half of the run (all recorded steps when the second half has none); GradRatio is
	// FirstGrad / LastGrad, and InitRatio the same ratio at step 0, the initial weights.
	FirstGrad, LastGrad  float64
	GradRatio, InitRatio float64
	History              []Epoch
}

// AblateResult is an ablation's table and where its files went.
type AblateResult struct {
	Rows               []AblateRow
	Markdown, CSV, PNG string
}

// Ablate trains every variant with the same seed, data and budget, one after another, and
// writes the table (Markdown and CSV) and all variants' loss and validation curves in one
// picture. The table is rewritten after every variant, so a stopped ablation keeps what it
// finished. Cancelling ctx stops the variant in training (with its checkpoint) and returns
// the rows done with ErrInterrupted.
func Ablate(ctx context.Context, a AblateOptions) (*AblateResult, error) {
	if a.Dir == "" {
		a.Dir = "ablation"
	}
	if a.Log == nil {
		a.Log = io.Discard
	}
	base := a.Train.withDefaults()
	if base.GradLog == 0 {
		base.GradLog = 10
	}
	base.Resume = false
	res := &AblateResult{Markdown: filepath.Join(a.Dir, "ablation.md"), CSV: filepath.Join(a.Dir, "ablation.csv"), PNG: filepath.Join(a.Dir, "ablation_loss.png")}
	vs := Variants(base.Model.Depth, a.Deep)
	variant := func(v Variant) Options {
		o := base
		o.Model.Skip, o.Model.Norm, o.Model.Depth = v.Skip, v.Norm, v.Depth
		o.Out = filepath.Join(a.Dir, v.Name, "model.safetensors")
		o.Log = nil
		return o
	}
	for _, v := range vs {
		// A crop that does not fit depth 5 should stop the ablation now, not after an hour.
		if err := variant(v).check(); err != nil {
			return nil, fmt.Errorf("variant %s: %w", v.Name, err)
		}
	}
	if err := os.MkdirAll(a.Dir, 0o755); err != nil {
		return nil, err
	}
	for i, v := range vs {
		o := variant(v)
		var grads []GradRecord
		o.Hooks = append(o.Hooks[:len(o.Hooks):len(o.Hooks)], edgeGradsHook(o.GradLog, &grads))
		r, err := Run(ctx, o)
		if err != nil {
			return res, fmt.Errorf("variant %s: %w", v.Name, err)
		}
		row := AblateRow{Variant: v, BestDice: r.BestDice, FinalLoss: r.LastLoss, Steps: r.Steps, Seconds: r.Elapsed,
			Weights: r.Model.NumWeights(), History: r.History}
		row.FirstGrad, row.LastGrad, row.GradRatio, row.InitRatio = gradSummary(grads, r.Steps)
		res.Rows = append(res.Rows, row)
		fmt.Fprintf(a.Log, "[%d/%d] %-20s val Dice %s  loss %.4f  %5d steps in %3.0fs  grad first/last %.3g (at init %.3g)\n",
			i+1, len(vs), v.Name, fmtScore(row.BestDice), row.FinalLoss, row.Steps, row.Seconds, row.GradRatio, row.InitRatio)
		if err := res.write(base, a); err != nil {
			return res, err
		}
	}
	return res, nil
}

// edgeGradsHook appends to rows, every that many steps, the gradient norms of the first
// and the last layer the gradient log records, as NAME.grads.csv holds them (six digits),
// so that the table agrees with the log.
func edgeGradsHook(every int, rows *[]GradRecord) Hook {
	var edges []int
	return Hook{Name: "ablation gradients", Priority: 55,
		Start: func(l *Loop) error {
			layers := gradLayers(l.Model.Config, l.Params)
			if len(layers) > 0 {
				edges = []int{layers[0], layers[len(layers)-1]}
			}
			return nil
		},
		Gradients: func(l *Loop) error {
			if l.Steps()%every != 0 {
				return nil
			}
			for _, i := range edges {
				p := l.Params[i]
				*rows = append(*rows, GradRecord{Step: l.Steps(), Layer: p.Name, GradNorm: asLogged(norm2(p.G))})
			}
			return nil
		},
	}
}

// gradSummary gives the first and the last layer's mean gradient norms over the recorded
// steps of the second half of a run of steps steps, their ratio, and the ratio at step 0.
// The rows list the layers in the model's order, so the first is encoder.0.conv1 and the
// last the head.
func gradSummary(rows []GradRecord, steps int) (first, last, ratio, init float64) {
	layers, at, m := GradMatrix(rows, func(r GradRecord) float64 { return r.GradNorm })
	if len(layers) == 0 {
		return math.NaN(), math.NaN(), math.NaN(), math.NaN()
	}
	top, bottom := m[0], m[len(m)-1]
	from := 0
	for from < len(at) && at[from] < steps/2 {
		from++
	}
	if from == len(at) {
		from = 0
	}
	var n int
	for j := from; j < len(at); j++ {
		first += top[j]
		last += bottom[j]
		n++
	}
	first, last = first/float64(n), last/float64(n)
	init = math.NaN()
	if at[0] == 0 {
		init = top[0] / bottom[0]
	}
	return first, last, first / last, init
}

// write rewrites the table and the picture from the rows done so far.
func (r *AblateResult) write(o Options, a AblateOptions) error {
	budget := fmt.Sprintf("%d epochs", o.Epochs)
	if o.Time > 0 {
		budget = o.Time.String()
		if o.Epochs > 0 {
			budget += fmt.Sprintf(" or %d epochs, whichever ends first", o.Epochs)
		}
	}
	block := o.Model.Block
	if block == "" {
		block = unet.BlockPlain
	}
	var md bytes.Buffer
	fmt.Fprintf(&md, "# Skip-connection ablation\n\n")
	fmt.Fprintf(&md, "Data `%s`; every variant trained for %s with seed %d, batch %d, crop %s, base %d channels, %s blocks, %s lr %g (%s), loss %s.\n\n",
		o.Data, budget, o.Seed, o.Batch, cropText(o.Crop), o.Model.BaseChannels, block, o.Optimizer, o.LR, o.Schedule, lossText(o.Loss))
	fmt.Fprintf(&md, "Gradient first/last: mean L2 norm of the gradient of encoder.0.conv1's weight over that of the head's, over the steps recorded (every %d) in the second half of the run; at init: at step 0.\n\n", o.GradLog)
	md.WriteString("| variant | val Dice (best) | final loss | steps | grad first/last | at init |\n| --- | ---: | ---: | ---: | ---: | ---: |\n")
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"variant", "skip", "norm", "depth", "block", "val_dice_best", "final_loss", "steps", "seconds", "weights",
		"grad_first", "grad_last", "grad_first_over_last", "grad_first_over_last_init"})
	g := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	for _, row := range r.Rows {
		fmt.Fprintf(&md, "| %s | %s | %.4f | %d | %.3g | %.3g |\n", row.Name, fmtScore(row.BestDice), row.FinalLoss, row.Steps, row.GradRatio, row.InitRatio)
		w.Write([]string{row.Name, string(row.Skip), string(row.Norm), strconv.Itoa(row.Depth), string(block), g(row.BestDice), g(row.FinalLoss),
			strconv.Itoa(row.Steps), g(math.Round(row.Seconds*10) / 10), strconv.Itoa(row.Weights), g(row.FirstGrad), g(row.LastGrad), g(row.GradRatio), g(row.InitRatio)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := writeAtomic(r.Markdown, md.Bytes()); err != nil {
		return err
	}
	if err := writeAtomic(r.CSV, buf.Bytes()); err != nil {
		return err
	}
	return r.draw(o)
}

func cropText(c int) string {
	if c == 0 {
		return "the image size (at most 256)"
	}
	return fmt.Sprintf("%dx%d", c, c)
}

func lossText(l string) string {
	if l == "" {
		return fmt.Sprintf("%s (%s for several classes)", unet.DefaultLoss(1).Name, unet.DefaultLoss(2).Name)
	}
	return l
}

// variantColour gives each long skip its own hue (Okabe and Ito's blue, vermillion and
// bluish green), lightened without normalisation and darkened at depth 5, so that twelve
// curves stay told apart where the palette has eight colours.
func variantColour(v Variant, baseDepth int) color.Color {
	c := map[unet.Skip][3]float64{unet.SkipConcat: {0, 114, 178}, unet.SkipAdd: {213, 94, 0}, unet.SkipNone: {0, 158, 115}}[v.Skip]
	if v.Norm == unet.NormNone {
		for i := range c {
			c[i] += (255 - c[i]) * 0.5
		}
	}
	if v.Depth != baseDepth {
		for i := range c {
			c[i] *= 0.55
		}
	}
	return color.RGBA{uint8(c[0]), uint8(c[1]), uint8(c[2]), 255}
}

// draw puts every variant's training loss (log scale) and validation Dice, per epoch over
// the steps done, side by side in one picture.
func (r *AblateResult) draw(o Options) error {
	if len(r.Rows) == 0 {
		return nil
	}
	loss := &chart.Line{Title: "Training loss (mean of each epoch)", XLabel: "step", YLabel: "loss", LogY: true, Width: 720, Height: 480}
	dice := &chart.Line{Title: "Validation Dice", XLabel: "step", YLabel: "Dice", YMin: 0, YMax: 1, Width: 720, Height: 480}
	for _, row := range r.Rows {
		x, l, d := make([]float64, len(row.History)), make([]float64, len(row.History)), make([]float64, len(row.History))
		for i, e := range row.History {
			x[i], l[i], d[i] = float64(e.Steps), e.Loss, float64(e.ValDice)
		}
		c := variantColour(row.Variant, o.Model.Depth)
		loss.Series = append(loss.Series, chart.Series{Name: row.Name, X: x, Y: l, Color: c})
		dice.Series = append(dice.Series, chart.Series{Name: row.Name, X: x, Y: d, Color: c})
	}
	a, err := loss.Image()
	if err != nil {
		return err
	}
	b, err := dice.Image()
	if err != nil {
		return err
	}
	return atomicfile.WritePNG(r.PNG, chart.Grid(2, a, b))
}

// String gives the Markdown table's rows as plain lines, for a terminal.
func (r *AblateResult) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-20s %10s %10s %7s %16s %9s\n", "variant", "val Dice", "final loss", "steps", "grad first/last", "at init")
	for _, row := range r.Rows {
		fmt.Fprintf(&sb, "%-20s %10s %10.4f %7d %16.3g %9.3g\n", row.Name, fmtScore(row.BestDice), row.FinalLoss, row.Steps, row.GradRatio, row.InitRatio)
	}
	return sb.String()
}
