package parallel

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// The benchmarks time each loop against the pattern it replaced, on work small enough that
// the loop's own cost shows: go test ./internal/parallel -run - -bench . -benchtime 2000x

// oldChanFor is the pool of unet/kernels.go before this package: indices through a
// channel, the caller waiting on a second channel.
func oldChanFor(n, workers int, f func(i int)) {
	if workers <= 1 || n <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	workers = min(workers, n)
	next := make(chan int, n)
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	done := make(chan struct{})
	for w := 0; w < workers; w++ {
		go func() {
			for i := range next {
				f(i)
			}
			done <- struct{}{}
		}()
	}
	for w := 0; w < workers; w++ {
		<-done
	}
}

// oldBands is the pool of unet/conv_bands.go's runBands before this package: an atomic
// counter, the caller as worker 0, a WaitGroup.
func oldBands(n, workers int, f func(w, i int)) {
	var next atomic.Int64
	work := func(wk int) {
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return
			}
			f(wk, i)
		}
	}
	var wg sync.WaitGroup
	for wk := 1; wk < workers; wk++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(wk)
		}()
	}
	work(0)
	wg.Wait()
}

// oldSplit is the pool of train/optim.go before this package: one contiguous range per
// core, the first on the caller.
func oldSplit(n, w int, f func(lo, hi int)) {
	var wg sync.WaitGroup
	step := (n + w - 1) / w
	for lo := step; lo < n; lo += step {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, min(lo+step, n))
		}()
	}
	f(0, min(step, n))
	wg.Wait()
}

// work is a few hundred nanoseconds of arithmetic that the compiler cannot drop.
func work(x []float32) {
	for i := range x {
		x[i] = x[i]*0.999 + 0.001
	}
}

func BenchmarkFor(b *testing.B) {
	w := runtime.GOMAXPROCS(0)
	for _, n := range []int{w, 64} {
		bufs := make([][]float32, n)
		for i := range bufs {
			bufs[i] = make([]float32, 256)
		}
		f := func(i int) { work(bufs[i]) }
		b.Run(fmt.Sprintf("old/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				oldChanFor(n, w, f)
			}
		})
		b.Run(fmt.Sprintf("new/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				For(n, w, f)
			}
		})
	}
}

func BenchmarkForWorker(b *testing.B) {
	w := runtime.GOMAXPROCS(0)
	n := 4 * w
	bufs := make([][]float32, n)
	for i := range bufs {
		bufs[i] = make([]float32, 256)
	}
	f := func(_, i int) { work(bufs[i]) }
	b.Run("old", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			oldBands(n, w, f)
		}
	})
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			ForWorker(n, w, f)
		}
	})
}

func BenchmarkRange(b *testing.B) {
	w := runtime.GOMAXPROCS(0)
	x := make([]float32, 1<<15)
	f := func(lo, hi int) { work(x[lo:hi]) }
	b.Run("old", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			oldSplit(len(x), w, f)
		}
	})
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			Range(len(x), w, f)
		}
	})
}
