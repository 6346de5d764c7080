// Package parallel splits loops over the cores: the convolution bands, the GEMM panels, the
// per-channel ops, the optimiser's update and the data-set scan all go through it.
// (Pipelines whose results are consumed in order while later items are still running, as
// the data loader's, are another idea and keep their own goroutines.)
//
// A loop runs on the calling goroutine plus workers-1 goroutines started for it, which end
// with the loop: Go reuses finished goroutines, so starting one costs about as much as
// waking a parked worker would, no goroutine outlives the call, and loops nest freely (a
// worker may run a loop of its own without waiting on a shared pool). The bookkeeping of
// a call comes from a free list, so a loop allocates nothing of its own in the steady
// state (the closure passed in is the caller's).
//
// The package decides which worker runs what, never the order of a reduction: callers that
// sum partial results add them up in a fixed order after the loop. For and ForWorker hand
// items to whichever worker is free, so a partial sum per item is repeatable but one per
// worker is not; Do and Range give each worker a fixed share.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Workers is the number of goroutines a loop is split over when it takes the whole
// machine: one per core the Go scheduler runs on (GOMAXPROCS), the project's one knob for
// the threads of its computations.
func Workers() int { return runtime.GOMAXPROCS(0) }

// Do runs f(w) for each worker w in [0, workers), worker 0 on the calling goroutine, and
// returns when every one has returned. workers below 2 runs f(0) alone.
func Do(workers int, f func(w int)) {
	if workers < 2 {
		f(0)
		return
	}
	l := get()
	l.body = f
	l.run(workers)
}

// For calls f(i) for every i in [0, n) on up to workers goroutines, the calling one among
// them. Indices are handed out one at a time as workers come free, so items of uneven cost
// even out; the order in which they run is unspecified.
func For(n, workers int, f func(i int)) {
	workers = min(workers, n)
	if workers < 2 {
		for i := range n {
			f(i)
		}
		return
	}
	l := get()
	l.n, l.each = n, f
	l.run(workers)
}

// ForWorker is For where f also learns w, the worker running it, in [0, min(workers, n)):
// for scratch buffers of one worker's own. Which items a worker gets varies from run to run.
func ForWorker(n, workers int, f func(w, i int)) {
	workers = min(workers, n)
	if workers < 2 {
		for i := range n {
			f(0, i)
		}
		return
	}
	l := get()
	l.n, l.eachW = n, f
	l.run(workers)
}

// Range splits [0, n) into up to workers contiguous ranges of equal length (the last one
// shorter) and runs f on each, the first on the calling goroutine.
func Range(n, workers int, f func(lo, hi int)) {
	workers = min(workers, n)
	if workers < 2 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	l := get()
	l.n, l.span = n, f
	l.step = (n + workers - 1) / workers
	l.run((n + l.step - 1) / l.step)
}

// loop is the state of one call. Exactly one of body, each, eachW and span is set.
type loop struct {
	n, step int
	body    func(w int)
	each    func(i int)
	eachW   func(w, i int)
	span    func(lo, hi int)

	next   atomic.Int64 // the next index For hands out
	joined atomic.Int64 // workers started so far, the caller not counted
	wg     sync.WaitGroup
	start  func() // l.helper, made once per loop so that each go statement allocates nothing
}

// free holds loops for reuse: the go statement and the atomics need their state on the heap.
var free = sync.Pool{New: func() any {
	l := new(loop)
	l.start = l.helper
	return l
}}

func get() *loop { return free.Get().(*loop) }

// run starts workers-1 helpers, works as worker 0, waits for the helpers and puts l back.
// A WaitGroup may be reused once Wait has returned, and no helper touches l after Done.
func (l *loop) run(workers int) {
	l.wg.Add(workers - 1)
	for range workers - 1 {
		go l.start()
	}
	l.work(0)
	l.wg.Wait()
	l.n, l.step, l.body, l.each, l.eachW, l.span = 0, 0, nil, nil, nil, nil
	l.next.Store(0)
	l.joined.Store(0)
	free.Put(l)
}

func (l *loop) helper() {
	l.work(int(l.joined.Add(1)))
	l.wg.Done()
}

func (l *loop) work(w int) {
	switch {
	case l.body != nil:
		l.body(w)
	case l.span != nil:
		lo := w * l.step
		l.span(lo, min(lo+l.step, l.n))
	default:
		for {
			i := int(l.next.Add(1)) - 1
			if i >= l.n {
				return
			}
			if l.each != nil {
				l.each(i)
			} else {
				l.eachW(w, i)
			}
		}
	}
}
