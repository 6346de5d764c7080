package train

import (
	"errors"
	"math"
	"sort"
	"time"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/killpoint"
	"github.com/segment-dev/segment/metrics"
	"github.com/segment-dev/segment/unet"
)

// ErrStop, returned by a hook's BeforeStep, ends a run early as if it had reached its end:
// the epoch in progress is scored and logged, and the run is marked finished. The time
// budget ends runs this way.
var ErrStop = errors.New("training stopped early")

// Hook is something a training run does besides taking steps: the progress bar, the logs,
// the checkpoints, the best model, the stops. Any of its functions may be nil.
//
// At every event the hooks run in increasing Priority; hooks of equal priority run in the
// order they were given. The built-in hooks are, in order: Ctrl-C and Options.StopAfter
// (priority 10), the time budget (20), the NaN stop (30), the gradient log (50), the best
// model (60), the CSV log and curves (70), the checkpoint (75: last, so that a state on disk
// means every file of its epoch is), and the progress bar with the log lines (80). An error
// from a hook ends the run with that error.
type Hook struct {
	Name     string // says what the hook is for, to a reader of the hook list; the loop does not use it
	Priority int

	// Start runs once before the first step, when the model has been made (or loaded, when
	// the run resumes). An error ends the run before any End runs.
	Start func(l *Loop) error
	// BeforeStep runs before each step. ErrInterrupted stops the run with a checkpoint that
	// Resume continues from; ErrStop ends it as finished.
	BeforeStep func(l *Loop) error
	// Gradients runs after each step's forward and backward pass, before the update:
	// Loop.Loss is the step's loss and Loop.Params hold the weights and their gradients.
	Gradients func(l *Loop) error
	// AfterStep runs after each update, with Loop.Steps counting it.
	AfterStep func(l *Loop) error
	// EndEpoch runs when an epoch ends, or a run ends inside one, after validation:
	// Loop.Record is the epoch and Loop.Best says whether its Dice is the best so far.
	EndEpoch func(l *Loop) error
	// End runs once as the run ends: err is nil when it finished (ErrStop included),
	// ErrInterrupted, or the error that ends it. While err is nil or ErrInterrupted, an
	// error from End ends the run with it and the later hooks' End do not run; otherwise
	// End's own error is dropped, since err says more.
	End func(l *Loop, err error) error
}

// Loop is a training run as its hooks see it: what it trains and where it stands. Hooks
// read it; only the loop moves it on.
type Loop struct {
	Options Options // the run's options, defaults filled in, Loss the name of the loss in use
	Paths   Paths
	Data    *dataset.Dataset
	Model   *unet.Model
	// Params are the weights the optimizer updates, in the order of Config.Params; from
	// Gradients to the update their G holds the step's gradient.
	Params        []Param
	Batch, Crop   int
	ClassWeights  []float64 // the loss's weight of each class; nil without
	StepsPerEpoch int
	TotalSteps    int // Options.Epochs times StepsPerEpoch; 0 when only time bounds the run

	// Epoch and Step place the step in progress, both from 0.
	Epoch, Step int
	Loss        float64 // the step's loss, from Gradients on
	LR          float64 // the step's learning rate
	Rate        float64 // images per second over the epoch so far, from AfterStep on

	Record Epoch // at EndEpoch: the epoch that ended, as the CSV log gets it
	Best   bool  // at EndEpoch: Record's validation Dice is the best so far

	st    *state
	opt   *Optimizer
	sched *Schedule
	val   scorer
	hooks []Hook
	start time.Time // of this process's part of the run
	base  float64   // seconds of training before it (a resumed run's earlier parts)
}

// scorer is validation as the loop needs it: the mean foreground Dice and IoU of the model
// now, NaN without validation images, and each class's Dice for a multi-class model.
type scorer interface {
	score() (dice, iou float64, perClass []metrics.Float, err error)
}

// Steps is the number of updates made so far, over all parts of a resumed run.
func (l *Loop) Steps() int { return l.st.Steps }

// Elapsed is the seconds of training so far, over all parts of a resumed run.
func (l *Loop) Elapsed() float64 { return l.base + time.Since(l.start).Seconds() }

// History is the record of every epoch done, over all parts of a resumed run.
func (l *Loop) History() []Epoch { return l.st.History }

// run calls the Start hooks, takes the steps, and calls the End hooks.
func (l *Loop) run(net *unet.Net, loader *dataset.Loader) error {
	sort.SliceStable(l.hooks, func(i, j int) bool { return l.hooks[i].Priority < l.hooks[j].Priority })
	for _, h := range l.hooks {
		if h.Start != nil {
			if err := h.Start(l); err != nil {
				return err
			}
		}
	}
	l.start, l.base = time.Now(), l.st.Elapsed
	return l.end(l.steps(net, loader))
}

// each calls event of every hook that has one, in order, and stops at the first error.
func (l *Loop) each(event func(Hook) func(*Loop) error) error {
	for _, h := range l.hooks {
		if f := event(h); f != nil {
			if err := f(l); err != nil {
				return err
			}
		}
	}
	return nil
}

// steps is the loop itself: a step for each batch, with its hooks.
func (l *Loop) steps(net *unet.Net, loader *dataset.Loader) error {
	st := l.st
	epochStart, epochImages := time.Now(), 0
	target := make([]float32, l.Batch*l.Crop*l.Crop)
	stopped := false
	for b := range loader.Batches() {
		l.Epoch, l.Step = b.Epoch, b.Step
		if err := l.each(func(h Hook) func(*Loop) error { return h.BeforeStep }); errors.Is(err, ErrStop) {
			stopped = true
			break
		} else if err != nil {
			return err
		}
		// The share of the run done: by steps, or by time, whichever ends it first.
		done := 0.0
		if l.TotalSteps > 0 {
			done = float64(st.Steps) / float64(l.TotalSteps)
		}
		if t := l.Options.Time; t > 0 {
			done = math.Max(done, l.Elapsed()/t.Seconds())
		}
		l.LR = l.sched.LR(done)
		for i, t := range b.Targets {
			target[i] = float32(t)
		}
		var err error
		if l.Loss, err = net.Step(b.Inputs, target); err != nil {
			return err
		}
		for i := range l.Params {
			l.Params[i].G = net.Grad(l.Params[i].Name)
		}
		if err := l.each(func(h Hook) func(*Loop) error { return h.Gradients }); err != nil {
			return err
		}
		l.opt.Step(l.Params, l.LR)
		st.Steps++
		st.LossSum += l.Loss
		st.LossCount++
		st.Epoch, st.Step = b.Epoch, b.Step+1
		epochImages += b.N
		l.Rate = float64(epochImages) / time.Since(epochStart).Seconds()
		if err := l.each(func(h Hook) func(*Loop) error { return h.AfterStep }); err != nil {
			return err
		}
		killpoint.Here("step")
		if b.Step == l.StepsPerEpoch-1 {
			st.Epoch, st.Step = b.Epoch+1, 0
			if err := l.endEpoch(); err != nil {
				return err
			}
			epochStart, epochImages = time.Now(), 0
		}
	}
	if err := loader.Err(); err != nil {
		return err
	}
	if stopped && st.LossCount > 0 {
		// The run ended inside an epoch: score and keep what it learned.
		l.Rate = float64(epochImages) / time.Since(epochStart).Seconds()
		return l.endEpoch()
	}
	return nil
}

// endEpoch validates, records the epoch, moves the schedule on and calls the EndEpoch
// hooks.
func (l *Loop) endEpoch() error {
	st := l.st
	elapsed := l.Elapsed() // the epoch's time leaves out its validation
	dice, iou, perClass, err := l.val.score()
	if err != nil {
		return err
	}
	l.Record = Epoch{Epoch: len(st.History) + 1, Steps: st.Steps, Time: math.Round(elapsed*10) / 10,
		Loss: st.LossSum / float64(max(st.LossCount, 1)), ValDice: metrics.Float(dice), ValIoU: metrics.Float(iou),
		LR: l.LR, Rate: math.Round(l.Rate*10) / 10, ClassDice: perClass}
	st.History = append(st.History, l.Record)
	st.LossSum, st.LossCount = 0, 0
	l.sched.EndEpoch(dice)
	l.Best = !math.IsNaN(dice) && (math.IsNaN(float64(st.BestDice)) || dice > float64(st.BestDice))
	if l.Best {
		st.BestDice, st.BestEpoch = metrics.Float(dice), l.Record.Epoch
	}
	st.Elapsed = elapsed
	return l.each(func(h Hook) func(*Loop) error { return h.EndEpoch })
}

// end settles the run's state and calls the End hooks.
func (l *Loop) end(err error) error {
	keep := err == nil || errors.Is(err, ErrInterrupted) // the run's state is worth saving
	if keep {
		l.st.Elapsed = l.Elapsed()
		l.st.Done = err == nil
	}
	for _, h := range l.hooks {
		if h.End == nil {
			continue
		}
		if e := h.End(l, err); e != nil && keep {
			return e
		}
	}
	return err
}
