package train

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/segment-dev/segment/chart"
	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/landscape"
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
	// Blocks are the blocks every variant is trained with, each its own set of variants;
	// empty means Train.Model.Block alone. Dense blocks take Train.Model's growth and
	// layers (or their defaults).
	Blocks []unet.Block
	// Seeds is the number of runs of each variant, with seeds Train.Seed, Train.Seed+1, ...:
	// 0 means 1. With two or more, the table gives each variant's mean ± standard deviation
	// and the confidence interval of its difference to the baseline.
	Seeds int
	// Landscape, when set, draws every run's loss landscape after training with these
	// options (Crop 0: the training crop, or 256) into its folder, puts the first seed's
	// contour plots side by side in ablation_landscapes.png and each variant's mean
	// non-convexity in the table. Every variant's landscape uses the same directions' seed,
	// the same crops and the same treatment of batch norm (running statistics).
	Landscape *LandscapeOptions
	// Resume keeps every run that an earlier ablation into Dir finished with the same
	// options (each run's model.ablation.json records them and its figures), and trains
	// only the others: a stopped ablation continues where it stopped, and one with another
	// budget or data trains again. A run stopped partway is trained again from its start.
	Resume bool
	// Log receives one line per variant as it finishes; nil discards them.
	Log io.Writer
}

// LandscapeOptions say how an ablation draws its loss landscapes.
type LandscapeOptions struct {
	Grid landscape.Options
	Data landscape.DataOptions
}

// Variant is one model of an ablation.
type Variant struct {
	Name  string // e.g. concat-batchnorm-d4, concat-batchnorm-d4-dense: also its subfolder
	Skip  unet.Skip
	Norm  unet.Norm
	Depth int
	Block unet.Block // "" when the ablation has one block, which Options.Model gives
}

// Variants lists an ablation's models: every long skip (concat, add, none) with batch norm
// and without normalisation at the given depth, and with deep the same at depth 5; with
// two or more blocks, all of that for each block, the block's name ending the variant's.
func Variants(depth int, deep bool, blocks ...unet.Block) []Variant {
	depths := []int{depth}
	if deep && depth != 5 {
		depths = append(depths, 5)
	}
	if len(blocks) < 2 {
		blocks = []unet.Block{""}
	}
	var vs []Variant
	for _, b := range blocks {
		for _, d := range depths {
			for _, s := range []unet.Skip{unet.SkipConcat, unet.SkipAdd, unet.SkipNone} {
				for _, n := range []unet.Norm{unet.NormBatch, unet.NormNone} {
					norm := "batchnorm"
					if n == unet.NormNone {
						norm = "nonorm"
					}
					name := fmt.Sprintf("%s-%s-d%d", s, norm, d)
					if b != "" {
						name += "-" + string(b)
					}
					vs = append(vs, Variant{Name: name, Skip: s, Norm: n, Depth: d, Block: b})
				}
			}
		}
	}
	return vs
}

// AblateRow is what one variant's runs gave: with several seeds, the figures are means
// over the seeds.
type AblateRow struct {
	Variant
	Seeds    int
	Dices    []float64 // each seed's best validation Dice
	BestDice float64   // best mean validation Dice (NaN without validation)
	DiceStd  float64   // its standard deviation over the seeds (NaN for one)
	// Diff is BestDice minus the baseline's, and DiffLo and DiffHi the 95% confidence
	// interval of that difference (Welch's t interval over the seeds; NaN for fewer than
	// two seeds, or for the baseline itself). Significant says the interval leaves out 0:
	// the difference is larger than the run-to-run noise.
	Diff, DiffLo, DiffHi float64
	Significant          bool
	// NonConvexity is the landscape's non-convexity (landscape.Result), mean over the
	// seeds, and NonConvexityStd its deviation; NaN without landscapes.
	NonConvexity, NonConvexityStd float64
	// Landscape is the first seed's landscape, nil without.
	Landscape *landscape.Result
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
	// Landscapes is the picture of the variants' landscapes side by side ("" without).
	Landscapes string
	// Baseline is the variant the differences are taken to: concat, batch norm, plain
	// block at the base depth, or the first variant where there is none.
	Baseline string
	// Runs are the table's lines for every run, the variant's name and seed first.
	runs [][]string
}

// Ablate trains every variant with the same seed, data and budget, one after another, and
// writes the table (Markdown and CSV) and all variants' loss and validation curves in one
// picture. The table is rewritten after every variant, so a stopped ablation keeps what it
// finished, and with Resume the same ablation continues from there. Cancelling ctx stops the variant in training (with its checkpoint) and returns
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
	if a.Landscape != nil {
		res.Landscapes = filepath.Join(a.Dir, "ablation_landscapes.png")
	}
	seeds := max(a.Seeds, 1)
	if len(a.Blocks) == 1 {
		base.Model.Block = a.Blocks[0]
	}
	vs := Variants(base.Model.Depth, a.Deep, a.Blocks...)
	res.Baseline = vs[0].Name
	for _, v := range vs {
		if v.Skip == unet.SkipConcat && v.Norm == unet.NormBatch && v.Depth == base.Model.Depth && (v.Block == "" || v.Block == unet.BlockPlain) {
			res.Baseline = v.Name
			break
		}
	}
	variant := func(v Variant, seed int) Options {
		o := base
		o.Model.Skip, o.Model.Norm, o.Model.Depth = v.Skip, v.Norm, v.Depth
		if v.Block != "" {
			o.Model.Block = v.Block
		}
		if o.Model.Block != unet.BlockDense {
			o.Model.Growth, o.Model.DenseLayers = 0, 0
		} else {
			if o.Model.Growth == 0 {
				o.Model.Growth = unet.DefaultGrowth(o.Model.BaseChannels)
			}
			if o.Model.DenseLayers == 0 {
				o.Model.DenseLayers = unet.DefaultDenseLayers
			}
		}
		o.Seed = base.Seed + uint64(seed)
		dir := filepath.Join(a.Dir, v.Name)
		if seeds > 1 {
			dir = filepath.Join(dir, fmt.Sprintf("seed%d", o.Seed))
		}
		o.Out = filepath.Join(dir, "model.safetensors")
		o.Log = nil
		return o
	}
	for _, v := range vs {
		// A crop that does not fit depth 5 should stop the ablation now, not after an hour.
		if err := variant(v, 0).check(); err != nil {
			return nil, fmt.Errorf("variant %s: %w", v.Name, err)
		}
	}
	if err := os.MkdirAll(a.Dir, 0o755); err != nil {
		return nil, err
	}
	var baseDices []float64
	for i, v := range vs {
		row := AblateRow{Variant: v, Seeds: seeds}
		var losses, steps, secs, firsts, lasts, ratios, inits, ncs []float64
		for s := range seeds {
			o := variant(v, s)
			rec, kept, err := a.run(ctx, o)
			if err != nil {
				return res, fmt.Errorf("variant %s, seed %d: %w", v.Name, o.Seed, err)
			}
			if s == 0 {
				row.Landscape = rec.Landscape.result()
			}
			row.Dices = append(row.Dices, float64(rec.BestDice))
			losses, steps, secs = append(losses, float64(rec.LastLoss)), append(steps, float64(rec.Steps)), append(secs, float64(rec.Seconds))
			firsts, lasts = append(firsts, float64(rec.FirstGrad)), append(lasts, float64(rec.LastGrad))
			ratios, inits, ncs = append(ratios, float64(rec.GradRatio)), append(inits, float64(rec.InitRatio)), append(ncs, float64(rec.NonConvexity))
			row.Weights, row.History = rec.Weights, rec.History
			res.runs = append(res.runs, runLine(v, o, rec))
			keptText := ""
			if kept {
				keptText = "  (kept from an earlier run)"
			}
			fmt.Fprintf(a.Log, "[%d/%d] %-26s seed %d  val Dice %s  loss %.4f  %5d steps in %3.0fs  grad first/last %.3g (at init %.3g)%s%s\n",
				i*seeds+s+1, len(vs)*seeds, v.Name, o.Seed, fmtScore(float64(rec.BestDice)), float64(rec.LastLoss), rec.Steps, float64(rec.Seconds),
				float64(rec.GradRatio), float64(rec.InitRatio), ncText(float64(rec.NonConvexity)), keptText)
		}
		mean := func(xs []float64) float64 { m, _ := meanStd(xs); return m }
		row.BestDice, row.DiceStd = meanStd(row.Dices)
		row.FinalLoss, row.Steps, row.Seconds = mean(losses), int(math.Round(mean(steps))), mean(secs)
		row.FirstGrad, row.LastGrad, row.GradRatio, row.InitRatio = mean(firsts), mean(lasts), mean(ratios), mean(inits)
		row.NonConvexity, row.NonConvexityStd = meanStd(ncs)
		if v.Name == res.Baseline {
			baseDices = row.Dices
		}
		res.Rows = append(res.Rows, row)
		res.compare(baseDices)
		if err := res.write(base, a); err != nil {
			return res, err
		}
	}
	return res, nil
}

// run gives the record of one run of an ablation: with Resume, the one a finished run of
// the same options left (kept is then true); otherwise it trains the run, draws its
// landscape and keeps the record. The record goes only after both, and the old one first,
// so a run stopped partway is never taken for finished.
func (a AblateOptions) run(ctx context.Context, o Options) (rec *runRecord, kept bool, err error) {
	if a.Resume {
		if rec, err = keptRun(o, a.Landscape); rec != nil || err != nil {
			return rec, rec != nil, err
		}
	}
	if err := os.Remove(recordPath(o.Out)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	key, err := runRecordKey(o, a.Landscape)
	if err != nil {
		return nil, false, err
	}
	var grads []GradRecord
	o.Hooks = append(o.Hooks[:len(o.Hooks):len(o.Hooks)], edgeGradsHook(o.GradLog, &grads))
	r, err := Run(ctx, o)
	if err != nil {
		return nil, false, err
	}
	first, last, ratio, init := gradSummary(grads, r.Steps)
	rec = &runRecord{Key: key, BestDice: exactFloat(r.BestDice), LastLoss: exactFloat(r.LastLoss), Steps: r.Steps, Seconds: exactFloat(r.Elapsed),
		Weights: r.Model.NumWeights(), FirstGrad: exactFloat(first), LastGrad: exactFloat(last), GradRatio: exactFloat(ratio), InitRatio: exactFloat(init),
		NonConvexity: exactFloat(math.NaN()), History: r.History}
	if a.Landscape != nil {
		l, err := variantLandscape(r, o, *a.Landscape)
		if err != nil {
			return nil, false, fmt.Errorf("landscape: %w", err)
		}
		rec.NonConvexity, rec.Landscape = exactFloat(l.NonConvexity), keepLandscape(l)
	}
	return rec, false, writeRecord(o.Out, rec)
}

// compare fills every row's difference to the baseline's Dice and its interval, once the
// baseline has run (it is the first variant, or the first with concat and batch norm).
func (r *AblateResult) compare(base []float64) {
	for i := range r.Rows {
		row := &r.Rows[i]
		row.Diff, row.DiffLo, row.DiffHi, row.Significant = math.NaN(), math.NaN(), math.NaN(), false
		if base == nil || row.Name == r.Baseline {
			continue
		}
		row.Diff, row.DiffLo, row.DiffHi = welch(row.Dices, base)
		row.Significant = row.DiffLo > 0 || row.DiffHi < 0
	}
}

// variantLandscape draws the landscape of the model a run r of o ended with, into the
// run's folder.
func variantLandscape(r *Result, o Options, lo LandscapeOptions) (*landscape.Result, error) {
	if lo.Data.Crop == 0 {
		lo.Data.Crop = o.Crop
		if lo.Data.Crop == 0 {
			lo.Data.Crop = 256
		}
	}
	if lo.Data.Crops == 0 {
		lo.Data.Crops = 4
	}
	lo.Data.ValSplit, lo.Data.Loss, lo.Data.Downsample = o.ValSplit, o.Loss, o.Downsample
	p, err := landscape.ForModel(r.Model, r.Classes, o.Data, lo.Data)
	if err != nil {
		return nil, err
	}
	l, err := landscape.Compute(p, lo.Grid)
	if err != nil {
		return nil, err
	}
	prefix := strings.TrimSuffix(o.Out, ".safetensors") + ".landscape"
	if _, err := landscape.Write(l, prefix, filepath.Base(filepath.Dir(o.Out))); err != nil {
		return nil, err
	}
	return l, nil
}

func ncText(nc float64) string {
	if math.IsNaN(nc) {
		return ""
	}
	return fmt.Sprintf("  non-convexity %.3f", nc)
}

// runLine is one run's line of the CSV table.
func runLine(v Variant, o Options, r *runRecord) []string {
	return []string{v.Name, strconv.FormatUint(o.Seed, 10), string(v.Skip), string(v.Norm), strconv.Itoa(v.Depth), string(blockOf(o.Model)),
		fmtG(float64(r.BestDice)), fmtG(float64(r.LastLoss)), strconv.Itoa(r.Steps), fmtG(math.Round(float64(r.Seconds)*10) / 10), strconv.Itoa(r.Weights),
		fmtG(float64(r.FirstGrad)), fmtG(float64(r.LastGrad)), fmtG(float64(r.GradRatio)), fmtG(float64(r.InitRatio)), fmtG(float64(r.NonConvexity))}
}

func blockOf(c unet.Config) unet.Block {
	if c.Block == "" {
		return unet.BlockPlain
	}
	return c.Block
}

// fmtG writes v in six digits, NaN as nothing.
func fmtG(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
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

// write rewrites the table and the pictures from the rows done so far.
func (r *AblateResult) write(o Options, a AblateOptions) error {
	budget := fmt.Sprintf("%d epochs", o.Epochs)
	if o.Time > 0 {
		budget = o.Time.String()
		if o.Epochs > 0 {
			budget += fmt.Sprintf(" or %d epochs, whichever ends first", o.Epochs)
		}
	}
	blocks := string(blockOf(o.Model)) + " blocks"
	if len(a.Blocks) > 1 {
		blocks = "the block the variant's name ends with"
	}
	seeds := max(a.Seeds, 1)
	seedText := fmt.Sprintf("seed %d", o.Seed)
	if seeds > 1 {
		seedText = fmt.Sprintf("%d seeds (%d to %d)", seeds, o.Seed, o.Seed+uint64(seeds)-1)
	}
	var md bytes.Buffer
	fmt.Fprintf(&md, "# Skip-connection ablation\n\n")
	fmt.Fprintf(&md, "Data `%s`; every variant trained for %s with %s, batch %d, crop %s, base %d channels, %s, %s lr %g (%s), loss %s.\n\n",
		o.Data, budget, seedText, o.Batch, cropText(o.Crop), o.Model.BaseChannels, blocks, o.Optimizer, o.LR, o.Schedule, lossText(o.Loss))
	fmt.Fprintf(&md, "Gradient first/last: mean L2 norm of the gradient of encoder.0.conv1's weight over that of the head's, over the steps recorded (every %d) in the second half of the run; at init: at step 0.\n\n", o.GradLog)
	if seeds > 1 {
		fmt.Fprintf(&md, "Figures are means over the seeds; val Dice is mean ± standard deviation. Δ Dice is the difference to the baseline %s with its 95%% confidence interval (Welch's t interval, unequal variances); ** marks an interval that leaves out 0: a difference larger than the run-to-run noise.\n\n", r.Baseline)
	} else {
		fmt.Fprintf(&md, "Δ Dice is the difference to the baseline %s from one run each: without --seeds 2 or more, nothing tells it from run-to-run noise.\n\n", r.Baseline)
	}
	if a.Landscape != nil {
		md.WriteString("Non-convexity: of each variant's loss landscape (segment landscape; batch norm on its running statistics), the mean over the grid's inner points of max(0, -λmin)/max(|λmin|, |λmax|) of the surface's 2x2 Hessian: 0 is convex everywhere in the plane.\n\n")
	}
	md.WriteString("| variant | val Dice (best) | Δ Dice [95% CI] | final loss | steps | grad first/last | at init | non-convexity |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, row := range r.Rows {
		fmt.Fprintf(&md, "| %s | %s | %s | %.4f | %d | %.3g | %.3g | %s |\n", row.Name, pm(row.BestDice, row.DiceStd, "%.4f"), row.diffText(),
			row.FinalLoss, row.Steps, row.GradRatio, row.InitRatio, pm(row.NonConvexity, row.NonConvexityStd, "%.3f"))
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"variant", "seed", "skip", "norm", "depth", "block", "val_dice_best", "final_loss", "steps", "seconds", "weights",
		"grad_first", "grad_last", "grad_first_over_last", "grad_first_over_last_init", "non_convexity"})
	w.WriteAll(r.runs)
	if err := w.Error(); err != nil {
		return err
	}
	if err := writeAtomic(r.Markdown, md.Bytes()); err != nil {
		return err
	}
	if err := writeAtomic(r.CSV, buf.Bytes()); err != nil {
		return err
	}
	if err := r.drawLandscapes(); err != nil {
		return err
	}
	return r.draw(o)
}

// pm writes mean ± std in format f, the mean alone when std is NaN, "-" when the mean is.
func pm(mean, std float64, f string) string {
	switch {
	case math.IsNaN(mean):
		return "-"
	case math.IsNaN(std):
		return fmt.Sprintf(f, mean)
	}
	return fmt.Sprintf(f+" ± "+f, mean, std)
}

// diffText is the row's difference to the baseline, with its interval where there is one.
func (row AblateRow) diffText() string {
	switch {
	case math.IsNaN(row.Diff):
		return "-"
	case math.IsNaN(row.DiffLo):
		return fmt.Sprintf("%+.4f", row.Diff)
	}
	mark := ""
	if row.Significant {
		mark = " **"
	}
	return fmt.Sprintf("%+.4f [%+.4f, %+.4f]%s", row.Diff, row.DiffLo, row.DiffHi, mark)
}

// drawLandscapes puts the contour plots of the variants' landscapes (first seed) side by
// side, three to a row.
func (r *AblateResult) drawLandscapes() error {
	var imgs []image.Image
	for _, row := range r.Rows {
		if row.Landscape == nil {
			continue
		}
		img, err := row.Landscape.Map(fmt.Sprintf("%s: non-convexity %.3f", row.Name, row.Landscape.NonConvexity), true)
		if err != nil {
			return err
		}
		imgs = append(imgs, img)
	}
	if len(imgs) == 0 {
		return nil
	}
	return atomicfile.WritePNG(r.Landscapes, chart.Grid(min(3, len(imgs)), imgs...))
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
	w := 20
	for _, row := range r.Rows {
		w = max(w, len(row.Name))
	}
	fmt.Fprintf(&sb, "%-*s %17s %30s %10s %7s %16s %9s %14s\n", w, "variant", "val Dice", "Δ Dice (95% CI)", "final loss", "steps", "grad first/last", "at init", "non-convexity")
	for _, row := range r.Rows {
		fmt.Fprintf(&sb, "%-*s %17s %30s %10.4f %7d %16.3g %9.3g %14s\n", w, row.Name, pm(row.BestDice, row.DiceStd, "%.4f"), row.diffText(), row.FinalLoss, row.Steps,
			row.GradRatio, row.InitRatio, pm(row.NonConvexity, row.NonConvexityStd, "%.3f"))
	}
	return sb.String()
}
