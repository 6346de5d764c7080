package unet

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// withConvMode runs f with SEGMENT_CONV's setting replaced by mode.
func withConvMode(mode string, f func()) {
	defer func(m string) { convMode = m }(convMode)
	convMode = mode
	f()
}

// randConv makes an input of n images and weights for a 3x3 convolution from C to co
// channels, as float32 and the same values as float64.
func randConv(seed int64, n, c, h, w, co int) (x32, w32 []float32, x64, w64 []float64) {
	rng := rand.New(rand.NewSource(seed))
	x32, w32 = make([]float32, n*c*h*w), make([]float32, co*c*9)
	x64, w64 = make([]float64, len(x32)), make([]float64, len(w32))
	for i := range x32 {
		x32[i] = float32(rng.Float64()*2 - 1)
		x64[i] = float64(x32[i])
	}
	for i := range w32 {
		w32[i] = float32(rng.NormFloat64() * math.Sqrt(2/float64(9*c)))
		w64[i] = float64(w32[i])
	}
	return
}

// relErr is ||got - want|| / ||want||.
func relErr[T float](got []T, want []float64) float64 {
	var d, n float64
	for i, v := range want {
		e := float64(got[i]) - v
		d += e * e
		n += v * v
	}
	return math.Sqrt(d / n)
}

// flipT is the weight of a 3x3 convolution's input gradient, as a convolution of its own:
// w [co, C, 3, 3] flipped in space, its channel axes swapped, [C, co, 3, 3].
func flipT(w []float64, co, c int) []float64 {
	f := make([]float64, len(w))
	for o := 0; o < co; o++ {
		for ci := 0; ci < c; ci++ {
			for k := 0; k < 9; k++ {
				f[(ci*co+o)*9+8-k] = w[(o*c+ci)*9+k]
			}
		}
	}
	return f
}

var winoAlgos = []struct {
	name string
	algo convAlgo
}{{"winograd", algoWino2}, {"winograd4", algoWino4}}

// TestWinogradOddSizes checks both Winograd algorithms against the textbook loops on sides
// that are not multiples of the tile (odd, 1, 2, 3) and on 1, 3 and 17 channels, forward
// and input gradient, with and without an epilogue, in one band and in bands of one tile
// row, on one and two cores. In float64, where Winograd is exact up to rounding, it must
// agree to 1e-12; in float32 within a few float32 roundings.
func TestWinogradOddSizes(t *testing.T) {
	defer func(f, t int) { winoBandFloats, minWinoTiles = f, t }(winoBandFloats, minWinoTiles)
	for _, tc := range []struct{ n, c, h, w, co int }{
		{1, 1, 1, 1, 1}, {2, 1, 1, 5, 3}, {1, 3, 2, 2, 1}, {1, 3, 3, 3, 17}, {2, 17, 3, 7, 3},
		{3, 3, 7, 5, 17}, {1, 17, 9, 13, 17}, {2, 1, 11, 2, 5}, {1, 5, 6, 1, 2}, {2, 4, 16, 16, 8},
	} {
		x32, w32, x64, w64 := randConv(int64(tc.n*1000+tc.h*10+tc.w), tc.n, tc.c, tc.h, tc.w, tc.co)
		ref, _, _ := naiveConv(x64, w64, nil, tc.n, tc.c, tc.h, tc.w, tc.co, 3, 1, 1)
		// The input gradient of that convolution for an output gradient dy.
		dy32, _, dy64, _ := randConv(7, tc.n, tc.co, tc.h, tc.w, 1)
		dxRef, _, _ := naiveConv(dy64, flipT(w64, tc.co, tc.c), nil, tc.n, tc.co, tc.h, tc.w, tc.c, 3, 1, 1)
		ep := &epilogue[float32]{scale: make([]float32, tc.co), shift: make([]float32, tc.co), relu: true}
		for i := range ep.scale {
			ep.scale[i], ep.shift[i] = float32(i%3)+0.5, float32(i%5)*0.1-0.2
		}
		hw := tc.h * tc.w
		for _, a := range winoAlgos {
			for _, procs := range []int{1, 2} {
				for _, small := range []bool{false, true} {
					name := fmt.Sprintf("%+v/%s/procs=%d/small=%v", tc, a.name, procs, small)
					func() {
						defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
						winoBandFloats, minWinoTiles = 1<<20, 256
						if small {
							winoBandFloats, minWinoTiles = 1, 1
						}
						g := newConvGeom(tc.c, tc.h, tc.w, 3, 1, 1)
						y64 := make([]float64, len(ref))
						convWinograd(a.algo, g, tc.co, tc.n, x64, w64, y64, nil)
						if e := relErr(y64, ref); e > 1e-12 {
							t.Errorf("%s: float64 relative error %.3g", name, e)
						}
						tol := 2e-6
						if a.algo == algoWino4 {
							tol = 2e-5
						}
						y32 := make([]float32, len(ref))
						convWinograd(a.algo, g, tc.co, tc.n, x32, w32, y32, nil)
						if e := relErr(y32, ref); e > tol {
							t.Errorf("%s: float32 relative error %.3g", name, e)
						}
						// The epilogue must be what ep.apply does to the plain output.
						yEp := make([]float32, len(ref))
						convWinograd(a.algo, g, tc.co, tc.n, x32, w32, yEp, ep)
						for i := 0; i < tc.n*tc.co; i++ {
							ep.apply(y32[i*hw:(i+1)*hw], i%tc.co)
						}
						if !slices.Equal(yEp, y32) {
							t.Errorf("%s: the output with the epilogue is not the epilogue of the output", name)
						}
						withConvMode(a.name, func() {
							dx := make([]float32, len(dxRef))
							convData(g, tc.co, tc.n, dy32, w32, dx, nil)
							if e := relErr(dx, dxRef); e > tol {
								t.Errorf("%s: input gradient, float32 relative error %.3g", name, e)
							}
						})
					}()
				}
			}
		}
	}
}

// benchLayers gives the 3x3 convolutions of the U-Net (depth 4) of the bench configuration
// (base, size, batch), as (channels in, channels out, side), forward, with the input
// gradients among them read as convolutions from out to in.
func benchLayers(base, size int) [][3]int {
	var l [][3]int
	for lv := 0; lv <= 4; lv++ {
		c, s := base<<lv, size>>lv
		in := 1
		if lv > 0 {
			in = c / 2
		}
		l = append(l, [3]int{in, c, s}, [3]int{c, c, s})
		if lv < 4 {
			l = append(l, [3]int{2 * c, c, s})
		}
	}
	return l
}

// TestWinogradBenchShapes runs every 3x3 layer of the three bench configurations, forward
// and input gradient, by F(2x2) and F(4x4), against the float32 direct path and, on the first
// four output channels, against the float64 direct path, and logs the relative errors (-v
// shows them). F(2x2), what auto uses, must stay within 3 times the direct path's own
// error against float64 plus 1e-7; F(4x4) within 2e-5.
func TestWinogradBenchShapes(t *testing.T) {
	for _, cfg := range [][3]int{{16, 128, 4}, {32, 256, 2}, {64, 256, 1}} {
		base, size, n := cfg[0], cfg[1], cfg[2]
		for _, l := range benchLayers(base, size) {
			for _, grad := range []bool{false, true} {
				c, co, s := l[0], l[1], l[2]
				if grad {
					if c == 1 {
						continue // the input image has no gradient
					}
					c, co = co, c
				}
				x32, w32, x64, w64 := randConv(int64(c*co+s), n, c, s, s, co)
				g := newConvGeom(c, s, s, 3, 1, 1)
				sub := min(co, 4)
				ref := make([]float64, n*sub*s*s)
				withConvMode("direct", func() { convForward(g, sub, n, x64, w64[:sub*c*9], ref, nil) })
				direct := make([]float32, n*co*s*s)
				withConvMode("direct", func() { convForward(g, co, n, x32, w32, direct, nil) })
				part := func(y []float32) []float32 {
					p := make([]float32, 0, len(ref))
					for i := 0; i < n; i++ {
						p = append(p, y[i*co*s*s:][:sub*s*s]...)
					}
					return p
				}
				eDirect := relErr(part(direct), ref)
				direct64 := make([]float64, len(direct))
				for i, v := range direct {
					direct64[i] = float64(v)
				}
				line := fmt.Sprintf("base %d %dx%d batch %d: %4d -> %4d at %3d (grad %v): direct %.2e", base, size, size, n, c, co, s, grad, eDirect)
				for _, a := range winoAlgos {
					y := make([]float32, len(direct))
					convWinograd(a.algo, g, co, n, x32, w32, y, nil)
					e := relErr(part(y), ref)
					line += fmt.Sprintf(", %s %.2e (vs direct %.2e)", a.name, e, relErr(y, direct64))
					if a.algo == algoWino2 && e > 3*eDirect+1e-7 || a.algo == algoWino4 && e > 2e-5 {
						t.Errorf("%s: %s's error %.3g too large", line, a.name, e)
					}
				}
				t.Log(line)
			}
		}
	}
}

// TestWinogradGuardBands writes the output into the middle of a buffer full of canaries and
// requires every canary to survive: a row or tile written past the image's end would show.
func TestWinogradGuardBands(t *testing.T) {
	defer func(f, t int) { winoBandFloats, minWinoTiles = f, t }(winoBandFloats, minWinoTiles)
	const guard = 64
	canary := float32(math.Float32frombits(0x7fc0dead))
	for _, tc := range []struct{ n, c, h, w, co int }{{1, 3, 5, 7, 4}, {2, 2, 9, 3, 3}, {1, 17, 2, 33, 5}} {
		for _, a := range winoAlgos {
			for _, small := range []bool{false, true} {
				winoBandFloats, minWinoTiles = 1<<20, 256
				if small {
					winoBandFloats, minWinoTiles = 1, 1
				}
				x32, w32, _, _ := randConv(3, tc.n, tc.c, tc.h, tc.w, tc.co)
				buf := make([]float32, tc.n*tc.co*tc.h*tc.w+2*guard)
				for i := range buf {
					buf[i] = canary
				}
				y := buf[guard : len(buf)-guard]
				convWinograd(a.algo, newConvGeom(tc.c, tc.h, tc.w, 3, 1, 1), tc.co, tc.n, x32, w32, y, nil)
				for i, v := range buf {
					inside := i >= guard && i < len(buf)-guard
					if inside == (math.Float32bits(v) == math.Float32bits(canary)) {
						t.Fatalf("%+v %s small=%v: element %d of the buffer (guard %d) is %v", tc, a.name, small, i, guard, v)
					}
				}
			}
		}
	}
}

// TestWinogradIsRepeatable runs a Winograd convolution cut into bands side by side on four
// cores again and again: every run must give the same bits.
func TestWinogradIsRepeatable(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	defer func(f, t int) { winoBandFloats, minWinoTiles = f, t }(winoBandFloats, minWinoTiles)
	winoBandFloats, minWinoTiles = 1, 1
	g := newConvGeom(8, 20, 18, 3, 1, 1)
	x32, w32, _, _ := randConv(5, 3, 8, 20, 18, 6)
	if p := planWino(g, newWinoGeom(algoWino2, g), 3, 6); p.workers < 2 {
		t.Fatalf("plan %+v: want bands side by side", p)
	}
	first := make([]float32, 3*6*20*18)
	convWinograd(algoWino2, g, 6, 3, x32, w32, first, nil)
	y := make([]float32, len(first))
	for run := range 30 {
		convWinograd(algoWino2, g, 6, 3, x32, w32, y, nil)
		if !slices.Equal(y, first) {
			t.Fatalf("run %d differs from the first", run+2)
		}
	}
}

// TestConvMode checks SEGMENT_CONV's values and the choice they make.
func TestConvMode(t *testing.T) {
	if _, err := parseConvMode("fast"); err == nil || !strings.Contains(err.Error(), "SEGMENT_CONV") {
		t.Errorf("SEGMENT_CONV=fast: error %v, want one naming the variable", err)
	}
	g3, g1, gs := newConvGeom(64, 32, 32, 3, 1, 1), newConvGeom(64, 32, 32, 1, 1, 0), newConvGeom(64, 32, 32, 3, 2, 1)
	for _, tc := range []struct {
		mode  string
		g     convGeom
		n     int
		share int // autoFilterShare; 0 leaves memory out of the choice
		want  convAlgo
	}{
		{"direct", g3, 1, 4, algoDirect}, {"winograd", g3, 1, 4, algoWino2}, {"winograd4", g3, 1, 4, algoWino4},
		{"winograd", g1, 1, 4, algoDirect}, {"winograd", gs, 1, 4, algoDirect}, {"winograd4", gs, 1, 4, algoDirect},
		{"auto", g3, 1, 0, algoDirect}, {"auto", gs, 1, 0, algoDirect},
		// The tiles: 16x16 of them on a side of 31, 15x15 on 30.
		{"auto", newConvGeom(128, 32, 32, 3, 1, 1), 1, 0, algoWino2},
		{"auto", newConvGeom(128, 31, 31, 3, 1, 1), 1, 0, algoWino2}, {"auto", newConvGeom(128, 30, 30, 3, 1, 1), 1, 0, algoDirect},
		// The filters' share: 16*128*128 floats against a quarter of 2*128*64*64 (equal),
		// 2*128*63*63 or two images of 32x32.
		{"auto", newConvGeom(128, 64, 64, 3, 1, 1), 1, 4, algoWino2}, {"auto", newConvGeom(128, 63, 63, 3, 1, 1), 1, 4, algoDirect},
		{"auto", newConvGeom(128, 32, 32, 3, 1, 1), 2, 4, algoDirect}, {"auto", newConvGeom(128, 32, 32, 3, 1, 1), 4, 4, algoWino2},
	} {
		m, err := parseConvMode(tc.mode)
		if err != nil {
			t.Fatal(err)
		}
		withConvMode(m, func() {
			defer func(s int) { autoFilterShare = s }(autoFilterShare)
			autoFilterShare = tc.share
			if got := winogradFor(tc.g, 128, tc.n); got != tc.want {
				t.Errorf("SEGMENT_CONV=%s on %+v, %d images, filters' share %d: %v, want %v", tc.mode, tc.g, tc.n, tc.share, got, tc.want)
			}
		})
	}
	// With auto's rule off, auto is the direct path on every shape, the largest included.
	defer func(a bool) { autoWinograd = a }(autoWinograd)
	autoWinograd = false
	if got := winogradFor(newConvGeom(128, 256, 256, 3, 1, 1), 128, 8); got != algoDirect {
		t.Errorf("auto with its rule off on a 128-channel layer: %v, want the direct path", got)
	}
}

// TestWinograd2Transforms requires F(2x2)'s written-out transforms to give the same bits as
// the general ones, which add the same terms in the same order.
func TestWinograd2Transforms(t *testing.T) {
	defer func(f, t int) { winoBandFloats, minWinoTiles = f, t }(winoBandFloats, minWinoTiles)
	for _, small := range []bool{false, true} {
		winoBandFloats, minWinoTiles = 1<<20, 256
		if small {
			winoBandFloats, minWinoTiles = 1, 1
		}
		for _, tc := range []struct{ n, c, h, w, co int }{{1, 3, 1, 1, 2}, {2, 5, 7, 9, 3}, {1, 4, 16, 2, 6}} {
			g := newConvGeom(tc.c, tc.h, tc.w, 3, 1, 1)
			x, w, _, _ := randConv(11, tc.n, tc.c, tc.h, tc.w, tc.co)
			want, got := make([]float32, tc.n*tc.co*tc.h*tc.w), make([]float32, tc.n*tc.co*tc.h*tc.w)
			resetWinoCache()
			winoGeneric = true
			convWinograd(algoWino2, g, tc.co, tc.n, x, w, want, nil)
			resetWinoCache()
			winoGeneric = false
			convWinograd(algoWino2, g, tc.co, tc.n, x, w, got, nil)
			if !slices.Equal(got, want) {
				t.Errorf("%+v small=%v: the written-out transforms differ from the general ones", tc, small)
			}
		}
	}
}

// TestWinogradCache checks the transformed filters' cache: a pass after the weights changed
// in place must give what a pass with no cache gives, never the old weights' output, and the
// input gradient read from the forward's transform (F(2x2)) must be that of the flipped
// filters, for both algorithms, with the cache on and off.
func TestWinogradCache(t *testing.T) {
	defer func(f int) { winoCacheFloats = f }(winoCacheFloats)
	const n, c, h, w, co = 2, 5, 9, 7, 4
	g := newConvGeom(c, h, w, 3, 1, 1)
	for _, a := range winoAlgos {
		for _, size := range []int{1 << 24, 0} {
			winoCacheFloats = size
			resetWinoCache()
			x32, w32, _, w64 := randConv(21, n, c, h, w, co)
			dy32, _, dy64, _ := randConv(22, n, co, h, w, 1)
			before := make([]float32, n*co*h*w)
			convWinograd(a.algo, g, co, n, x32, w32, before, nil)
			// Change one weight by one ulp, in place.
			w32[7] = math.Nextafter32(w32[7], 1)
			w64[7] = float64(w32[7])
			after := make([]float32, len(before))
			convWinograd(a.algo, g, co, n, x32, w32, after, nil)
			fresh := make([]float32, len(before))
			resetWinoCache()
			convWinograd(a.algo, g, co, n, x32, append([]float32(nil), w32...), fresh, nil)
			if !slices.Equal(after, fresh) {
				t.Errorf("%s, cache of %d floats: after a weight changed, the output differs from an uncached pass", a.name, size)
			}
			if slices.Equal(after, before) {
				t.Errorf("%s, cache of %d floats: the output did not change with the weight", a.name, size)
			}
			dxRef, _, _ := naiveConv(dy64, flipT(w64, co, c), nil, n, co, h, w, c, 3, 1, 1)
			dx := make([]float32, len(dxRef))
			withConvMode(a.name, func() { convData(g, co, n, dy32, w32, dx, nil) })
			if e := relErr(dx, dxRef); e > 2e-5 {
				t.Errorf("%s, cache of %d floats: input gradient relative error %.3g", a.name, size, e)
			}
		}
	}
}

// TestWinogradCacheBound fills a cache with room for one entry: a second weight tensor must
// not displace the first while the first is in use, must once the first has gone unused for
// winoCacheIdle lookups, and the cache must never hold more than its bound.
func TestWinogradCacheBound(t *testing.T) {
	defer func(f int, i uint64) { winoCacheFloats, winoCacheIdle = f, i }(winoCacheFloats, winoCacheIdle)
	const c, co = 3, 4
	_, w1, _, _ := randConv(31, 1, c, 1, 1, co)
	_, w2, _, _ := randConv(32, 1, c, 1, 1, co)
	winoCacheFloats, winoCacheIdle = len(w1)+len(w1)/9*16, 3
	resetWinoCache()
	has := func(w []float32) bool {
		winoCache.Lock()
		defer winoCache.Unlock()
		if winoCache.floats > winoCacheFloats {
			t.Fatalf("the cache holds %d floats, more than its bound %d", winoCache.floats, winoCacheFloats)
		}
		for k := range winoCache.m {
			if k.w == uintptr(unsafe.Pointer(&w[0])) {
				return true
			}
		}
		return false
	}
	get := func(w []float32) {
		_, done := winoFiltersFor(algoWino2, co, c, w, false)
		done()
	}
	get(w1)
	get(w2)
	if !has(w1) || has(w2) {
		t.Fatalf("after w1, w2: cached w1 %v, w2 %v; want w1 alone", has(w1), has(w2))
	}
	get(w2)
	get(w2)
	get(w2)
	if has(w1) || !has(w2) {
		t.Fatalf("after w1 went unused for %d lookups: cached w1 %v, w2 %v; want w2 alone", winoCacheIdle, has(w1), has(w2))
	}
}

// allocated is the bytes the process allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// leastPerStep runs step three times to warm up, then four times more, and gives the
// fewest bytes one of those four allocated: the scratch free list may still trade a buffer
// for a larger one in the first steps, while what a step leaves to the garbage collector
// at every run shows in each.
func leastPerStep(step func()) uint64 {
	for range 3 {
		step()
	}
	least := uint64(math.MaxUint64)
	for range 4 {
		least = min(least, allocated(step))
	}
	return least
}

// TestWinogradCacheRefillsInPlace changes the weights in place as an optimiser step does:
// the next lookup must transform them again into the entry's own memory, allocating next to
// nothing, and give what a fresh transform gives. While a call still reads an entry, a
// lookup with other bits must leave that memory alone and get a transform of its own.
func TestWinogradCacheRefillsInPlace(t *testing.T) {
	defer func(f int) { winoCacheFloats = f }(winoCacheFloats)
	winoCacheFloats = 1 << 24
	resetWinoCache()
	const c, co = 64, 48
	_, w, _, _ := randConv(41, 1, c, 1, 1, co)
	fresh := func() []float32 {
		u := make([]float32, 16*c*co)
		winoFilters(algoWino2, co, c, w, u)
		return u
	}
	f1, done := winoFiltersFor(algoWino2, co, c, w, false)
	done()
	w[5] = math.Nextafter32(w[5], 2)
	var f2 winoFilter[float32]
	var done2 func()
	bytes := allocated(func() { f2, done2 = winoFiltersFor(algoWino2, co, c, w, false) })
	if &f2.u[0] != &f1.u[0] {
		t.Errorf("after the weights changed in place, the transform is in new memory, not the entry's")
	}
	if limit := uint64(len(f2.u)) * 4 / 16; bytes > limit {
		t.Errorf("transforming changed weights again allocated %d bytes, want at most %d (the transform is %d)", bytes, limit, len(f2.u)*4)
	}
	want2 := fresh()
	if !slices.Equal(f2.u, want2) {
		t.Fatalf("the transform made again in place differs from a fresh one")
	}
	// f2 is still being read: other bits must not overwrite it.
	w[9] = math.Nextafter32(w[9], -2)
	f3, done3 := winoFiltersFor(algoWino2, co, c, w, false)
	if &f3.u[0] == &f2.u[0] {
		t.Errorf("a transform still in use was overwritten by a lookup with other weights")
	}
	if !slices.Equal(f2.u, want2) {
		t.Errorf("the transform in use changed under its reader")
	}
	if !slices.Equal(f3.u[:16*c*co], fresh()) {
		t.Errorf("the transform made beside the busy entry differs from a fresh one")
	}
	done3()
	done2()
}

// TestWinogradStepAllocates runs the convolutions of a training step again and again with
// the weights changed in place between steps (forward and input gradient by F(2x2), with
// the transform kept in the cache and, with no room there, made in borrowed memory): after
// a warm-up step nothing the size of a transform may be allocated. Allocating the
// transforms afresh at every step left them to the garbage collector, and the heap grew to
// twice what a step holds.
func TestWinogradStepAllocates(t *testing.T) {
	defer func(f int) { winoCacheFloats = f }(winoCacheFloats)
	const n, c, h, w, co = 1, 32, 16, 16, 64
	g := newConvGeom(c, h, w, 3, 1, 1)
	x, wt, _, _ := randConv(43, n, c, h, w, co)
	dy, _, _, _ := randConv(44, n, co, h, w, 1)
	y, dx := make([]float32, n*co*h*w), make([]float32, n*c*h*w)
	transform := 16 * c * co * 4
	for _, size := range []int{1 << 24, 0} {
		winoCacheFloats = size
		resetWinoCache()
		withConvMode("winograd", func() {
			step := func() {
				convForward(g, co, n, x, wt, y, nil)
				convData(g, co, n, dy, wt, dx, nil)
				wt[size%7] = math.Nextafter32(wt[size%7], 1)
			}
			if per := leastPerStep(step); per > uint64(transform)/8 {
				t.Errorf("cache of %d floats: a step allocated %d bytes, want at most %d (a transform is %d)", size, per, transform/8, transform)
			}
		})
	}
}

// TestWinogradTrainStepMemory trains a small U-Net by F(2x2) wherever it applies and by the
// direct path, changing every weight in place between steps as the optimiser does: once
// warm, a Winograd step may allocate at most a quarter of its layers' transforms more
// than a direct step (what it does allocate more is closures, a few kilobytes). Transforms left to the garbage collector at every step doubled a
// base-64 step's peak memory.
func TestWinogradTrainStepMemory(t *testing.T) {
	defer func(f int) { winoCacheFloats = f }(winoCacheFloats)
	cfg := DefaultConfig()
	cfg.BaseChannels, cfg.Depth = 16, 2
	const n, h, w = 2, 16, 16
	x := randInput(n * h * w)
	target := make([]float32, len(x))
	for i, v := range x {
		if v > 0.5 {
			target[i] = 1
		}
	}
	var transforms int // floats of the transforms of the 3x3 layers
	for _, p := range cfg.Params() {
		if p.Kind == Weight && len(p.Shape) == 4 && p.Shape[2] == 3 {
			transforms += p.Shape[0] * p.Shape[1] * 16
		}
	}
	perStep := func(mode string) uint64 {
		var bytes uint64
		withConvMode(mode, func() {
			resetWinoCache()
			m, err := New(cfg, 3)
			if err != nil {
				t.Fatal(err)
			}
			net, err := NewTrainNet(m, n, h, w, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer net.Close()
			step := func() {
				if _, err := net.Step(x, target); err != nil {
					t.Fatal(err)
				}
				for _, p := range cfg.Params() {
					if d := m.Data(p.Name); len(d) > 0 {
						d[0] = math.Nextafter32(d[0], 1)
					}
				}
			}
			bytes = leastPerStep(step)
		})
		return bytes
	}
	for _, size := range []int{1 << 24, 0} {
		winoCacheFloats = size
		direct, wino := perStep("direct"), perStep("winograd")
		t.Logf("cache of %d floats: a step allocates %d bytes by the direct path, %d by Winograd; the transforms are %d", size, direct, wino, transforms*4)
		if limit := direct + uint64(transforms)*4/4; wino > limit {
			t.Errorf("cache of %d floats: a Winograd step allocates %d bytes, a direct one %d; want at most %d (the transforms are %d)", size, wino, direct, limit, transforms*4)
		}
	}
}

// TestWinogradCacheConcurrent looks up the transforms of two weight tensors from several
// goroutines at once, in a cache with room for one: every lookup must give the transform
// of its weights, whether from an entry, while another call fills it, or of its own.
func TestWinogradCacheConcurrent(t *testing.T) {
	defer func(f int, i uint64) { winoCacheFloats, winoCacheIdle = f, i }(winoCacheFloats, winoCacheIdle)
	const c, co = 16, 24
	_, w1, _, _ := randConv(51, 1, c, 1, 1, co)
	_, w2, _, _ := randConv(52, 1, c, 1, 1, co)
	winoCacheFloats, winoCacheIdle = len(w1)*25/9, 2
	resetWinoCache()
	want := map[*float32][]float32{}
	for _, w := range [][]float32{w1, w2} {
		u := make([]float32, 16*c*co)
		winoFilters(algoWino2, co, c, w, u)
		want[&w[0]] = u
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				w := w1
				if (g+i)%3 == 0 {
					w = w2
				}
				f, done := winoFiltersFor(algoWino2, co, c, w, false)
				ok := slices.Equal(f.u[:16*c*co], want[&w[0]])
				done()
				if !ok {
					errs <- fmt.Sprintf("goroutine %d, lookup %d: wrong transform", g, i)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	winoCache.Lock()
	defer winoCache.Unlock()
	for k, s := range winoCache.m {
		if s.users != 0 || s.filling {
			t.Errorf("entry %+v: %d readers and filling %v after every call is done", k, s.users, s.filling)
		}
	}
}

// BenchmarkWinogradTransforms times F(2x2)'s input and output transforms of one image
// alone, on one core, on shapes auto's rule takes:
// go test ./unet -run '^$' -bench WinogradTransforms -benchtime 50x -cpu 1
func BenchmarkWinogradTransforms(b *testing.B) {
	for _, sh := range []struct{ c, s int }{{128, 64}, {256, 32}, {512, 16}} {
		g := newConvGeom(sh.c, sh.s, sh.s, 3, 1, 1)
		wg := newWinoGeom(algoWino2, g)
		nt := wg.th * wg.tw
		x, _, _, _ := randConv(1, 1, sh.c, sh.s, sh.s, 1)
		v := make([]float32, 16*sh.c*nt)
		y := make([]float32, sh.c*sh.s*sh.s)
		tmp := make([]float32, wg.tmp())
		b.Run(fmt.Sprintf("input_c%d_%dx%d", sh.c, sh.s, sh.s), func(b *testing.B) {
			for range b.N {
				for c := 0; c < sh.c; c++ {
					winoInput2(wg, g, x[c*sh.s*sh.s:][:sh.s*sh.s], v[c*nt:], sh.c*nt, 0, wg.th, tmp)
				}
			}
		})
		b.Run(fmt.Sprintf("output_c%d_%dx%d", sh.c, sh.s, sh.s), func(b *testing.B) {
			for range b.N {
				for o := 0; o < sh.c; o++ {
					winoOutput2(wg, g, v[o*nt:], sh.c*nt, y[o*sh.s*sh.s:][:sh.s*sh.s], 0, wg.th, sh.s, tmp)
				}
			}
		})
	}
}

// TestWinogradInferenceMemory adds up what Winograd holds beside the direct path at
// inference on segment bench's shapes, as auto chooses it: the cache's entries of the
// layers it takes (the transform and a copy of the weights: 25 C co floats) and the
// amount by which its largest bands, one per core, exceed the direct path's largest (the
// scratch free list keeps the largest ever borrowed). It must stay within a tenth of the
// weights and the planned activations, what the direct path's inference holds; taking
// deep layers or wider bands would not.
func TestWinogradInferenceMemory(t *testing.T) {
	for _, s := range benchShapes[:3] {
		cfg := DefaultConfig()
		cfg.BaseChannels = s.base
		m, err := New(cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		net, err := NewInferNet(m, s.batch, s.size, s.size)
		if err != nil {
			t.Fatal(err)
		}
		net.Close()
		var weights int64
		for _, p := range cfg.Params() {
			weights += int64(len(m.Data(p.Name))) * 4
		}
		var cache, bands, direct int64
		var taken []string
		for _, l := range benchLayers(s.base, s.size) {
			c, co, side := l[0], l[1], l[2]
			g := newConvGeom(c, side, side, 3, 1, 1)
			p := g.plan(s.batch)
			if paddedConv[float32](g) {
				p = g.planPadded(s.batch, co)
			}
			direct = max(direct, int64(p.scratch*p.workers)*4)
			if winogradFor(g, co, s.batch) == algoDirect {
				continue
			}
			n := int64(1)
			if c == co && side > s.size>>4 {
				n = 2 // the encoder's second convolution and the decoder's
			}
			taken = append(taken, fmt.Sprintf("%dx %d->%d at %d", n, c, co, side))
			cache += n * 25 * int64(c*co) * 4
			p = planWino(g, newWinoGeom(algoWino2, g), s.batch, co)
			bands = max(bands, int64(p.scratch*p.workers)*4)
		}
		bands = max(0, bands-direct)
		budget := (weights + net.plan.Shared) / 10
		t.Logf("base %d %dx%d batch %d: Winograd on %v: cache %.1f MiB, bands %.1f MiB more; a tenth of weights and activations %.1f MiB",
			s.base, s.size, s.size, s.batch, taken, float64(cache)/(1<<20), float64(bands)/(1<<20), float64(budget)/(1<<20))
		if cache+bands > budget {
			t.Errorf("base %d %dx%d batch %d: Winograd holds %d bytes beside the direct path, more than a tenth (%d) of the weights and activations", s.base, s.size, s.size, s.batch, cache+bands, budget)
		}
	}
}
