package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/plan"
	"github.com/segment-dev/segment/train"
)

// planCommand is the table entry of segment plan.
func planCommand() *command {
	return &command{
		name:  "plan",
		args:  "DIR",
		short: "print the training plan train would derive from a data set",
		long: `
Plan fingerprints a data set folder (image sizes, channels, classes with their
share of the pixels, typical object size and half-width, intensities) and
prints the plan segment train follows when its flags do not say otherwise:
resolution (downsample), crop, batch, depth, base channels, augmentation, class
crops, class weights and loss, each with the reason for it. segment train
--plan-only prints the same.`,
		flags: func(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
			readData := dataSetFlags(fs)
			budget := fs.Duration("time", 0, "the training time to plan for, e.g. 15m")
			return func(fs *flag.FlagSet, out, _ io.Writer) error {
				dir, o, err := readData(fs)
				if err != nil {
					return err
				}
				f, p, err := planFor(dir, o, *budget)
				if err != nil {
					return err
				}
				if err := f.Write(out); err != nil {
					return err
				}
				return p.Write(out)
			}
		},
	}
}

// planFor opens the data set, fingerprints it and plans a run of the given time on it. When
// only the plan fails, the fingerprint comes with the error.
func planFor(dir string, o dataset.Options, t time.Duration) (*plan.Fingerprint, *plan.Plan, error) {
	ds, err := dataset.Open(dir, o)
	if err != nil {
		return nil, nil, err
	}
	f, err := plan.Measure(ds)
	if err != nil {
		return nil, nil, err
	}
	p, err := plan.Make(f, plan.Budget{Time: t})
	return f, p, err
}

// plannedFlags are the flags of segment train whose values a plan chooses.
var plannedFlags = []string{"downsample", "crop", "batch", "depth", "base", "augment", "class-crops", "class-weights", "loss", "lr"}

// applyPlan sets the options that no flag set (set[name]) from the plan, and records the
// plan, with what was overridden, in o.Plan for the model file.
func applyPlan(p *plan.Plan, o *train.Options, set map[string]bool) {
	if !set["downsample"] {
		o.Downsample = p.Downsample
	}
	if !set["crop"] {
		o.Crop = p.Crop
	}
	if !set["batch"] {
		o.Batch = p.Batch
	}
	if !set["depth"] {
		o.Model.Depth = p.Depth
	}
	if !set["base"] {
		o.Model.BaseChannels = p.Base
	}
	if !set["augment"] {
		o.Augment = p.Augment
	}
	if !set["class-crops"] {
		o.ClassCrops = p.ClassCrops
	}
	if !set["class-weights"] {
		o.ClassWeights = p.ClassWeights
	}
	if !set["lr"] {
		o.LR = p.LR
	}
	if !set["loss"] {
		o.Loss = p.Loss
	}
	var overridden []string
	for _, name := range plannedFlags {
		if set[name] {
			overridden = append(overridden, name)
		}
	}
	o.Plan, _ = json.Marshal(struct {
		*plan.Plan
		Overridden []string `json:"overridden_by_flags,omitempty"`
	}{p, overridden})
}

// writePlan prints the plan and which of its choices the flags overrode.
func writePlan(w io.Writer, p *plan.Plan, set map[string]bool) error {
	if err := p.Write(w); err != nil {
		return err
	}
	for _, name := range plannedFlags {
		if set[name] {
			fmt.Fprintf(w, "  (--%s given: it overrides the plan)\n", name)
		}
	}
	return nil
}
