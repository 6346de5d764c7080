package parallel

import (
	"sync"
	"sync/atomic"
	"testing"
)

var shapes = []struct{ n, workers int }{
	{0, 4}, {1, 4}, {3, 1}, {3, 0}, {5, 2}, {7, 3}, {2, 8}, {100, 4}, {1000, 7},
}

// TestFor checks that every index runs exactly once, whatever the number of workers.
func TestFor(t *testing.T) {
	for _, s := range shapes {
		hits := make([]atomic.Int32, s.n)
		For(s.n, s.workers, func(i int) { hits[i].Add(1) })
		for i := range hits {
			if h := hits[i].Load(); h != 1 {
				t.Errorf("For(%d, %d): index %d ran %d times", s.n, s.workers, i, h)
			}
		}
	}
}

// TestForWorker checks that every index runs once, on a worker in [0, min(workers, n)),
// and that per-worker partial sums, added in worker order, give the exact total.
func TestForWorker(t *testing.T) {
	for _, s := range shapes {
		nw := max(1, min(s.workers, s.n))
		hits := make([]atomic.Int32, s.n)
		partial := make([]int64, nw)
		var bad atomic.Int32
		ForWorker(s.n, s.workers, func(w, i int) {
			if w < 0 || w >= nw {
				bad.Add(1)
				return
			}
			hits[i].Add(1)
			partial[w] += int64(i) // only worker w writes partial[w]
		})
		if b := bad.Load(); b > 0 {
			t.Errorf("ForWorker(%d, %d): %d calls with a worker index outside [0, %d)", s.n, s.workers, b, nw)
		}
		var sum int64
		for _, p := range partial {
			sum += p
		}
		if want := int64(s.n) * int64(s.n-1) / 2; sum != want {
			t.Errorf("ForWorker(%d, %d): sum of indices %d, want %d", s.n, s.workers, sum, want)
		}
		for i := range hits {
			if h := hits[i].Load(); h != 1 {
				t.Errorf("ForWorker(%d, %d): index %d ran %d times", s.n, s.workers, i, h)
			}
		}
	}
}

// TestRange checks that the ranges are contiguous, cover [0, n) once, number at most
// workers, and all have the length of the first but the last.
func TestRange(t *testing.T) {
	for _, s := range shapes {
		var mu sync.Mutex
		got := map[int]int{} // lo -> hi
		Range(s.n, s.workers, func(lo, hi int) {
			mu.Lock()
			got[lo] = hi
			mu.Unlock()
		})
		if s.n == 0 {
			if len(got) != 0 {
				t.Errorf("Range(0, %d) called f %d times", s.workers, len(got))
			}
			continue
		}
		if len(got) > max(1, s.workers) {
			t.Errorf("Range(%d, %d): %d ranges", s.n, s.workers, len(got))
		}
		step := got[0]
		for lo := 0; lo < s.n; {
			hi, ok := got[lo]
			if !ok || hi <= lo || hi > s.n {
				t.Errorf("Range(%d, %d): ranges %v do not tile [0, %d)", s.n, s.workers, got, s.n)
				break
			}
			if hi != s.n && hi-lo != step {
				t.Errorf("Range(%d, %d): range [%d, %d) is not %d long", s.n, s.workers, lo, hi, step)
			}
			lo = hi
		}
	}
}

// TestDo checks that each worker index runs exactly once.
func TestDo(t *testing.T) {
	for _, workers := range []int{0, 1, 2, 5, 16} {
		hits := make([]atomic.Int32, max(1, workers))
		Do(workers, func(w int) { hits[w].Add(1) })
		for w := range hits {
			if h := hits[w].Load(); h != 1 {
				t.Errorf("Do(%d): worker %d ran %d times", workers, w, h)
			}
		}
	}
}

// TestNested runs loops inside the workers of a loop, as a convolution band does with its
// per-channel work: every inner index must run once.
func TestNested(t *testing.T) {
	const outer, inner = 6, 50
	var hits [outer * inner]atomic.Int32
	For(outer, 3, func(i int) {
		For(inner, 4, func(j int) { hits[i*inner+j].Add(1) })
	})
	for k := range hits {
		if h := hits[k].Load(); h != 1 {
			t.Fatalf("index %d ran %d times", k, h)
		}
	}
}

// TestNoAllocs checks that a loop allocates nothing of its own once warm: the hot loops
// run on every layer of every step.
func TestNoAllocs(t *testing.T) {
	var sink atomic.Int64
	each := func(i int) { sink.Add(int64(i)) }
	eachW := func(w, i int) { sink.Add(int64(w + i)) }
	span := func(lo, hi int) { sink.Add(int64(hi - lo)) }
	body := func(w int) { sink.Add(int64(w)) }
	for name, f := range map[string]func(){
		"For":       func() { For(64, 4, each) },
		"ForWorker": func() { ForWorker(64, 4, eachW) },
		"Range":     func() { Range(1<<16, 4, span) },
		"Do":        func() { Do(4, body) },
	} {
		if a := testing.AllocsPerRun(200, f); a > 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, a)
		}
	}
}
