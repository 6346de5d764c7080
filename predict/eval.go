package predict

import (
	"context"
	"fmt"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/metrics"
)

// MetricClasses describes c's classes for the scores: their mask values and names.
func MetricClasses(c dataset.Classes) []metrics.Class {
	out := make([]metrics.Class, len(c.Values))
	for i, v := range c.Values {
		out[i] = metrics.Class{Value: v, Name: c.Name(i)}
	}
	return out
}

// NewAccumulator makes the accumulator of scores that Evaluate and ScoreMasks fill for the
// classes c, ignoring what metricIgnore says.
func NewAccumulator(c dataset.Classes, policy metrics.EmptyPolicy) (*metrics.Accumulator, error) {
	return metrics.NewAccumulator(MetricClasses(c), metricIgnore(c), policy)
}

// metricIgnore is the class index package metrics leaves out for the classes c. It takes a
// non-negative ignore index, so when c ignores a value its pixels (dataset.IgnoreIndex) are
// given the index len(c.Values), past every class (see forMetrics); without one it is -1,
// which ignores nothing.
func metricIgnore(c dataset.Classes) int {
	if c.Ignore != nil {
		return len(c.Values)
	}
	return -1
}

// forMetrics moves dataset.IgnoreIndex to the ignore index metricIgnore gives, in place.
func forMetrics(idx []int32, classes int) {
	for i, v := range idx {
		if v < 0 {
			idx[i] = int32(classes)
		}
	}
}

// Evaluate predicts the pairs of d and adds the scores of each against its mask to acc
// (made by NewAccumulator for d.Classes, which must be the model's), through Run's
// pipeline: decoding the next pair and scoring the last overlap the prediction. done(i,
// err) is called for every pair in order.
func (p *Predictor) Evaluate(ctx context.Context, d *dataset.Dataset, pairs []dataset.Pair, acc *metrics.Accumulator, done func(i int, err error)) error {
	return p.EvaluateEach(ctx, d, pairs, acc, metrics.EmptyNaN, nil, done)
}

// Scored is one image as it was scored: the class-index maps of its ground truth and
// prediction (the ignored pixels given the index len(classes), past every class) and its
// scores, for those who show them (a report). The maps are the callee's to keep.
type Scored struct {
	Name          string
	Path          string // the image file, when there is one ("" for existing masks)
	Truth, Pred   []int32
	Width, Height int
	Result        metrics.ImageResult
}

// EvaluateEach is Evaluate that also hands each image's maps and scores to each (when not
// nil), on the goroutine that called it; policy must be the one acc was made with. An error
// of each is the image's error.
func (p *Predictor) EvaluateEach(ctx context.Context, d *dataset.Dataset, pairs []dataset.Pair, acc *metrics.Accumulator, policy metrics.EmptyPolicy, each func(Scored) error, done func(i int, err error)) error {
	cfg := p.model.Config
	if n := d.Classes.ModelClasses(); n != cfg.Classes {
		return fmt.Errorf("the data set has %d classes (%v), the model %d", len(d.Classes.Values), d.Classes, cfg.Classes)
	}
	if d.Channels != cfg.InChannels {
		return fmt.Errorf("the data set's images have %d channels, the model takes %d", d.Channels, cfg.InChannels)
	}
	job := func(i int) Job { return &evalJob{d: d, pair: pairs[i], acc: acc, policy: policy, each: each} }
	return p.Run(ctx, len(pairs), job, func(i int, err error) { done(i, named(pairs[i].Image, err)) })
}

// evalJob predicts one pair of a data set and scores it.
type evalJob struct {
	d    *dataset.Dataset
	pair dataset.Pair
	acc  *metrics.Accumulator
	// policy and each are EvaluateEach's: each, when not nil, is given the scored maps.
	policy metrics.EmptyPolicy
	each   func(Scored) error
	gt     []int32
	pred   []int32
	w, h   int
}

func (j *evalJob) Load() (Source, error) {
	s, err := j.d.Load(j.pair)
	if err != nil {
		return Source{}, err
	}
	j.gt = make([]int32, len(s.Mask)) // s.Mask may be the cache's: not changed in place
	copy(j.gt, s.Mask)
	forMetrics(j.gt, len(j.d.Classes.Values))
	j.w, j.h = s.W, s.H
	j.pred = make([]int32, s.W*s.H)
	return FromPlanes(s.Image, s.C, s.H, s.W), nil
}

func (j *evalJob) Band(b Band) error {
	Decide(b, j.pred[b.Y*b.Width:(b.Y+b.Rows)*b.Width])
	return nil
}

func (j *evalJob) Finish() error {
	defer func() { j.pred, j.gt = nil, nil }()
	if j.each == nil {
		return j.acc.Add(j.pair.Name, j.pred, j.gt, j.w, j.h)
	}
	c := j.d.Classes
	r, err := metrics.Evaluate(j.pair.Name, j.pred, j.gt, j.w, j.h, len(c.Values), metricIgnore(c), j.policy)
	if err != nil {
		return err
	}
	if err := j.acc.AddResult(r); err != nil {
		return err
	}
	return j.each(Scored{Name: j.pair.Name, Path: j.pair.Image, Truth: j.gt, Pred: j.pred, Width: j.w, Height: j.h, Result: r})
}
