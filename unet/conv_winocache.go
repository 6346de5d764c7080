package unet

import (
	"math"
	"sync"
	"unsafe"
)

// Transforming the filters costs as much as the GEMMs on small images (an 8x8 layer of 256
// channels: 65,536 filters, a few hundred floating-point operations each, against 64 tiles
// of products), so each transform is kept and used again while the weights stay the same:
// across inference passes, and, in training, from the forward pass to the input gradient,
// whose flipped and transposed filters F(2x2) reads from the forward's transform (flipping
// a filter reverses the interpolation points 0, 1, -1, infinity, which only swaps the
// transform's first and last rows and columns).
//
// The weights change in place (the optimiser, loading a checkpoint, the loss landscape's
// steps), by code that knows nothing of this cache, so an entry is found by the weights'
// address and kept only while a copy of the weights it was made from still equals them, bit
// for bit. Comparing costs a pass over the weights, a small part of a transform.

// winoFilter is the transformed filters of a convolution from k to m channels as its GEMMs
// read them: position xi's matrix is u[perm[xi]*m*k:] (perm nil: xi), stored k x m (the
// forward's layout, trans) or m x k (a forward transform read for the input gradient).
type winoFilter[T float] struct {
	u     []T
	perm  []int
	trans bool
}

// a gives the GEMM operands of position xi for m output channels and k input channels.
func (f winoFilter[T]) a(xi, m, k int) (a []T, trans bool, lda int) {
	if f.perm != nil {
		xi = f.perm[xi]
	}
	if f.trans {
		return f.u[xi*m*k:], true, m
	}
	return f.u[xi*m*k:], false, k
}

// flip2 is the permutation of F(2x2)'s 16 positions that flipping the filter makes.
var flip2 = func() []int {
	s := [4]int{3, 1, 2, 0}
	p := make([]int, 16)
	for i := range 4 {
		for j := range 4 {
			p[i*4+j] = s[i]*4 + s[j]
		}
	}
	return p
}()

type winoKey struct {
	w     uintptr // the weights' first element
	n, co int
	algo  convAlgo
	flip  bool
}

type winoEntry[T float] struct{ w, u []T }

// winoSlot is one entry of the cache (a *winoEntry of the weights' type), its size in
// floats, the lookup count when it was last used, the calls reading its transform now, and
// whether one of them is writing it (then nobody else reads it).
type winoSlot struct {
	e       any
	size    int
	used    uint64
	users   int
	filling bool
}

// winoCache holds the transforms; floats counts the floats of their weights and
// transforms, and lookups the lookups so far.
var winoCache = struct {
	sync.Mutex
	m       map[winoKey]*winoSlot
	floats  int
	lookups uint64
}{m: map[winoKey]*winoSlot{}}

// winoCacheFloats bounds the cache (64 MiB of float32). A new entry that does not fit
// displaces only entries unused for winoCacheIdle lookups (those of weights no pass reads
// any more: a few training steps or inference passes of the largest U-Net); if that does
// not make room, it is not kept. Displacing in use order instead would, for weights read
// in a cycle longer than the cache holds, drop each entry just before it is needed.
var winoCacheFloats, winoCacheIdle = 1 << 24, uint64(256)

// The cache's memory is made once per entry and kept: when the weights change in place (a
// training step), their entry is transformed again into the same memory, and a transform
// that gets no entry is made in memory borrowed from the scratch free list, as the direct
// path's buffers are. Making a fresh transform at every step instead left the old ones to
// the garbage collector, which let the heap grow to twice what a step holds: a base-64
// training step's peak memory doubled.

// winoFiltersFor gives the transformed filters of the convolution with weights w [co, C, 3,
// 3], or with flip, of its input gradient (a convolution from co to C channels with w
// flipped and transposed), and done, to call when the GEMMs are over.
func winoFiltersFor[T float](algo convAlgo, co, c int, w []T, flip bool) (winoFilter[T], func()) {
	if flip && algo == algoWino2 {
		f, done := winoFiltersFor(algo, co, c, w, false)
		return winoFilter[T]{u: f.u, perm: flip2, trans: false}, done
	}
	key := winoKey{w: uintptr(unsafe.Pointer(&w[0])), n: len(w), co: co, algo: algo, flip: flip}
	a := algo.wino().a
	size := len(w) + a*a*len(w)/9
	fill := func(u []T) {
		if !flip {
			winoFilters(algo, co, c, w, u)
			return
		}
		wf := borrow[T](len(w))
		flipTranspose(co, c, w, wf)
		winoFilters(algo, c, co, wf, u)
		release(wf)
	}

	winoCache.Lock()
	winoCache.lookups++
	now := winoCache.lookups
	s := winoCache.m[key]
	var e *winoEntry[T]
	if s != nil && !s.filling {
		if e, _ = s.e.(*winoEntry[T]); e != nil {
			s.users++
			s.used = now
		}
	}
	winoCache.Unlock()
	if e != nil {
		done := func() {
			winoCache.Lock()
			s.users--
			winoCache.Unlock()
		}
		if sameBits(e.w, w) {
			return winoFilter[T]{u: e.u, trans: true}, done
		}
		// The weights changed in place: transform them again into the entry's memory,
		// unless another call is reading it.
		winoCache.Lock()
		mine := s.users == 1
		s.filling = mine
		winoCache.Unlock()
		if mine {
			fill(e.u)
			copy(e.w, w)
			winoCache.Lock()
			s.filling = false
			winoCache.Unlock()
			return winoFilter[T]{u: e.u, trans: true}, done
		}
		done()
	}

	winoCache.Lock()
	if s == nil && size <= winoCacheFloats && winoCache.floats+size > winoCacheFloats {
		for k, o := range winoCache.m {
			if o.users == 0 && now-min(now, o.used) >= winoCacheIdle {
				delete(winoCache.m, k)
				winoCache.floats -= o.size
			}
		}
	}
	if s != nil || winoCache.floats+size > winoCacheFloats {
		// No room, or the entry is busy with other weights' bits: a transform for
		// this call alone.
		winoCache.Unlock()
		u := borrow[T](a * a * len(w) / 9)
		fill(u)
		return winoFilter[T]{u: u, trans: true}, func() { release(u) }
	}
	// Room is taken before the memory is made, so that calls side by side never hold
	// more than the bound between them.
	s = &winoSlot{size: size, used: now, users: 1, filling: true}
	winoCache.m[key] = s
	winoCache.floats += size
	winoCache.Unlock()
	e = &winoEntry[T]{w: append([]T(nil), w...), u: make([]T, a*a*len(w)/9)}
	fill(e.u)
	winoCache.Lock()
	s.e, s.filling = e, false
	winoCache.Unlock()
	return winoFilter[T]{u: e.u, trans: true}, func() {
		winoCache.Lock()
		s.users--
		winoCache.Unlock()
	}
}

// flipTranspose writes w [co, C, 3, 3] flipped in space with its channel axes swapped into
// wf [C, co, 3, 3]: the weights of a stride-1 convolution's input gradient.
func flipTranspose[T float](co, c int, w, wf []T) {
	for o := 0; o < co; o++ {
		for ci := 0; ci < c; ci++ {
			src := w[(o*c+ci)*9:][:9]
			dst := wf[(ci*co+o)*9:][:9]
			for i, v := range src {
				dst[8-i] = v
			}
		}
	}
}

// sameBits says whether a and b hold the same bits (so a NaN equals itself, and 0 is not
// -0, either of which would otherwise let a stale transform through or refuse a good one).
func sameBits[T float](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	switch a := any(a).(type) {
	case []float32:
		b := any(b).([]float32)
		for i, v := range a {
			if math.Float32bits(v) != math.Float32bits(b[i]) {
				return false
			}
		}
	case []float64:
		b := any(b).([]float64)
		for i, v := range a {
			if math.Float64bits(v) != math.Float64bits(b[i]) {
				return false
			}
		}
	}
	return true
}

// resetWinoCache empties the cache (for tests that compare transforms).
func resetWinoCache() {
	winoCache.Lock()
	defer winoCache.Unlock()
	clear(winoCache.m)
	winoCache.floats = 0
}
