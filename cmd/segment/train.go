package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/train"
	"github.com/segment-dev/segment/unet"
)

// trainCommand is the table entry of segment train.
func trainCommand() *command {
	return &command{
		name:  "train",
		args:  "",
		short: "train a model on a folder of images and masks",
		long: `
Train learns a U-Net from a data set folder: images/ and masks/ side by side, or
train/, val/ (and test/) folders each holding the two. Without --data it trains
on the project's bundled sample data.

It shows a progress bar with the loss, the images per second and the time left,
and after every epoch prints the validation Dice and IoU. It writes, beside
--out: the model of the best validation Dice (--out), the last model
(NAME.last.safetensors), a checkpoint to continue from (NAME.state.safetensors,
used by --resume), a CSV log (NAME.log.csv) and the loss and Dice curves
(NAME.curves.png). With --grad-log N it also records, every N steps, each
layer's gradient norm and update ratio (NAME.grads.csv) and draws them as heat
maps, layers by steps (NAME.grads.png). Every file is written to a temporary
name and renamed, so an interrupted run never leaves a broken file. Ctrl-C
saves a checkpoint and stops; --resume then continues exactly where the run
stopped. Before any work, train checks that these files can be written and
that none of them is a file of the data set; while it runs it holds
NAME.lock, so that a second run with the same --out stops at once, naming the
first one's process id.

Without flags for them, train plans the run from the data (see segment plan):
it fingerprints the data set and chooses resolution (downsample), crop, batch,
depth, base channels, augmentation, class crops, class weights, loss and
learning rate, printing each choice with its reason and storing the plan in the model file. A flag given overrides its
part of the plan; --plan-only prints the plan and stops. For multi-class data
it prints, per class, the share of crops that hold it, and after each epoch the
validation Dice of each class (also in the CSV log, val_dice_0 on).

--fold k/K trains one fold of a cross-validation: train/ is split into K folds
(by name and --seed, the same on every machine; the pages of a TIFF stack stay
together), fold k is the validation set and the others are trained on; val/ is
not used. The model file records the fold and its held-out images (see
inspect). The K folds run as K jobs, e.g. a Slurm array with
--fold $SLURM_ARRAY_TASK_ID/5, and predict and eval average them as an ensemble
(--model DIR or --model a,b,...).

` + lossHelp(),
		flags: trainFlags,
	}
}

func trainFlags(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
	def := unet.DefaultConfig()
	o := train.Options{}
	var tf trainingFlags
	tf.register(fs, &o)
	fs.StringVar(&o.Out, "out", "model.safetensors", "where to write the best model; the other files go beside it")
	fs.IntVar(&o.Epochs, "epochs", 0, "passes over the training images (default 30, or as many as --time allows)")
	fs.DurationVar(&o.Time, "time", 0, "time budget, e.g. 15m: training stops when it is spent")
	fs.StringVar(&o.Optimizer, "optimizer", "adam", "adam, adamw or sgd (with momentum 0.9)")
	fs.Float64Var(&o.Decay, "decay", 0, "weight decay (default 0; 0.01 for adamw)")
	fs.StringVar(&o.Schedule, "schedule", "cosine", "learning-rate schedule: cosine, plateau or none")
	fs.StringVar(&o.Loss, "loss", "", lossUsage())
	skip := fs.String("skip", string(def.Skip), "long skip connections: concat (U-Net), add (ResNet) or none")
	norm := fs.String("norm", string(def.Norm), "normalisation: batch, group or none")
	block := fs.String("block", string(unet.BlockPlain), "block of every level: plain (conv, norm, ReLU twice), residual (adds the block's input, ResNet's short skip) or dense (concatenates, DenseNet's short skip)")
	setBlock := blockFlags(fs)
	fs.IntVar(&o.Model.Groups, "groups", 0, "groups of a group norm (default: up to 32, dividing the base channels)")
	fs.IntVar(&o.Classes, "classes", 0, "model classes: 1 for binary (default: from the masks)")
	var lf labelFlags
	lf.register(fs, dataValuesUsage+" (default: the sorted values found)", dataIgnoreUsage, dataNamesUsage)
	fs.IntVar(&o.Channels, "channels", 0, "convert images to 1 (gray) or 3 (RGB) channels (default: as they are)")
	fs.Float64Var(&o.ValSplit, "val-split", 0.1, "share of train held out for validation when there is no val folder")
	fold := fs.String("fold", "", "hold out fold `k/K` (k from 0) of a K-fold split of train/ made with --seed, validate on it and train on the rest, instead of --val-split or val/; e.g. --fold $SLURM_ARRAY_TASK_ID/5")
	seed := fs.Uint64("seed", 1, "random seed: weights, split, crops and augmentation")
	fs.IntVar(&o.GradLog, "grad-log", 0, "every N steps, log each layer's gradient norm and update ratio to NAME.grads.csv, drawn as NAME.grads.png (default 0: off)")
	fs.BoolVar(&o.Resume, "resume", false, "continue the run whose checkpoint is beside --out")
	fs.Float64Var(&o.ClassCrops, "class-crops", 0, "share of crops centred on a pixel of a class drawn from those in the image, 0 to 1; 0 is off (default: the plan's, 0.33 when a class is rare)")
	fs.StringVar(&o.ClassWeights, "class-weights", "", "weigh the loss's cross-entropy by class: none, auto (inverse square-root frequency, clipped to 10x) or w0,w1,... (default: the plan's)")
	planOnly := fs.Bool("plan-only", false, "print the data set's fingerprint and the plan, and stop")
	return func(fs *flag.FlagSet, out, errOut io.Writer) error {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		o.Model.Skip, o.Model.Norm, o.Model.Up = unet.Skip(*skip), unet.Norm(*norm), unet.UpTranspose
		o.Model.Block = unet.Block(*block)
		if err := setBlock(&o.Model); err != nil {
			return err
		}
		if err := tf.check(fs); err != nil {
			return err
		}
		if err := checkTrainFlags(&o, set); err != nil {
			return err
		}
		if err := checkLoss(o.Loss); err != nil {
			return err
		}
		o.Seed = *seed
		if err := parseFoldFlag(*fold, set, &o); err != nil {
			return err
		}
		lo, err := lf.parse()
		if err != nil {
			return err
		}
		o.MaskValues, o.Ignore, o.ClassNames = lo.MaskValues, lo.Ignore, lo.ClassNames
		cleanup, err := tf.setup(errOut)
		if err != nil {
			return err
		}
		defer cleanup()
		if !*planOnly {
			// Before the plan, which reads the data: a file of the run that cannot be written,
			// or another run writing them, stops it at once.
			if err := train.CheckOutputs(o); err != nil {
				return err
			}
		}
		o.Warn = errOut
		if err := planTraining(&o, set, *planOnly, out); err != nil || *planOnly {
			return err
		}
		o.Log = out
		ctx, stop := interruptible()
		defer stop()
		res, err := train.Run(ctx, o)
		if errors.Is(err, dataset.ErrFold) {
			return usagef("--fold %s: %v", o.Fold, err)
		}
		if errors.Is(err, train.ErrInterrupted) {
			return fmt.Errorf("%w: checkpoint saved in %s; the same command with --resume continues", errInterrupted, train.PathsFor(o.Out).State)
		}
		if err != nil {
			return err
		}
		if math.IsNaN(res.BestDice) {
			fmt.Fprintf(out, "model: %s (no validation images; last epoch)\n", res.Paths.Best)
		} else {
			fmt.Fprintf(out, "best model: %s (epoch %d of %d, validation Dice %.4f)\n", res.Paths.Best, res.BestEpoch, res.Epochs, res.BestDice)
		}
		fmt.Fprintf(out, "last model: %s, log: %s, curves: %s\n", res.Paths.Last, res.Paths.CSV, res.Paths.Curves)
		if o.GradLog > 0 {
			c, p := train.GradLogPaths(res.Paths.Best)
			fmt.Fprintf(out, "gradient flow: %s, %s\n", c, p)
		}
		fmt.Fprintf(out, "%d steps in %.0fs\n", res.Steps, res.Elapsed)
		return nil
	}
}

// checkTrainFlags refuses train's own numbers out of range, before any data is read.
// --epochs 0 is the default only with --time (a budget alone); given without it, it would
// silently mean the default 30 epochs.
func checkTrainFlags(o *train.Options, set map[string]bool) error {
	switch {
	case o.Epochs < 0 || (set["epochs"] && o.Epochs == 0 && o.Time == 0):
		return usagef("--epochs %d: want at least 1 (0 with --time: as many as the time allows)", o.Epochs)
	case o.Time < 0:
		return usagef("--time %v: want a positive duration", o.Time)
	case !(o.ValSplit >= 0 && o.ValSplit < 1):
		return usagef("--val-split %g: want a share from 0 to less than 1", o.ValSplit)
	}
	return nil
}

// lossHelp lists the loss registry for the help text: each loss, the masks it suits and
// what it is.
func lossHelp() string {
	var b strings.Builder
	b.WriteString("Losses (--loss), the masks they suit, and what they are:\n")
	for _, l := range unet.Losses {
		fmt.Fprintf(&b, "  %-17s %-12s %s\n", l.Name, l.Tasks, l.Help)
	}
	return b.String()
}

// lossUsage is the --loss flag's line, with the registry's defaults.
func lossUsage() string {
	return fmt.Sprintf("loss: %s (default %s for binary masks, %s otherwise)",
		strings.Join(unet.LossNames(unet.Binary|unet.MultiClass), ", "), unet.DefaultLoss(1).Name, unet.DefaultLoss(2).Name)
}

// checkLoss refuses a --loss the registry does not know, before any data is read.
func checkLoss(name string) error {
	if name == "" {
		return nil
	}
	if _, err := unet.LookupLoss(name); err != nil {
		return usagef("--loss: %v", err)
	}
	return nil
}

// planTraining plans the run from the data unless every planned flag was given (see
// applyPlan), printing the plan (and, with planOnly, the fingerprint first). A resumed
// run plans the same, so that its options match the checkpoint's.
func planTraining(o *train.Options, set map[string]bool, planOnly bool, out io.Writer) error {
	need := planOnly
	for _, name := range plannedFlags {
		need = need || !set[name]
	}
	if !need {
		return nil
	}
	valFraction := o.ValSplit
	if !o.Fold.IsZero() {
		valFraction = -1 // every fold plans from all of train/, so that the folds train alike
	}
	f, p, err := planFor(o.Data, dataset.Options{Channels: o.Channels, Classes: o.Classes, MaskValues: o.MaskValues,
		Ignore: o.Ignore, ValFraction: valFraction, Seed: o.Seed, Workers: o.Threads}, o.Time)
	if err != nil {
		return err
	}
	if planOnly {
		if err := f.Write(out); err != nil {
			return err
		}
	}
	applyPlan(p, o, set)
	return writePlan(out, p, set)
}

// parseFoldFlag reads --fold into o.Fold. The fold's index comes from the command line
// only, never from the environment: an array job writes --fold $SLURM_ARRAY_TASK_ID/5 (or
// $(JOB_COMPLETION_INDEX) in a Kubernetes manifest), so the command that made a model says
// which fold it holds out, and a plain train inside some array job is not silently a fold.
func parseFoldFlag(s string, set map[string]bool, o *train.Options) error {
	if !set["fold"] {
		return nil
	}
	f, err := dataset.ParseFold(s)
	if err != nil {
		return usagef("--%v", err)
	}
	if set["val-split"] {
		return usagef("--fold %s validates on the held-out fold: --val-split does not go with it", f)
	}
	o.Fold = f
	return nil
}
