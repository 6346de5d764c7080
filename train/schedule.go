package train

import (
	"fmt"
	"math"
)

// Schedule kinds.
const (
	Cosine  = "cosine"
	Plateau = "plateau"
	Fixed   = "none"
)

// Schedule sets the learning rate as training goes on. Its fields are its whole state, so
// that a resumed run continues with the same rates.
type Schedule struct {
	Kind string
	Base float64 // the starting rate
	Min  float64 // cosine's end and plateau's floor
	// Plateau: halve the rate after Patience epochs without a better validation score.
	Patience int
	Factor   float64
	Current  float64 // plateau's rate now
	Best     float64 // plateau's best score so far; -1 before the first (scores are Dice, in [0, 1])
	Bad      int     // epochs since it improved
}

// NewSchedule makes a schedule of the given kind starting at base: cosine decays to 1% of
// base over the run; plateau multiplies the rate by 0.5 after 5 epochs without a better
// validation Dice, down to 1% of base; none keeps base.
func NewSchedule(kind string, base float64) (*Schedule, error) {
	if !(base > 0) {
		return nil, fmt.Errorf("learning rate %g must be positive", base)
	}
	s := &Schedule{Kind: kind, Base: base, Min: base / 100, Patience: 5, Factor: 0.5, Current: base, Best: -1}
	switch kind {
	case Cosine, Plateau, Fixed:
		return s, nil
	}
	return nil, fmt.Errorf("unknown schedule %q (want cosine, plateau or none)", kind)
}

// LR is the rate at the given fraction of the run done (0 at the start, 1 at the end).
func (s *Schedule) LR(done float64) float64 {
	switch s.Kind {
	case Cosine:
		done = math.Min(math.Max(done, 0), 1)
		return s.Min + 0.5*(s.Base-s.Min)*(1+math.Cos(math.Pi*done))
	case Plateau:
		return s.Current
	}
	return s.Base
}

// EndEpoch tells the schedule an epoch's validation score (higher is better; NaN when there
// is no validation, which plateau then ignores).
func (s *Schedule) EndEpoch(score float64) {
	if s.Kind != Plateau || math.IsNaN(score) {
		return
	}
	if score > s.Best+1e-4 {
		s.Best, s.Bad = score, 0
		return
	}
	s.Bad++
	if s.Bad >= s.Patience {
		s.Current = math.Max(s.Current*s.Factor, s.Min)
		s.Bad = 0
	}
}
