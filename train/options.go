package train

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/segment-dev/segment/augment"
	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/unet"
)

// Options says what to train and how. The zero value of a field means its default, given
// in the field's comment.
type Options struct {
	Data string // the data set folder (see package dataset)
	Out  string // the model file of the best epoch; "model.safetensors"

	Epochs int           // passes over the training images; 0 with Time 0 means 30
	Time   time.Duration // a time budget: training stops when it is spent (and after Epochs, if set)

	Batch     int     // images per step; 4
	Crop      int     // side of the random square crops; the images' size rounded up to 2^depth, at most 256
	LR        float64 // the starting learning rate; 1e-3
	Optimizer string  // adam, adamw or sgd; adam
	Decay     float64 // weight decay: L2 for adam and sgd, decoupled for adamw; 0 (1e-2 for adamw)
	Schedule  string  // cosine, plateau or none; cosine
	Loss      string  // a name of unet.Losses; the registry's default for the data (unet.DefaultLoss)
	Augment   string  // an augment preset; default

	// ClassCrops is the share of crops centred on a pixel of a class present in the image
	// (dataset.LoaderOptions.ClassCrops); 0 draws every crop anywhere.
	ClassCrops float64
	// ClassWeights weighs the loss's per-pixel term by class: "" or "none", "auto" (see
	// AutoClassWeights) or one weight per class, comma-separated (see ClassWeights).
	ClassWeights string

	// Downsample trains on the images and masks shrunk by this integer factor (1 to
	// augment.MaxShrink; 0 and 1 keep them): the model file records it, and prediction
	// shrinks each image alike and scales the probabilities back to the image's size. It
	// buys a crop f*f times the scene at the same cost, for data whose objects are large.
	Downsample int

	// Plan is the plan the run follows (see package plan), as JSON, stored in the model
	// file's training record; nil for none.
	Plan json.RawMessage

	// Model is the network's shape; its InChannels and Classes come from the data. A zero
	// Model means unet.DefaultConfig.
	Model unet.Config

	Channels   int      // convert images to 1 (gray) or 3 (RGB) channels; 0 keeps them
	Classes    int      // model classes: 0 infers them from the masks, 1 binary
	MaskValues []int    // the mask value of each class, in order; empty infers them
	Ignore     *int     // a mask value whose pixels count for nothing (void)
	ClassNames []string // the name of each class, in order, kept in the model file; empty: the defaults
	ValSplit   float64  // share of train held out for validation when there is no val folder; 0.1
	Seed       uint64   // makes the initial weights, the split, the crops and the augmentation
	Threads    int      // goroutines for loading; 0 means all cores

	// Fold, when not zero, trains on the other folds of a K-fold split of the train folder
	// and validates on this one (see dataset.Fold.Split), instead of ValSplit or a val
	// folder; the model file records it (weights.Meta.Fold).
	Fold dataset.Fold

	// GradLog records, every that many steps, each layer's gradient norm and update ratio
	// into NAME.grads.csv and draws them as NAME.grads.png when the run ends or stops (see
	// GradRecord); 0 records nothing.
	GradLog int

	// Resume continues the run whose checkpoint sits beside Out, exactly where it stopped.
	Resume bool
	// StopAfter ends the run, with a checkpoint, after that many steps in total: how tests
	// stop a run partway as Ctrl-C would. 0 means no such stop.
	StopAfter int

	// Log receives one line per epoch; Progress the progress bar; Warn a line for each
	// choice that is legal but likely a mistake (a crop larger than every image). Nil
	// discards them.
	Log, Progress, Warn io.Writer

	// Hooks run besides the built-in ones, at the events of the run (see Hook).
	Hooks []Hook
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if o.Out == "" {
		o.Out = "model.safetensors"
	}
	if o.Epochs == 0 && o.Time == 0 {
		o.Epochs = 30
	}
	if o.Batch == 0 {
		o.Batch = 4
	}
	if o.LR == 0 {
		o.LR = 1e-3
	}
	if o.Optimizer == "" {
		o.Optimizer = Adam
	}
	if o.Decay == 0 && o.Optimizer == AdamW {
		o.Decay = 1e-2
	}
	if o.Schedule == "" {
		o.Schedule = Cosine
	}
	if o.Augment == "" {
		o.Augment = "default"
	}
	if o.Model == (unet.Config{}) {
		o.Model = unet.DefaultConfig()
	}
	if o.Model.Up == "" {
		o.Model.Up = unet.UpTranspose
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Warn == nil {
		o.Warn = io.Discard
	}
	return o
}

func (o Options) check() error {
	switch {
	case o.Data == "":
		return fmt.Errorf("no data folder given")
	case o.Epochs < 0:
		return fmt.Errorf("epochs %d is negative", o.Epochs)
	case o.Time < 0:
		return fmt.Errorf("time %v is negative", o.Time)
	case o.Batch < 1:
		return fmt.Errorf("batch %d must be at least 1", o.Batch)
	case o.Crop < 0:
		return fmt.Errorf("crop %d is negative", o.Crop)
	case o.Crop > 0 && o.Crop%o.Model.Multiple() != 0:
		return fmt.Errorf("crop %d must be a multiple of %d (2^depth)", o.Crop, o.Model.Multiple())
	case o.GradLog < 0:
		return fmt.Errorf("grad-log %d is negative", o.GradLog)
	case !(o.LR > 0):
		return fmt.Errorf("learning rate %g must be positive", o.LR)
	case !(o.ClassCrops >= 0 && o.ClassCrops <= 1):
		return fmt.Errorf("class crops %g is not a share in [0, 1]", o.ClassCrops)
	case o.Downsample < 0 || o.Downsample > augment.MaxShrink:
		return fmt.Errorf("downsample %d is not a factor from 1 to %d", o.Downsample, augment.MaxShrink)
	}
	if _, err := augment.Preset(o.Augment); err != nil {
		return err
	}
	if o.Loss != "" {
		if _, err := unet.LookupLoss(o.Loss); err != nil {
			return err
		}
	}
	return nil
}
