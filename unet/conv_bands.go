package unet

import (
	"sync"

	"github.com/segment-dev/segment/internal/parallel"
)

// A convolution runs in bands of output rows. Each band's columns matrix (im2col) is about
// a megabyte, so it is still in the core's cache when the GEMM reads it, and the scratch
// memory a convolution needs stays at a few megabytes per core whatever the image size: a
// whole-image columns matrix of a 64-channel 256x256 layer alone is 151 MB. (Wide stride-1
// convolutions have no columns matrix at all: conv_pad.go.)

// bandFloats is the size a band's columns matrix aims at: about a core's L2 cache. (A
// variable so that tests can cut small images into many bands.)
var bandFloats = 1 << 18

// minBandCols keeps bands wide enough that the GEMM's per-call cost (packing the weights)
// stays small beside its arithmetic when the columns matrix is tall.
var minBandCols = 256

// bandPlan is how one convolution over a batch is cut: rows output rows per band, per bands
// per image, run on workers cores side by side (1: one band at a time, each split over the
// cores).
type bandPlan struct {
	rows, per, workers int
	scratch            int // floats of scratch each worker needs
	// fixed gives worker wk the bands wk, wk+workers, ... instead of the next band free:
	// for partial sums per worker, which must group the bands the same way on every run
	// for the result to be the same bit for bit.
	fixed bool
}

// plan cuts the convolution of n images into bands. Bands are at least K rows high, so that
// the input rows two bands apart never overlap (what lets col2im run bands side by side).
func (g convGeom) plan(n int) bandPlan {
	r := bandFloats / max(1, g.rows()*g.OW)
	r = min(max(r, (minBandCols+g.OW-1)/g.OW, g.K), g.OH)
	p := bandPlan{rows: r, per: (g.OH + r - 1) / r, workers: 1}
	if !g.direct() {
		p.scratch = g.rows() * r * g.OW
	}
	// Side by side only with a few bands per core to even out; else each GEMM splits better.
	if w := parallel.Workers(); w > 1 && n*p.per >= 2*w {
		p.workers = w
	}
	return p
}

// runBands calls f for every band [oy0, oy1) of every image img of the batch, with the
// plan's scratch for the band (nil for a 1x1 convolution, which needs none) and wk, the
// index of the worker running it. par tells f to split its own work over the cores (bands
// then run one at a time). With phased, bands of even index run before bands of odd index,
// so no two bands running at once add into the same input rows.
func runBands[T float](g convGeom, n int, p bandPlan, phased bool, f func(wk, img, oy0, oy1 int, cols []T, par bool)) {
	phases := 1
	if phased && p.workers > 1 && p.per > 1 {
		phases = 2
	}
	// One scratch buffer per worker, borrowed once for all phases.
	scratch := make([][]T, min(p.workers, n*p.per))
	if p.scratch > 0 {
		for wk := range scratch {
			scratch[wk] = borrow[T](p.scratch)
		}
		defer release(scratch...)
	}
	items := make([]int, 0, n*p.per)
	for ph := 0; ph < phases; ph++ {
		items = items[:0]
		for img := 0; img < n; img++ {
			for b := ph; b < p.per; b += phases {
				items = append(items, img*p.per+b)
			}
		}
		band := func(wk, i int) {
			img, b := items[i]/p.per, items[i]%p.per
			oy0 := b * p.rows
			f(wk, img, oy0, min(oy0+p.rows, g.OH), scratch[wk], p.workers == 1)
		}
		if !p.fixed {
			parallel.ForWorker(len(items), p.workers, band)
			continue
		}
		parallel.Do(len(scratch), func(wk int) {
			for i := wk; i < len(items); i += len(scratch) {
				band(wk, i)
			}
		})
	}
}

// mm is gemm split over the cores when par is set, and on the calling goroutine otherwise.
func mm[T float](par, transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if par {
		gemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
		return
	}
	gemmSerial(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

// epilogue is what a convolution applies to each band of its output while the band is still
// in cache, instead of in passes of its own over the whole tensor: y = y*scale + shift per
// channel (scale nil: 1; shift nil: 0), then max(y, 0) with relu.
type epilogue[T float] struct {
	scale, shift []T
	relu         bool
}

// apply runs the epilogue on channel ch's part of one band.
func (e *epilogue[T]) apply(row []T, ch int) { e.applyTo(row, row, ch) }

// applyTo writes the epilogue of channel ch's part of one band, src, into dst (which may
// be src): one pass that reads src and writes dst, where a copy and then apply would pass
// over the band twice.
func (e *epilogue[T]) applyTo(dst, src []T, ch int) {
	if e.scale == nil && e.shift == nil && !e.relu {
		copy(dst, src)
		return
	}
	a, b := T(1), T(0)
	if e.scale != nil {
		a = e.scale[ch]
	}
	if e.shift != nil {
		b = e.shift[ch]
	}
	affineRelu(dst, src, a, b, e.relu)
}

// convForward computes the convolution y [n, co, OH*OW] of x [n, C, H, W] with w [co, C*K*K],
// then the epilogue ep (if not nil).
func convForward[T float](g convGeom, co, n int, x, w, y []T, ep *epilogue[T]) {
	if algo := winogradFor(g, co, n); algo != algoDirect {
		convWinograd(algo, g, co, n, x, w, y, ep)
		return
	}
	big, small := g.C*g.H*g.W, co*g.cols()
	if paddedConv[T](g) {
		ep32, _ := any(ep).(*epilogue[float32])
		x32, w32, y32 := any(x).([]float32), any(w).([]float32), any(y).([]float32)
		p := g.planPadded(n, co)
		runBands(g, n, p, false, func(_, i, oy0, oy1 int, buf []T, par bool) {
			b := any(buf).([]float32)
			pg := g.pad(oy1 - oy0)
			xp, yp := b[:g.C*pg.rows*pg.PW], b[g.C*pg.rows*pg.PW:]
			convBandPadded(g, co, x32[i*big:(i+1)*big], w32, y32[i*small:(i+1)*small], oy0, oy1-oy0, xp, yp, ep32, par)
		})
		return
	}
	runBands(g, n, g.plan(n), false, func(_, i, oy0, oy1 int, cols []T, par bool) {
		xi, yi := x[i*big:(i+1)*big], y[i*small:(i+1)*small]
		bc, off := (oy1-oy0)*g.OW, oy0*g.OW
		b, ldb := bandColumns(g, xi, cols, oy0, oy1, par)
		mm(par, false, false, co, bc, g.rows(), w, g.rows(), b, ldb, 0, yi[off:], g.cols())
		if ep != nil {
			for ch := 0; ch < co; ch++ {
				ep.apply(yi[ch*g.cols()+off:][:bc], ch)
			}
		}
	})
}

// bandColumns gives the columns matrix of output rows [oy0, oy1) of image xi and its row
// stride: written into cols by im2col, or, for a 1x1 convolution, the image itself.
func bandColumns[T float](g convGeom, xi, cols []T, oy0, oy1 int, par bool) ([]T, int) {
	if g.direct() {
		return xi[oy0*g.OW:], g.cols()
	}
	im2col(g, xi, cols, oy0, oy1, par)
	return cols, (oy1 - oy0) * g.OW
}

// convData computes the gradient with respect to the convolution's input (which is also the
// transposed convolution's forward pass): dx [n, C, H, W] from dy [n, co, OH*OW], plus a bias
// per input channel when bias is not nil (the transposed convolution's).
//
// With stride 1 it is itself a convolution, of dy with the weights flipped and transposed and
// padding K-1-P, which gathers each dx element once instead of scattering adds over it
// (col2im) and so needs no phases either. Where the kernel tiles the input exactly (K = S,
// no padding: the U-Net's 2x2 up-sampling), every dx element comes from one column entry,
// which col2im writes, bias included, without clearing dx first.
func convData[T float](g convGeom, co, n int, dy, w, dx, bias []T) {
	if g.S == 1 && !g.direct() && g.P <= g.K-1 {
		var ep *epilogue[T]
		if bias != nil {
			ep = &epilogue[T]{shift: bias}
		}
		gd := newConvGeom(co, g.OH, g.OW, g.K, 1, g.K-1-g.P)
		if algo := winogradFor(gd, g.C, n); algo != algoDirect {
			f, done := winoFiltersFor(algo, co, g.C, w, true)
			defer done()
			convWinogradWith(algo, gd, g.C, n, dy, f, dx, ep)
			return
		}
		kk := g.K * g.K
		wf := borrow[T](len(w))
		defer release(wf)
		for o := 0; o < co; o++ {
			for c := 0; c < g.C; c++ {
				src := w[(o*g.C+c)*kk : (o*g.C+c+1)*kk]
				dst := wf[(c*co+o)*kk : (c*co+o+1)*kk]
				for i, v := range src {
					dst[kk-1-i] = v
				}
			}
		}
		convForward(gd, g.C, n, dy, wf, dx, ep)
		return
	}
	big, small := g.C*g.H*g.W, co*g.cols()
	tiled := !g.direct() && g.K == g.S && g.P == 0 && g.H == g.OH*g.S && g.W == g.OW*g.S
	if !g.direct() && !tiled {
		parallelRange(len(dx), func(lo, hi int) { clear(dx[lo:hi]) })
	}
	runBands(g, n, g.plan(n), !tiled, func(_, i, oy0, oy1 int, cols []T, par bool) {
		dxi, dyi := dx[i*big:(i+1)*big], dy[i*small:(i+1)*small]
		bc, off := (oy1-oy0)*g.OW, oy0*g.OW
		if g.direct() {
			mm(par, true, false, g.rows(), bc, co, w, g.rows(), dyi[off:], g.cols(), 0, dxi[off:], g.cols())
			return
		}
		mm(par, true, false, g.rows(), bc, co, w, g.rows(), dyi[off:], g.cols(), 0, cols, bc)
		col2im(g, cols, dxi, oy0, oy1, par, tiled, bias)
	})
	if bias != nil && !tiled {
		addChannelBias(dx, bias, n, g.C)
	}
}

// convFilter computes the gradient with respect to the weight, dw [co, C*K*K], from the input
// x [n, C, H, W] and the output gradient dy [n, co, OH*OW], summed over the batch. Bands
// running side by side each add into their own copy of dw, summed at the end in worker
// order; each worker has a fixed share of the bands, so the sums are the same on every run.
func convFilter[T float](g convGeom, co, n int, x, dy, dw []T) {
	big, small := g.C*g.H*g.W, co*g.cols()
	p := g.plan(n)
	p.fixed = true
	acc := make([][]T, p.workers)
	acc[0] = dw
	for i := 1; i < len(acc); i++ {
		acc[i] = borrow[T](len(dw))
		clear(acc[i])
	}
	defer release(acc[1:]...)
	clear(dw)
	runBands(g, n, p, false, func(wk, i, oy0, oy1 int, cols []T, par bool) {
		xi, dyi := x[i*big:(i+1)*big], dy[i*small:(i+1)*small]
		bc, off := (oy1-oy0)*g.OW, oy0*g.OW
		b, ldb := bandColumns(g, xi, cols, oy0, oy1, par)
		mm(par, false, true, co, g.rows(), bc, dyi[off:], g.cols(), b, ldb, 1, acc[wk], g.rows())
	})
	for _, a := range acc[1:] {
		addTo(dw, a)
	}
}

// scratchFree holds the buffers ops borrow for the length of one Do. A plain free list
// rather than a sync.Pool: the pool empties at every garbage collection, and the next step
// would allocate its buffers again.
var scratchFree struct {
	sync.Mutex
	f32 [][]float32
	f64 [][]float64
}

// borrow takes a buffer of n elements (its contents are garbage) from the free list, or
// makes one. When none is big enough, the biggest smaller one is dropped, so the list never
// holds more buffers than were ever out at once.
func borrow[T float](n int) []T {
	scratchFree.Lock()
	defer scratchFree.Unlock()
	switch l := any(&scratchFree.f32).(type) {
	case *[][]T:
		return take(l, n)
	}
	return take(any(&scratchFree.f64).(*[][]T), n)
}

func take[T float](l *[][]T, n int) []T {
	best, small := -1, -1
	for i, b := range *l {
		if cap(b) >= n && (best < 0 || cap(b) < cap((*l)[best])) {
			best = i
		}
		if cap(b) < n && (small < 0 || cap(b) > cap((*l)[small])) {
			small = i
		}
	}
	pick := best
	if pick < 0 {
		pick = small
	}
	var b []T
	if pick >= 0 {
		b = (*l)[pick]
		(*l)[pick] = (*l)[len(*l)-1]
		*l = (*l)[:len(*l)-1]
	}
	if cap(b) < n {
		b = make([]T, n)
	}
	return b[:n]
}

// release gives buffers back to the free list.
func release[T float](bufs ...[]T) {
	scratchFree.Lock()
	defer scratchFree.Unlock()
	l, ok := any(&scratchFree.f32).(*[][]T)
	if !ok {
		l = any(&scratchFree.f64).(*[][]T)
	}
	for _, b := range bufs {
		if b != nil {
			*l = append(*l, b)
		}
	}
}
