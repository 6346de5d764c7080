package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/segment-dev/segment/train"
	"github.com/segment-dev/segment/unet"
)

func init() {
	register(&command{
		name:  "ablate",
		args:  "",
		short: "train U-Nets with and without skip connections and compare them",
		long: `
Ablate is the skip-connection lab: it trains the same U-Net with each kind of
long skip connection (concat as in U-Net and DenseNet, add as in ResNet, none),
each with batch norm and without normalisation, on the same data with the same
seed and the same time budget (--time, or --epochs), and compares them. --deep
adds the six variants again at depth 5; --block residual gives every variant
ResNet's short skips inside each level.

Each variant's run goes to its own folder under --out, with its model, log,
curves and gradient log (every --grad-log steps: each layer's gradient norm and
update ratio, drawn as a heat map of layers by steps). Then --out gets
ablation.md and ablation.csv (per variant: best validation Dice, final loss,
steps done, and the gradient norm of the first layer over that of the last,
in the second half of the run and at initialisation) and ablation_loss.png
(every variant's loss and validation Dice curves in one picture). It prints a
line as each variant finishes. Ctrl-C stops; the table keeps the variants done.`,
		flags: ablateFlags,
	})
}

func ablateFlags(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
	def := unet.DefaultConfig()
	a := train.AblateOptions{}
	o := &a.Train
	fs.StringVar(&o.Data, "data", "", "data set folder (default: the bundled sample data)")
	fs.StringVar(&a.Dir, "out", "ablation", "output folder: one subfolder per variant, and the tables and picture")
	fs.DurationVar(&o.Time, "time", 5*time.Minute, "time budget of each variant")
	fs.IntVar(&o.Epochs, "epochs", 0, "passes over the training images of each variant (without --time: instead of the time budget)")
	fs.BoolVar(&a.Deep, "deep", false, "also train every variant at depth 5 (--crop must then be a multiple of 32)")
	block := fs.String("block", string(unet.BlockPlain), "block of every level of every variant: plain or residual")
	fs.IntVar(&o.Model.Depth, "depth", def.Depth, "number of 2x downsamplings")
	fs.IntVar(&o.Model.BaseChannels, "base", def.BaseChannels, "channels of the first level, doubled at each level down")
	fs.IntVar(&o.Batch, "batch", 4, "images per step")
	fs.IntVar(&o.Crop, "crop", 0, "side of the random training crops, a multiple of 2^depth (default: the image size, at most 256)")
	fs.Float64Var(&o.LR, "lr", 1e-3, "learning rate")
	fs.StringVar(&o.Loss, "loss", "", lossUsage())
	fs.StringVar(&o.Augment, "augment", "default", "augmentation preset: default, light or none")
	seed := fs.Uint64("seed", 1, "random seed, the same for every variant: weights, split, crops and augmentation")
	fs.IntVar(&o.GradLog, "grad-log", 10, "record the gradient norms every N steps")
	fs.IntVar(&o.Threads, "threads", 0, "goroutines loading data (default: all cores)")
	quiet := fs.Bool("q", false, "no progress bar")
	return func(fs *flag.FlagSet, out, errOut io.Writer) error {
		if fs.NArg() > 0 {
			return usagef("unexpected arguments %q (the data folder goes in --data)", fs.Args())
		}
		timeSet := false
		fs.Visit(func(f *flag.Flag) { timeSet = timeSet || f.Name == "time" })
		if o.Epochs > 0 && !timeSet {
			o.Time = 0 // --epochs alone replaces the default time budget
		}
		if o.GradLog < 1 {
			return usagef("--grad-log must be at least 1, got %d", o.GradLog)
		}
		o.Model.InChannels, o.Model.Classes = 1, 1 // the data decides; set so that the shape validates
		o.Model.Skip, o.Model.Norm, o.Model.Up, o.Model.Block = def.Skip, def.Norm, unet.UpTranspose, unet.Block(*block)
		if err := o.Model.Validate(); err != nil {
			return usagef("%v", err)
		}
		if err := checkLoss(o.Loss); err != nil {
			return err
		}
		o.Seed = *seed
		if o.Data == "" {
			dir, cleanup, err := sampleData()
			if err != nil {
				return err
			}
			defer cleanup()
			o.Data = dir
		}
		a.Log = out
		if !*quiet {
			o.Progress = errOut
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		res, err := train.Ablate(ctx, a)
		if res != nil && len(res.Rows) > 0 {
			fmt.Fprintf(out, "\n%s\ntable: %s, %s; curves: %s\n", res, res.Markdown, res.CSV, res.PNG)
		}
		if errors.Is(err, train.ErrInterrupted) {
			return errInterrupted
		}
		return err
	}
}
