package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/segment-dev/segment/weights"
)

// builtInHooks are the hooks of every run, before the caller's Options.Hooks.
func builtInHooks(ctx context.Context, o Options) []Hook {
	hooks := []Hook{interruptHook(ctx, o.StopAfter)}
	if o.Time > 0 {
		hooks = append(hooks, budgetHook(o.Time))
	}
	hooks = append(hooks, finiteHook(), checkpointHook())
	if o.GradLog > 0 {
		hooks = append(hooks, gradLogHook())
	}
	return append(hooks, bestHook(), csvLogHook(), progressHook())
}

// interruptHook stops the run with a checkpoint when ctx is cancelled (Ctrl-C), or once
// stopAfter steps are done (0: never).
func interruptHook(ctx context.Context, stopAfter int) Hook {
	return Hook{Name: "interrupt", Priority: 10, BeforeStep: func(l *Loop) error {
		if ctx.Err() != nil || (stopAfter > 0 && l.Steps() >= stopAfter) {
			return ErrInterrupted
		}
		return nil
	}}
}

// budgetHook ends the run once its time budget is spent.
func budgetHook(budget time.Duration) Hook {
	return Hook{Name: "time budget", Priority: 20, BeforeStep: func(l *Loop) error {
		if l.Elapsed() >= budget.Seconds() {
			return ErrStop
		}
		return nil
	}}
}

// notFinite is the error of a run whose loss became NaN or infinite. Such a run ends
// without saving, but its gradient log is written and its progress bar closed, as for a
// run that stopped on purpose.
type notFinite struct{ msg string }

func (e *notFinite) Error() string { return e.msg }

// halted says whether a run that ended with err ended by design (finished, interrupted or
// stopped by its loss) rather than by a failure: the gradient log and the progress bar
// close only then.
func halted(err error) bool {
	var nf *notFinite
	return err == nil || errors.Is(err, ErrInterrupted) || errors.As(err, &nf)
}

// finiteHook stops the run, saving nothing, when the loss becomes NaN or infinite, and
// names the last model saved.
func finiteHook() Hook {
	return Hook{Name: "NaN stop", Priority: 30, Gradients: func(l *Loop) error {
		if v := l.Loss; math.IsNaN(v) || math.IsInf(v, 0) {
			return &notFinite{fmt.Sprintf("the loss became %v at epoch %d, step %d (learning rate %g may be too high); stopped without saving: the last good model is %s",
				v, l.Epoch+1, l.Step+1, l.LR, lastGood(l.Paths, l.st))}
		}
		return nil
	}}
}

func lastGood(p Paths, st *state) string {
	if len(st.History) == 0 {
		return "none (no epoch finished)"
	}
	return fmt.Sprintf("%s (epoch %d)", p.Last, len(st.History))
}

// bestHook saves the model of every epoch whose validation Dice beats the earlier ones,
// and, for a run without validation, the last model when the run finishes.
func bestHook() Hook {
	return Hook{Name: "best model", Priority: 60,
		EndEpoch: func(l *Loop) error {
			if !l.Best {
				return nil
			}
			return weights.Save(l.Paths.Best, l.Model, l.meta())
		},
		End: func(l *Loop, err error) error {
			if err != nil || !math.IsNaN(float64(l.st.BestDice)) {
				return nil
			}
			return weights.Save(l.Paths.Best, l.Model, l.meta())
		},
	}
}
