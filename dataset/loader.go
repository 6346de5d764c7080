package dataset

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/segment-dev/segment/augment"
	"github.com/segment-dev/segment/internal/parallel"
)

// Batch is a batch of samples, ready for a training or evaluation step.
type Batch struct {
	Epoch, Step int // which epoch (from 0) and which step of it (from 0)
	N, C, H, W  int // samples, channels, height, width
	// Inputs holds the images, NCHW: channel c at (x, y) of sample n is at
	// ((n*C+c)*H+y)*W+x. Values are in [0, 1].
	Inputs []float32
	// Targets holds the class index of every pixel, NHW: (x, y) of sample n is at
	// (n*H+y)*W+x. Binary tasks have 0 and 1. IgnoreIndex marks pixels to skip.
	Targets []int32
	// Names holds the pair name of each sample.
	Names []string
}

// LoaderOptions says how a Loader makes batches. The zero value gives one whole image per
// batch, in order, not augmented, epoch after epoch.
type LoaderOptions struct {
	// BatchSize is the number of samples in a batch: 0 means 1.
	BatchSize int
	// Crop is the side of the square samples cut at random places from the images (an
	// image smaller than the crop is mirror-padded to it). 0 takes whole images, and
	// batches only images of the same size together.
	Crop int
	// ClassCrops is the share of crops centred on a pixel of a class drawn from the classes
	// present in the image (the foreground, for a binary task), weighted by rarity, so that
	// rare classes are seen (see DefaultClassCrops); the others are anywhere. 0 draws every
	// crop anywhere. It needs Crop.
	ClassCrops float64
	// Downsample shrinks every image and mask by this integer factor (augment.Shrink)
	// before it is cropped: a model then learns at a coarser resolution, seeing f*f times
	// the scene in a crop of the same cost. 0 and 1 keep the images as they are.
	Downsample int
	// Augment transforms every sample; nil leaves them as they are.
	Augment *augment.Pipeline
	// Shuffle draws a new order of the pairs every epoch.
	Shuffle bool
	// DropLast drops the last batch of an epoch when it is not full.
	DropLast bool
	// Epochs is the number of passes over the pairs before the batch channel closes:
	// 0 goes on until Close.
	Epochs int
	// Workers is the number of goroutines that build batches: 0 means GOMAXPROCS.
	Workers int
	// Prefetch is the number of batches built ahead of the consumer: 0 means twice Workers.
	Prefetch int
	// Seed makes the order, the crops and the augmentations: the same seed gives the same
	// batches, however many workers build them.
	Seed uint64
	// StartEpoch and StartStep make the loader begin at that step of that epoch, with the
	// batches an uninterrupted loader would give there: how training resumes exactly. Epochs
	// still counts from 0.
	StartEpoch, StartStep int
}

// Loader builds batches of samples in background goroutines and hands them out, in a
// fixed order, on a channel.
type Loader struct {
	d     *Dataset
	pairs []Pair
	o     LoaderOptions
	steps int
	index []classIndex // where each pair's classes are, for class crops; nil without them

	out    chan *Batch
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
}

// NewLoader starts a Loader over pairs (usually d.Train or d.Val). Close it when done.
func (d *Dataset) NewLoader(pairs []Pair, o LoaderOptions) (*Loader, error) {
	counts := []struct {
		name string
		v    int
	}{{"BatchSize", o.BatchSize}, {"Crop", o.Crop}, {"Epochs", o.Epochs}, {"Workers", o.Workers}, {"Prefetch", o.Prefetch},
		{"StartEpoch", o.StartEpoch}, {"StartStep", o.StartStep}}
	for _, c := range counts {
		if c.v < 0 {
			return nil, fileError(d.Dir, fmt.Errorf("%w: %s is %d: want 0 or more", ErrBadOptions, c.name, c.v))
		}
	}
	switch {
	case len(pairs) == 0:
		return nil, fileError(d.Dir, fmt.Errorf("%w: no pairs to load", ErrBadOptions))
	case !(o.ClassCrops >= 0 && o.ClassCrops <= 1):
		return nil, fileError(d.Dir, fmt.Errorf("%w: class crops %g is not a share in [0, 1]", ErrBadOptions, o.ClassCrops))
	case o.ClassCrops > 0 && o.Crop == 0:
		return nil, fileError(d.Dir, fmt.Errorf("%w: class crops need a crop size", ErrBadOptions))
	case o.Downsample < 0 || o.Downsample > augment.MaxShrink:
		return nil, fileError(d.Dir, fmt.Errorf("%w: downsample %d is not a factor from 1 to %d", ErrBadOptions, o.Downsample, augment.MaxShrink))
	}
	o.BatchSize = max(o.BatchSize, 1)
	if o.Workers == 0 {
		o.Workers = parallel.Workers()
	}
	if o.Prefetch == 0 {
		o.Prefetch = 2 * o.Workers
	}
	l := &Loader{d: d, pairs: pairs, o: o, out: make(chan *Batch)}
	if o.ClassCrops > 0 {
		var err error
		if l.index, err = d.indexClasses(pairs, o.Workers, o.Downsample); err != nil {
			return nil, err
		}
	}
	l.steps = len(l.plan(0))
	if l.steps == 0 {
		return nil, fileError(d.Dir, fmt.Errorf("%w: %d pairs make no full batch of %d", ErrBadOptions, len(pairs), o.BatchSize))
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	type result struct {
		b   *Batch
		err error
	}
	type job struct {
		epoch, step int
		idx         []int
		res         chan result
	}
	order := make(chan chan result, o.Prefetch)
	jobs := make(chan job)
	l.wg.Add(2 + o.Workers)
	go func() { // producer: hands out jobs, and their result slots in order
		defer l.wg.Done()
		defer close(jobs)
		defer close(order)
		for epoch := o.StartEpoch; o.Epochs == 0 || epoch < o.Epochs; epoch++ {
			for step, idx := range l.plan(epoch) {
				if epoch == o.StartEpoch && step < o.StartStep {
					continue
				}
				res := make(chan result, 1)
				select {
				case order <- res:
				case <-ctx.Done():
					return
				}
				select {
				case jobs <- job{epoch, step, idx, res}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	for range o.Workers {
		go func() {
			defer l.wg.Done()
			for j := range jobs {
				b, err := l.build(j.epoch, j.step, j.idx)
				j.res <- result{b, err}
			}
		}()
	}
	go func() { // emitter: passes results on in order, stopping at the first error
		defer l.wg.Done()
		defer close(l.out)
		for res := range order {
			var r result
			select {
			case r = <-res:
			case <-ctx.Done():
				return
			}
			if r.err != nil {
				l.mu.Lock()
				l.err = r.err
				l.mu.Unlock()
				cancel()
				return
			}
			select {
			case l.out <- r.b:
			case <-ctx.Done():
				return
			}
		}
	}()
	return l, nil
}

// Batches gives the channel of ready batches. It is closed after the last epoch, after an
// error (see Err), or on Close.
func (l *Loader) Batches() <-chan *Batch { return l.out }

// Err gives the error that stopped the loader early, if any: an *Error naming the file.
func (l *Loader) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Close stops the loader and waits for its goroutines. It returns Err.
func (l *Loader) Close() error {
	l.cancel()
	for range l.out { // unblock and drain
	}
	l.wg.Wait()
	return l.Err()
}

// StepsPerEpoch is the number of batches in an epoch.
func (l *Loader) StepsPerEpoch() int { return l.steps }

// plan gives the batches of an epoch, as indices into l.pairs.
func (l *Loader) plan(epoch int) [][]int {
	n := len(l.pairs)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	var r *rand.Rand
	if l.o.Shuffle {
		r = rand.New(rand.NewPCG(l.o.Seed, uint64(epoch)))
		r.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	// Whole images batch by size; crops all have the same size.
	type size struct{ w, h int }
	var groups [][]int
	if l.o.Crop > 0 {
		groups = [][]int{order}
	} else {
		at := map[size]int{}
		for _, i := range order {
			s := size{l.pairs[i].Width, l.pairs[i].Height} // shrinking keeps equal sizes equal
			g, ok := at[s]
			if !ok {
				g = len(groups)
				at[s] = g
				groups = append(groups, nil)
			}
			groups[g] = append(groups[g], i)
		}
	}
	var batches [][]int
	for _, g := range groups {
		for len(g) > 0 {
			k := min(l.o.BatchSize, len(g))
			if k < l.o.BatchSize && l.o.DropLast {
				break
			}
			batches = append(batches, g[:k])
			g = g[k:]
		}
	}
	if r != nil && len(groups) > 1 {
		r.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
	}
	return batches
}

// build makes the batch of pairs idx, the step-th of the epoch.
func (l *Loader) build(epoch, step int, idx []int) (*Batch, error) {
	first := l.pairs[idx[0]]
	b := &Batch{Epoch: epoch, Step: step, N: len(idx), C: l.d.Channels}
	if l.o.Crop > 0 {
		b.W, b.H = l.o.Crop, l.o.Crop
	} else {
		f := max(l.o.Downsample, 1)
		b.W, b.H = augment.ShrunkSize(first.Width, f), augment.ShrunkSize(first.Height, f)
	}
	plane := b.H * b.W
	b.Inputs = make([]float32, b.N*b.C*plane)
	b.Targets = make([]int32, b.N*plane)
	b.Names = make([]string, b.N)
	r := rand.New(rand.NewPCG(l.o.Seed^0x6c6f6164, uint64(epoch)<<32|uint64(step)))
	for k, i := range idx {
		p := l.pairs[i]
		src, err := l.d.loadShrunk(p, l.o.Downsample)
		if err != nil {
			return nil, err
		}
		dst := &augment.Sample{C: b.C, H: b.H, W: b.W,
			Image: b.Inputs[k*b.C*plane : (k+1)*b.C*plane],
			Mask:  b.Targets[k*plane : (k+1)*plane]}
		b.Names[k] = p.Name
		if l.o.Crop > 0 {
			var ci *classIndex
			if l.index != nil {
				ci = &l.index[i]
			}
			x0, y0 := cropAt(r, ci, l.o.ClassCrops, src.W, src.H, b.W, b.H)
			l.o.Augment.ApplyAt(r, dst, src, x0, y0)
			continue
		}
		l.o.Augment.ApplyAt(r, dst, src, 0, 0)
	}
	return b, nil
}
