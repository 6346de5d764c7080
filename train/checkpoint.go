package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/metrics"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// Paths are the files of a training run, all beside the model file.
type Paths struct {
	Best   string // the model of the best validation Dice (Options.Out)
	Last   string // the model after the last epoch (or where the run stopped)
	State  string // what resuming needs beside the last model: optimizer, position, history
	CSV    string // one row per epoch
	Curves string // the loss and Dice curves, drawn from the CSV's numbers
	// Lock is held while a run writes the files (see internal/outlock), so that a second
	// run with the same Out stops at once instead of mixing its files with the first's.
	Lock string
}

// PathsFor gives the run's files for the model file out: model.safetensors gives
// model.last.safetensors, model.state.safetensors, model.log.csv, model.curves.png and the
// lock model.lock.
func PathsFor(out string) Paths {
	stem := strings.TrimSuffix(out, ".safetensors")
	return Paths{
		Best:   out,
		Last:   stem + ".last.safetensors",
		State:  stem + ".state.safetensors",
		CSV:    stem + ".log.csv",
		Curves: stem + ".curves.png",
		Lock:   stem + ".lock",
	}
}

// Epoch is the record of one epoch: a row of the CSV log.
type Epoch struct {
	Epoch   int           `json:"epoch"`    // from 1
	Steps   int           `json:"steps"`    // steps done in all by the end of it
	Time    float64       `json:"time_s"`   // seconds of training by the end of it
	Loss    float64       `json:"loss"`     // mean training loss over its steps
	ValDice metrics.Float `json:"val_dice"` // mean validation Dice (foreground), null without validation
	ValIoU  metrics.Float `json:"val_iou"`
	LR      float64       `json:"lr"` // the rate of its last step
	Rate    float64       `json:"images_per_s"`
	// ClassDice is each class's mean validation Dice, for a multi-class model (absent for
	// a binary one, and in checkpoints made before it was kept).
	ClassDice []metrics.Float `json:"class_dice,omitempty"`
}

// runKey is what must not change between a run and its resumption, or the resumed run
// would not continue the same run.
type runKey struct {
	Data      string      `json:"data"`
	Config    unet.Config `json:"config"`
	Batch     int         `json:"batch"`
	Crop      int         `json:"crop"`
	Epochs    int         `json:"epochs"`
	Time      float64     `json:"time_s"`
	LR        float64     `json:"lr"`
	Optimizer string      `json:"optimizer"`
	Decay     float64     `json:"decay"`
	Schedule  string      `json:"schedule"`
	Loss      string      `json:"loss"`
	Augment   string      `json:"augment"`
	// Added later: omitted when off, so that older checkpoints still match.
	ClassCrops   float64   `json:"class_crops,omitempty"`
	ClassWeights []float64 `json:"class_weights,omitempty"`
	Downsample   int       `json:"downsample,omitempty"` // 0 when off
	Seed         uint64    `json:"seed"`
	// Fold is the held-out fold: resuming fold 1 from fold 0's checkpoint would mix them.
	Fold dataset.Fold `json:"fold,omitzero"`
}

// state is everything a run needs, beside its last model, to continue exactly.
type state struct {
	Key       runKey        `json:"run"`
	Epoch     int           `json:"epoch"` // the next batch: step Step of epoch Epoch (from 0)
	Step      int           `json:"step"`
	Steps     int           `json:"steps"`
	Elapsed   float64       `json:"elapsed_s"`
	OptSteps  int           `json:"optimizer_steps"`
	Schedule  Schedule      `json:"schedule"`
	BestDice  metrics.Float `json:"best_dice"` // NaN (null in JSON) until a validation score
	BestEpoch int           `json:"best_epoch"`
	LossSum   float64       `json:"epoch_loss_sum"` // the epoch in progress
	LossCount int           `json:"epoch_loss_count"`
	History   []Epoch       `json:"history"`
	Done      bool          `json:"done"` // the run reached its end
}

const stateFormat = "segment-train-state"

// saveState writes the optimizer's buffers, the run's position and the model's weights
// ("model." + tensor name). The weights are in the state file, though the last model holds
// them too, because the two files cannot be renamed into place at once: a run killed between
// the two writes would leave a last model and a state of different epochs, and a resume
// from them would not continue the run.
func saveState(path string, st *state, opt *Optimizer, m *unet.Model) error {
	js, err := json.Marshal(st)
	if err != nil {
		return err
	}
	f := &weights.File{Metadata: map[string]string{"format": stateFormat, "state": string(js), "optimizer": opt.Kind}, Tensors: map[string]weights.Tensor{}}
	for _, name := range opt.StateNames() {
		b := opt.State[name]
		f.Tensors["optimizer."+name] = weights.NewFloat32([]int{len(b)}, b)
	}
	for _, p := range m.Config.Params() {
		data, ok := m.Tensors[p.Name].Data().([]float32)
		if !ok {
			return fmt.Errorf("save %s: tensor %s is not float32", path, p.Name)
		}
		f.Tensors["model."+p.Name] = weights.NewFloat32(p.Shape, data)
	}
	return weights.WriteFile(path, f)
}

// loadState reads a state file into st and opt, which must be of the kind the file names,
// and its weights into m (a state file written before they were kept leaves m as it is).
func loadState(path string, opt *Optimizer, m *unet.Model) (*state, error) {
	f, err := weights.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if f.Metadata["format"] != stateFormat {
		return nil, fmt.Errorf("%s: not a training state file", path)
	}
	var st state
	if err := json.Unmarshal([]byte(f.Metadata["state"]), &st); err != nil {
		return nil, fmt.Errorf("%s: state: %v", path, err)
	}
	if k := f.Metadata["optimizer"]; k != opt.Kind {
		return nil, fmt.Errorf("%s: optimizer %s, the run uses %s", path, k, opt.Kind)
	}
	for name, t := range f.Tensors {
		d, err := t.Float32()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", path, name, err)
		}
		if p, ok := strings.CutPrefix(name, "model."); ok {
			var dst []float32
			if t, ok := m.Tensors[p]; ok && t != nil {
				dst, _ = t.Data().([]float32)
			}
			if len(dst) != len(d) {
				return nil, fmt.Errorf("%s: %s holds %d values, the model's tensor %d", path, name, len(d), len(dst))
			}
			copy(dst, d)
			continue
		}
		opt.State[strings.TrimPrefix(name, "optimizer.")] = d
	}
	opt.Steps = st.OptSteps
	return &st, nil
}

// checkpointHook saves the last model and the state beside it after every epoch, and when
// the run finishes or is interrupted, so that Resume continues exactly. It runs after the
// hooks that write the epoch's other files (best model, log, curves): the state is what
// says an epoch is done, so a run killed before it is written resumes by doing that epoch
// again, and writes them all.
func checkpointHook() Hook {
	return Hook{Name: "checkpoint", Priority: 75,
		EndEpoch: func(l *Loop) error { return l.checkpoint() },
		End: func(l *Loop, err error) error {
			if err != nil && !errors.Is(err, ErrInterrupted) {
				return nil
			}
			return l.checkpoint()
		},
	}
}

// checkpoint writes the last model and the run's state.
func (l *Loop) checkpoint() error {
	l.st.Schedule = *l.sched
	l.st.OptSteps = l.opt.Steps
	if err := weights.Save(l.Paths.Last, l.Model, l.meta()); err != nil {
		return err
	}
	return saveState(l.Paths.State, l.st, l.opt, l.Model)
}

// meta is what a model file of the run records beside the weights: how to prepare its
// input, how it was trained, and the mask values of its classes.
func (l *Loop) meta() weights.Meta {
	o, st := l.Options, l.st
	rec := map[string]any{
		"data": st.Key.Data, "epochs": len(st.History), "steps": st.Steps, "time_s": math.Round(st.Elapsed),
		"best_val_dice": st.BestDice, "best_epoch": st.BestEpoch, "batch": l.Batch, "crop": l.Crop,
		"loss": o.Loss, "optimizer": o.Optimizer, "lr": o.LR, "schedule": o.Schedule, "augment": o.Augment,
		"seed": o.Seed, "date": time.Now().UTC().Format(time.RFC3339),
	}
	// Added later, and only when used, so that the records of plain runs stay as they were.
	if o.ClassCrops > 0 {
		rec["class_crops"] = o.ClassCrops
	}
	if l.ClassWeights != nil {
		rec["class_weights"] = l.ClassWeights
	}
	if o.Plan != nil {
		rec["plan"] = o.Plan
	}
	pp := map[string]any{"scale": "1/255 (1/65535 for 16-bit)", "channels": l.Model.Config.InChannels, "pad": "reflect to a multiple of 2^depth, crop back"}
	if f := o.Downsample; f > 1 {
		rec["downsample"] = f
		pp["downsample"] = f // what predict reads (weights.Meta.Downsample)
	}
	tr, _ := json.Marshal(rec)
	pre, _ := json.Marshal(pp)
	return weights.Meta{Preprocess: pre, Train: tr, Classes: l.Data.Classes, Fold: l.foldRecord()}
}

// foldRecord is what the model file records of the run's fold: nil without one.
func (l *Loop) foldRecord() *weights.FoldRecord {
	if l.Options.Fold.IsZero() {
		return nil
	}
	held := make([]string, 0, len(l.Data.Val))
	for _, p := range l.Data.Val {
		held = append(held, p.Name)
	}
	slices.Sort(held)
	return &weights.FoldRecord{Fold: l.Options.Fold, Seed: l.Options.Seed, HeldOut: held}
}
