package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/segment-dev/segment/augment"
	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/metrics"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// ErrInterrupted ends a run stopped by its context (Ctrl-C) or by Options.StopAfter, after
// it saved a checkpoint that Resume continues from.
var ErrInterrupted = errors.New("training interrupted; checkpoint saved, continue with --resume")

// Result is what a run produced.
type Result struct {
	Paths     Paths
	Epochs    int     // epochs completed
	Steps     int     // steps done
	Elapsed   float64 // seconds of training (over all resumptions)
	BestDice  float64 // best mean validation Dice (NaN without validation)
	BestEpoch int
	LastLoss  float64 // mean training loss of the last epoch
	History   []Epoch
	Classes   dataset.Classes
	Model     *unet.Model // the last model
}

// Run trains a model as o says. It writes the best and the last model, the checkpoint that
// Resume continues from, the CSV log and the curves, all atomically, and returns what it
// made. Cancelling ctx saves a checkpoint and returns ErrInterrupted.
func Run(ctx context.Context, o Options) (*Result, error) {
	o = o.withDefaults()
	if err := o.check(); err != nil {
		return nil, err
	}
	ds, err := dataset.Open(o.Data, dataset.Options{
		Channels: o.Channels, Classes: o.Classes, MaskValues: o.MaskValues, Ignore: o.Ignore,
		ValFraction: o.ValSplit, Seed: o.Seed, Workers: o.Threads,
	})
	if err != nil {
		return nil, err
	}
	if len(ds.Train) == 0 {
		return nil, fmt.Errorf("%s: no training pairs", o.Data)
	}
	cfg := o.Model
	cfg.InChannels = ds.Channels
	cfg.Classes = ds.Classes.ModelClasses()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	loss, err := unet.LossFor(o.Loss, cfg.Classes)
	if err != nil {
		return nil, err
	}
	o.Loss = loss.Name
	crop := o.Crop
	if crop == 0 {
		crop = defaultCrop(ds.Train, cfg.Multiple())
	}
	batch := min(o.Batch, len(ds.Train))
	aug, _ := augment.Preset(o.Augment)
	opt, err := NewOptimizer(o.Optimizer, o.Decay)
	if err != nil {
		return nil, err
	}
	sched, err := NewSchedule(o.Schedule, o.LR)
	if err != nil {
		return nil, err
	}
	paths := PathsFor(o.Out)
	if dir := filepath.Dir(o.Out); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	abs, _ := filepath.Abs(o.Data)
	key := runKey{Data: abs, Config: cfg, Batch: batch, Crop: crop, Epochs: o.Epochs, Time: o.Time.Seconds(), LR: o.LR,
		Optimizer: o.Optimizer, Decay: o.Decay, Schedule: o.Schedule, Loss: o.Loss, Augment: o.Augment, Seed: o.Seed}

	var m *unet.Model
	st := &state{Key: key, BestDice: metrics.Float(math.NaN())}
	if o.Resume {
		if m, _, err = weights.Load(paths.Last); err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		if st, err = loadState(paths.State, opt); err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		// Compared as JSON, the form the key is stored in: fields that mean the same (an
		// empty block and "plain") are spelled alike there.
		a, _ := json.Marshal(st.Key)
		b, _ := json.Marshal(key)
		if !bytes.Equal(a, b) {
			return nil, fmt.Errorf("resume: %s was made by another run (%s), not this one (%s)", paths.State, a, b)
		}
		*sched = st.Schedule
		if st.Done {
			return nil, fmt.Errorf("resume: the run of %s already finished", paths.State)
		}
	} else if m, err = unet.New(cfg, int64(o.Seed)); err != nil {
		return nil, err
	}

	net, err := unet.NewTrainNet(m, batch, crop, crop, loss.Func)
	if err != nil {
		return nil, err
	}
	defer net.Close()
	loader, err := ds.NewLoader(ds.Train, dataset.LoaderOptions{
		BatchSize: batch, Crop: crop, Augment: aug, Shuffle: true, DropLast: true,
		Epochs: o.Epochs, Workers: o.Threads, Seed: o.Seed, StartEpoch: st.Epoch, StartStep: st.Step,
	})
	if err != nil {
		return nil, err
	}
	defer loader.Close()
	perEpoch := loader.StepsPerEpoch()
	val := newValidator(ds, m)
	defer val.close()

	var params []unet.ParamSpec
	for _, p := range cfg.Params() {
		if p.Kind == unet.Weight {
			params = append(params, p)
		}
	}
	ps := make([]Param, len(params))
	for i, p := range params {
		ps[i] = Param{Name: p.Name, W: m.Data(p.Name)}
	}
	grads, err := newGradLog(o, cfg, ps, o.Resume, st.Steps)
	if err != nil {
		return nil, err
	}
	meta := func() weights.Meta {
		tr, _ := json.Marshal(map[string]any{
			"data": abs, "epochs": len(st.History), "steps": st.Steps, "time_s": math.Round(st.Elapsed),
			"best_val_dice": st.BestDice, "best_epoch": st.BestEpoch, "batch": batch, "crop": crop,
			"loss": o.Loss, "optimizer": o.Optimizer, "lr": o.LR, "schedule": o.Schedule, "augment": o.Augment,
			"seed": o.Seed, "date": time.Now().UTC().Format(time.RFC3339),
		})
		pre, _ := json.Marshal(map[string]any{"scale": "1/255 (1/65535 for 16-bit)", "channels": cfg.InChannels, "pad": "reflect to a multiple of 2^depth, crop back"})
		return weights.Meta{Preprocess: pre, Train: tr, MaskValues: ds.Classes.Values, IgnoreValue: ds.Classes.Ignore, MaskColour: ds.Classes.Colour}
	}
	checkpoint := func() error {
		st.Schedule = *sched
		st.OptSteps = opt.Steps
		if err := weights.Save(paths.Last, m, meta()); err != nil {
			return err
		}
		return saveState(paths.State, st, opt)
	}

	totalSteps := o.Epochs * perEpoch
	bar := newBar(o, totalSteps)
	fmt.Fprintf(o.Log, "training on %s: %d train / %d val images, %s; %d steps of %d per epoch, crops %dx%d\n",
		o.Data, len(ds.Train), len(ds.Val), ds.Classes, perEpoch, batch, crop, crop)
	fmt.Fprintf(o.Log, "model: %s, %d weights; loss %s, %s lr %g (%s)\n", cfg, m.NumWeights(), o.Loss, o.Optimizer, o.LR, o.Schedule)

	start := time.Now()
	base := st.Elapsed
	elapsed := func() float64 { return base + time.Since(start).Seconds() }
	epochStart := time.Now()
	epochImages := 0
	target := make([]float32, batch*crop*crop)
	var lr float64
	stoppedEarly := false

	for b := range loader.Batches() {
		if ctx.Err() != nil || (o.StopAfter > 0 && st.Steps >= o.StopAfter) {
			st.Elapsed = elapsed()
			if err := checkpoint(); err != nil {
				return nil, err
			}
			if err := grads.write(); err != nil {
				return nil, err
			}
			bar.Exit()
			return nil, ErrInterrupted
		}
		if o.Time > 0 && elapsed() >= o.Time.Seconds() {
			stoppedEarly = true
			break
		}
		// The share of the run done: by steps, or by time, whichever ends it first.
		done := 0.0
		if o.Epochs > 0 {
			done = float64(st.Steps) / float64(totalSteps)
		}
		if o.Time > 0 {
			done = math.Max(done, elapsed()/o.Time.Seconds())
		}
		lr = sched.LR(done)
		for i, t := range b.Targets {
			target[i] = float32(t)
		}
		l, err := net.Step(b.Inputs, target)
		if err != nil {
			return nil, err
		}
		if math.IsNaN(l) || math.IsInf(l, 0) {
			grads.write() // the gradients before the blow-up are worth seeing; the loss error comes first
			bar.Exit()
			return nil, fmt.Errorf("the loss became %v at epoch %d, step %d (learning rate %g may be too high); stopped without saving: the last good model is %s", l, b.Epoch+1, b.Step+1, lr, lastGood(paths, st))
		}
		for i := range ps {
			ps[i].G = net.Grad(ps[i].Name)
		}
		grads.beforeUpdate(st.Steps, ps)
		opt.Step(ps, lr)
		grads.afterUpdate(ps)
		st.Steps++
		st.LossSum += l
		st.LossCount++
		st.Epoch, st.Step = b.Epoch, b.Step+1
		epochImages += b.N
		rate := float64(epochImages) / time.Since(epochStart).Seconds()
		bar.Describe(fmt.Sprintf("epoch %d  loss %.4f  %.1f img/s", b.Epoch+1, st.LossSum/float64(st.LossCount), rate))
		if o.Time > 0 && o.Epochs == 0 {
			bar.Set(int(elapsed()))
		} else {
			bar.Set(st.Steps)
		}
		if b.Step == perEpoch-1 {
			st.Epoch, st.Step = b.Epoch+1, 0
			if err := endEpoch(o, st, val, sched, m, meta, paths, checkpoint, lr, rate, elapsed(), bar); err != nil {
				return nil, err
			}
			epochStart, epochImages = time.Now(), 0
		}
	}
	if err := loader.Err(); err != nil {
		return nil, err
	}
	if stoppedEarly && st.LossCount > 0 {
		// The time ran out inside an epoch: score and keep what it learned.
		if err := endEpoch(o, st, val, sched, m, meta, paths, checkpoint, lr, float64(epochImages)/time.Since(epochStart).Seconds(), elapsed(), bar); err != nil {
			return nil, err
		}
	}
	st.Done = true
	st.Elapsed = elapsed()
	if err := checkpoint(); err != nil {
		return nil, err
	}
	if err := grads.write(); err != nil {
		return nil, err
	}
	if math.IsNaN(float64(st.BestDice)) {
		// Without validation the last model is the one to use.
		if err := weights.Save(paths.Best, m, meta()); err != nil {
			return nil, err
		}
	}
	bar.Finish()
	fmt.Fprintln(o.Progress)
	res := &Result{Paths: paths, Epochs: len(st.History), Steps: st.Steps, Elapsed: st.Elapsed, BestDice: float64(st.BestDice),
		BestEpoch: st.BestEpoch, History: st.History, Classes: ds.Classes, Model: m}
	if n := len(st.History); n > 0 {
		res.LastLoss = st.History[n-1].Loss
	}
	return res, nil
}

// endEpoch validates, logs, checkpoints and keeps the best model.
func endEpoch(o Options, st *state, val *validator, sched *Schedule, m *unet.Model, meta func() weights.Meta,
	paths Paths, checkpoint func() error, lr, rate, elapsed float64, bar *progressbar.ProgressBar) error {
	dice, iou, err := val.score()
	if err != nil {
		return err
	}
	rec := Epoch{Epoch: len(st.History) + 1, Steps: st.Steps, Time: math.Round(elapsed*10) / 10, Loss: st.LossSum / float64(max(st.LossCount, 1)),
		ValDice: metrics.Float(dice), ValIoU: metrics.Float(iou), LR: lr, Rate: math.Round(rate*10) / 10}
	st.History = append(st.History, rec)
	st.LossSum, st.LossCount = 0, 0
	sched.EndEpoch(dice)
	best := !math.IsNaN(dice) && (math.IsNaN(float64(st.BestDice)) || dice > float64(st.BestDice))
	if best {
		st.BestDice, st.BestEpoch = metrics.Float(dice), rec.Epoch
	}
	st.Elapsed = elapsed
	if err := checkpoint(); err != nil {
		return err
	}
	if best {
		if err := weights.Save(paths.Best, m, meta()); err != nil {
			return err
		}
	}
	if err := writeLog(paths, st.History); err != nil {
		return err
	}
	if err := drawCurves(paths, st.History); err != nil {
		return err
	}
	mark := ""
	if best {
		mark = "  *best"
	}
	bar.Clear()
	fmt.Fprintf(o.Log, "epoch %3d  %6.0fs  loss %.4f  val Dice %s  IoU %s  lr %.2e  %.1f img/s%s\n",
		rec.Epoch, elapsed, rec.Loss, fmtScore(dice), fmtScore(iou), lr, rate, mark)
	return nil
}

func fmtScore(v float64) string {
	if math.IsNaN(v) {
		return "  -   "
	}
	return fmt.Sprintf("%.4f", v)
}

func lastGood(p Paths, st *state) string {
	if len(st.History) == 0 {
		return "none (no epoch finished)"
	}
	return fmt.Sprintf("%s (epoch %d)", p.Last, len(st.History))
}

// defaultCrop is the largest image side rounded up to a multiple of mul, at most 256.
func defaultCrop(pairs []dataset.Pair, mul int) int {
	side := 0
	for _, p := range pairs {
		side = max(side, p.Width, p.Height)
	}
	side = (side + mul - 1) / mul * mul
	return max(min(side, 256/mul*mul), mul)
}

func newBar(o Options, totalSteps int) *progressbar.ProgressBar {
	max, unit := totalSteps, "steps"
	if o.Epochs == 0 {
		max, unit = int(o.Time.Seconds()), "s"
	}
	return progressbar.NewOptions(max,
		progressbar.OptionSetWriter(o.Progress),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
	)
}
