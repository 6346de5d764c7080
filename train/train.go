package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/segment-dev/segment/augment"
	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/outlock"
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

// Run trains a model as o says. It checks first that its files can be written and are no
// input (CheckOutputs), and holds their lock (Paths.Lock) while it writes them. It writes
// the best and the last model, the checkpoint that Resume continues from, the CSV log and
// the curves, all atomically, and returns what it made. Cancelling ctx saves a checkpoint
// and returns ErrInterrupted.
//
// Run prepares the run and leaves it to the loop (see Loop), which takes the steps and
// calls the hooks: the built-in ones that do all of the above, then o.Hooks.
func Run(ctx context.Context, o Options) (*Result, error) {
	o = o.withDefaults()
	if err := o.check(); err != nil {
		return nil, err
	}
	if err := CheckOutputs(o); err != nil {
		return nil, err
	}
	ds, err := dataset.Open(o.Data, dataset.Options{
		Channels: o.Channels, Classes: o.Classes, MaskValues: o.MaskValues, Ignore: o.Ignore,
		ClassNames: o.ClassNames, ValFraction: o.ValSplit, Fold: o.Fold, Seed: o.Seed, Workers: o.Threads,
	})
	if err != nil {
		return nil, err
	}
	for _, w := range ds.Warnings {
		fmt.Fprintf(o.Log, "warning: %s\n", w)
	}
	if !o.Fold.IsZero() {
		fmt.Fprintf(o.Log, "fold %s (seed %d): %d training images, %d held out for validation\n", o.Fold, o.Seed, len(ds.Train), len(ds.Val))
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
	pixels, _ := ds.ClassPixels(ds.Train)
	classWeights, err := ClassWeights(o.ClassWeights, pixels)
	if err != nil {
		return nil, err
	}
	lossFunc, err := loss.WithWeights(classWeights)
	if err != nil {
		return nil, err
	}
	f := max(o.Downsample, 1)
	if f == 1 {
		o.Downsample = 0 // one spelling of "off", for the run's key
	}
	crop := o.Crop
	if crop == 0 {
		crop = defaultCrop(ds.Train, cfg.Multiple(), f)
	} else {
		warnCrop(o.Warn, crop, ds.Train, f)
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
	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		return nil, err
	}
	lock, err := outlock.Acquire(paths.Lock)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	removeStale(paths)
	abs, _ := filepath.Abs(o.Data)
	key := runKey{Data: abs, Config: cfg, Batch: batch, Crop: crop, Epochs: o.Epochs, Time: o.Time.Seconds(), LR: o.LR,
		Optimizer: o.Optimizer, Decay: o.Decay, Schedule: o.Schedule, Loss: o.Loss, Augment: o.Augment, Seed: o.Seed,
		ClassCrops: o.ClassCrops, ClassWeights: classWeights, Downsample: o.Downsample, Fold: o.Fold}

	var m *unet.Model
	st := &state{Key: key, BestDice: metrics.Float(math.NaN())}
	if o.Resume {
		if m, _, err = weights.Load(paths.Last); err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		if st, err = loadState(paths.State, opt, m); err != nil {
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
	} else if m, err = unet.New(cfg, int64(runSeed(o.Seed, o.Fold))); err != nil {
		return nil, err
	}

	net, err := unet.NewTrainNet(m, batch, crop, crop, lossFunc)
	if err != nil {
		return nil, err
	}
	defer net.Close()
	loader, err := ds.NewLoader(ds.Train, dataset.LoaderOptions{
		BatchSize: batch, Crop: crop, Augment: aug, Shuffle: true, DropLast: true, ClassCrops: o.ClassCrops, Downsample: f,
		Epochs: o.Epochs, Workers: o.Threads, Seed: runSeed(o.Seed, o.Fold), StartEpoch: st.Epoch, StartStep: st.Step,
	})
	if err != nil {
		return nil, err
	}
	defer loader.Close()
	val := newValidator(ds, m, f)
	defer val.close()

	var ps []Param
	for _, p := range cfg.Params() {
		if p.Kind == unet.Weight {
			ps = append(ps, Param{Name: p.Name, W: m.Data(p.Name)})
		}
	}
	l := &Loop{Options: o, Paths: paths, Data: ds, Model: m, Params: ps, Batch: batch, Crop: crop, ClassWeights: classWeights,
		StepsPerEpoch: loader.StepsPerEpoch(), TotalSteps: o.Epochs * loader.StepsPerEpoch(),
		st: st, opt: opt, sched: sched, val: val, hooks: append(builtInHooks(ctx, o), o.Hooks...)}
	if err := l.run(net, loader); err != nil {
		return nil, err
	}
	res := &Result{Paths: paths, Epochs: len(st.History), Steps: st.Steps, Elapsed: st.Elapsed, BestDice: float64(st.BestDice),
		BestEpoch: st.BestEpoch, History: st.History, Classes: ds.Classes, Model: m}
	if n := len(st.History); n > 0 {
		res.LastLoss = st.History[n-1].Loss
	}
	return res, nil
}

// warnCrop warns of a crop larger than every training image (shrunk by f) in both sides:
// the crops are then mostly padding, and each step costs the crop's area however small the
// images.
func warnCrop(w io.Writer, crop int, pairs []dataset.Pair, f int) {
	wMax, hMax := 0, 0
	for _, p := range pairs {
		wMax, hMax = max(wMax, augment.ShrunkSize(p.Width, f)), max(hMax, augment.ShrunkSize(p.Height, f))
	}
	if len(pairs) > 0 && crop > wMax && crop > hMax {
		fmt.Fprintf(w, "segment train: warning: --crop %d is larger than every training image (the largest is %dx%d): the crops are mostly padding, and each step costs %.0f times the work of a crop of the image size\n",
			crop, wMax, hMax, float64(crop*crop)/float64(wMax*hMax))
	}
}

// defaultCrop is the largest image side (shrunk by f) rounded up to a multiple of mul, at
// most 256.
func defaultCrop(pairs []dataset.Pair, mul, f int) int {
	side := 0
	for _, p := range pairs {
		side = max(side, augment.ShrunkSize(p.Width, f), augment.ShrunkSize(p.Height, f))
	}
	side = (side + mul - 1) / mul * mul
	return max(min(side, 256/mul*mul), mul)
}

// runSeed is the seed of a run's initial weights and of its crops and augmentation: the
// --seed itself, or for a fold one mixed with its index, so that the K models of an
// ensemble start from different weights and see different crops, as nnU-Net's folds do,
// rather than differ in their data alone. The split into folds keeps --seed, which all
// the folds must share.
func runSeed(seed uint64, f dataset.Fold) uint64 {
	if f.IsZero() {
		return seed
	}
	// The golden-ratio multiplier spreads consecutive indices over the whole range.
	return seed ^ uint64(f.Index+1)*0x9e3779b97f4a7c15
}
