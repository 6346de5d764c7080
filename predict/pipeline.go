package predict

import (
	"context"
	"fmt"
)

// Job is the work on one image around the network. Load runs on the decoding goroutine,
// Band on the inference goroutine for each finished band, and Finish (writing files,
// scoring) on the goroutine that called Run, so that the three overlap across images.
type Job interface {
	Load() (Source, error)
	Band(Band) error
	Finish() error
}

// Run predicts n images through a pipeline of three goroutines: job(i) makes image i's Job,
// whose Load decodes it while the image before it is being predicted and the one before
// that finished. done(i, err) is called for every image in order, on the calling goroutine,
// with the first error of its Load, prediction or Finish (nil on success); an image that
// fails does not stop the others. At most three images are in the pipeline at a time. When
// ctx is cancelled, Run stops, reports nothing more and returns ctx's error.
func (p *Predictor) Run(ctx context.Context, n int, job func(i int) Job, done func(i int, err error)) error {
	type item struct {
		i   int
		job Job
		src Source
		err error
	}
	loaded, predicted := make(chan item), make(chan item)
	go func() {
		defer close(loaded)
		for i := 0; i < n && ctx.Err() == nil; i++ {
			it := item{i: i, job: job(i)}
			it.err = safely(func() (err error) { it.src, err = it.job.Load(); return err })
			select {
			case loaded <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		defer close(predicted)
		for it := range loaded {
			if it.err == nil {
				it.err = safely(func() error { return p.Predict(ctx, it.src, it.job.Band) })
			}
			it.src = Source{} // let the decoded image go as soon as it is predicted
			select {
			case predicted <- it:
			case <-ctx.Done():
			}
		}
	}()
	for it := range predicted {
		if ctx.Err() != nil {
			continue // drain: the goroutines are stopping
		}
		if it.err == nil {
			it.err = safely(it.job.Finish)
		}
		done(it.i, it.err)
	}
	return ctx.Err()
}

// safely runs f, turning a panic (a decoder's on a malformed file, say) into the error of
// this one image instead of the end of the program.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return f()
}
