package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// rect paints class c on the rectangle x0 <= x < x1, y0 <= y < y1 of a w-wide map.
func rect(m []int32, w int, x0, y0, x1, y1 int, c int32) {
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			m[y*w+x] = c
		}
	}
}

// TestHD95Known checks HD95 on shapes whose surface distances are counted by hand.
func TestHD95Known(t *testing.T) {
	type paint struct{ x0, y0, x1, y1 int }
	tests := []struct {
		name     string
		w, h     int
		gt, pred []paint
		want     float64
	}{
		{
			// 4x4 squares at cols 2-5 and 4-7, rows 2-5: each outline has 12 pixels.
			// pred->gt: top and bottom rows 0 0 1 2, left column (col 4) 1 1, right
			// column (col 7) 2 2; gt->pred is the mirror image. The 24 sorted distances
			// are 8 zeros, 8 ones, 8 twos; index 0.95*23 = 21.85 lies among the twos.
			name: "squares 4 offset 2", w: 12, h: 12,
			gt:   []paint{{2, 2, 6, 6}},
			pred: []paint{{4, 2, 8, 6}},
			want: 2,
		},
		{
			// 6x6 squares offset 1: per direction top/bottom rows 0 0 0 0 0 1, the four
			// inner pixels of the inner column 1 each (its neighbour column is the other
			// outline), the outer column 1 each: 10 zeros, 10 ones. Index 0.95*39 = 37.05
			// of 20 zeros and 20 ones: 1.
			name: "squares 6 offset 1", w: 12, h: 10,
			gt:   []paint{{2, 2, 8, 8}},
			pred: []paint{{3, 2, 9, 8}},
			want: 1,
		},
		{
			// 6x6 squares offset 3: per direction top/bottom rows 0 0 0 1 2 3, inner
			// column 1 2 2 1 (nearer the top/bottom rows than the other column, 2 away),
			// outer column 3 3 3 3: 6 zeros, 4 ones, 4 twos, 6 threes. Both directions:
			// 12 zeros, 8 ones, 8 twos, 12 threes (indices 28-39); index 37.05: 3.
			name: "squares 6 offset 3", w: 16, h: 10,
			gt:   []paint{{2, 2, 8, 8}},
			pred: []paint{{5, 2, 11, 8}},
			want: 3,
		},
		{
			// The same offset vertically, to exercise the column pass.
			name: "squares 6 offset 3 vertical", w: 10, h: 16,
			gt:   []paint{{2, 2, 8, 8}},
			pred: []paint{{2, 5, 8, 11}},
			want: 3,
		},
		{
			// A line of 10 pixels on row 2 (every pixel is on the boundary) against its
			// first pixel: pred->gt 0; gt->pred 0 1 2 ... 9. Sorted 0 0 1 ... 9 (11 values):
			// index 0.95*10 = 9.5 between 8 and 9: 8.5.
			name: "pixel vs line end", w: 10, h: 5,
			gt:   []paint{{0, 2, 10, 3}},
			pred: []paint{{0, 2, 1, 3}},
			want: 8.5,
		},
		{
			// The pixel at col 5: gt->pred 5 4 3 2 1 0 1 2 3 4, pred->gt 0. Sorted
			// 0 0 1 1 2 2 3 3 4 4 5: index 9.5 between 4 and 5: 4.5.
			name: "pixel vs line middle", w: 10, h: 5,
			gt:   []paint{{0, 2, 10, 3}},
			pred: []paint{{5, 2, 6, 3}},
			want: 4.5,
		},
		{
			// Two pixels 3 down and 4 across: both distances 5.
			name: "pixel vs pixel 3-4-5", w: 6, h: 6,
			gt:   []paint{{0, 0, 1, 1}},
			pred: []paint{{4, 3, 5, 4}},
			want: 5,
		},
		{
			name: "pixel vs pixel diagonal", w: 3, h: 3,
			gt:   []paint{{0, 0, 1, 1}},
			pred: []paint{{1, 1, 2, 2}},
			want: math.Sqrt2,
		},
		{
			// A 5x5 square against its centre pixel: the 16 outline pixels are 2 or sqrt5
			// or sqrt8 from the centre (4 corners sqrt8, 8 at sqrt5, 4 at 2) and the centre
			// is 2 from the outline. Sorted: 2 x5, sqrt5 x8, sqrt8 x4 (17 values); index
			// 0.95*16 = 15.2 lies among the sqrt8s.
			name: "square vs centre", w: 7, h: 7,
			gt:   []paint{{1, 1, 6, 6}},
			pred: []paint{{3, 3, 4, 4}},
			want: math.Sqrt(8),
		},
		{
			name: "identical", w: 9, h: 7,
			gt:   []paint{{1, 1, 6, 4}, {2, 4, 8, 7}},
			pred: []paint{{1, 1, 6, 4}, {2, 4, 8, 7}},
			want: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gt := make([]int32, tc.w*tc.h)
			pred := make([]int32, tc.w*tc.h)
			for _, r := range tc.gt {
				rect(gt, tc.w, r.x0, r.y0, r.x1, r.y1, 1)
			}
			for _, r := range tc.pred {
				rect(pred, tc.w, r.x0, r.y0, r.x1, r.y1, 1)
			}
			for _, p := range []EmptyPolicy{EmptyNaN, EmptyOne} {
				if got := Hausdorff95(pred, gt, tc.w, tc.h, 1, -1, p); !same(got, tc.want) {
					t.Errorf("%v: HD95 = %v, want %v", p, got, tc.want)
				}
				// Symmetric.
				if got := Hausdorff95(gt, pred, tc.w, tc.h, 1, -1, p); !same(got, tc.want) {
					t.Errorf("%v: swapped HD95 = %v, want %v", p, got, tc.want)
				}
			}
			if got := bruteHD95(pred, gt, tc.w, tc.h, 1, -1, EmptyNaN); !same(got, tc.want) {
				t.Errorf("brute force HD95 = %v, want %v (the reference disagrees)", got, tc.want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		sq   []int64 // squared values, sorted
		q    float64
		want float64
	}{
		{[]int64{1, 4, 9, 16}, 0.95, 3.85}, // numpy.percentile([1,2,3,4], 95): index 2.85
		{[]int64{1, 4, 9, 16}, 0.5, 2.5},
		{[]int64{1, 4, 9, 16}, 0, 1},
		{[]int64{1, 4, 9, 16}, 1, 4},
		{[]int64{49}, 0.95, 7},
		{[]int64{0, 100}, 0.95, 9.5},
		{[]int64{0, 100}, 0.25, 2.5},
	}
	for _, tc := range tests {
		if got := percentileSq(tc.sq, tc.q); !same(got, tc.want) {
			t.Errorf("percentile %v of sqrt %v = %v, want %v", tc.q, tc.sq, got, tc.want)
		}
	}
}

// bruteHD95 is HD95 by definition: boundaries pixel by pixel, every pair of boundary pixels,
// the percentile by sorting the distances.
func bruteHD95(pred, gt []int32, w, h, class, ignore int, policy EmptyPolicy) float64 {
	ignored := func(i int) bool { return ignore >= 0 && int(gt[i]) == ignore }
	inP := func(x, y int) bool { i := y*w + x; return !ignored(i) && int(pred[i]) == class }
	inG := func(x, y int) bool { i := y*w + x; return !ignored(i) && int(gt[i]) == class }
	border := func(in func(x, y int) bool) (pts [][2]int) {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if !in(x, y) {
					continue
				}
				if x == 0 || y == 0 || x == w-1 || y == h-1 || !in(x-1, y) || !in(x+1, y) || !in(x, y-1) || !in(x, y+1) {
					pts = append(pts, [2]int{x, y})
				}
			}
		}
		return pts
	}
	a, b := border(inP), border(inG)
	if len(a) == 0 && len(b) == 0 {
		if policy == EmptyOne {
			return 0
		}
		return math.NaN()
	}
	if len(a) == 0 || len(b) == 0 {
		return math.NaN()
	}
	var d []float64
	nearest := func(from, to [][2]int) {
		for _, p := range from {
			best := math.Inf(1)
			for _, q := range to {
				best = math.Min(best, math.Hypot(float64(p[0]-q[0]), float64(p[1]-q[1])))
			}
			d = append(d, best)
		}
	}
	nearest(a, b)
	nearest(b, a)
	slices.Sort(d)
	vi := 0.95 * float64(len(d)-1)
	i := int(vi)
	j := min(i+1, len(d)-1)
	return d[i] + (d[j]-d[i])*(vi-float64(i))
}

// randomMask paints a few rectangles and discs of random classes and some noise.
func randomMask(r *rand.Rand, w, h, classes int) []int32 {
	m := make([]int32, w*h)
	for range r.IntN(4) {
		c := int32(r.IntN(classes))
		x0, y0 := r.IntN(w), r.IntN(h)
		rect(m, w, x0, y0, x0+1+r.IntN(w-x0), y0+1+r.IntN(h-y0), c)
	}
	for range r.IntN(3) {
		c := int32(r.IntN(classes))
		cx, cy, rad := r.IntN(w), r.IntN(h), 1+r.IntN(max(w, h)/2+1)
		for y := range h {
			for x := range w {
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= rad*rad {
					m[y*w+x] = c
				}
			}
		}
	}
	if r.IntN(2) == 0 {
		for range r.IntN(w*h/4 + 1) {
			m[r.IntN(w*h)] = int32(r.IntN(classes))
		}
	}
	return m
}

// TestHD95Brute compares HD95 with the brute-force definition on random small masks, with
// and without an ignore index, under both policies.
func TestHD95Brute(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const classes = 3
	trials := 600
	if testing.Short() {
		trials = 100
	}
	for trial := range trials {
		w, h := 1+r.IntN(24), 1+r.IntN(24)
		gt := randomMask(r, w, h, classes)
		pred := randomMask(r, w, h, classes)
		ignore := -1
		if trial%3 == 0 {
			ignore = 7
			for range r.IntN(w*h/3 + 1) {
				gt[r.IntN(w*h)] = 7
			}
		}
		for _, p := range []EmptyPolicy{EmptyNaN, EmptyOne} {
			res, err := Evaluate("r", pred, gt, w, h, classes, ignore, p)
			if err != nil {
				t.Fatal(err)
			}
			for c := range classes {
				want := bruteHD95(pred, gt, w, h, c, ignore, p)
				if got := Hausdorff95(pred, gt, w, h, c, ignore, p); !same(got, want) {
					t.Fatalf("trial %d (%dx%d, ignore %d, %v) class %d: HD95 = %v, brute force %v", trial, w, h, ignore, p, c, got, want)
				}
				if got := res.Scores[c][HD95]; !same(got, want) {
					t.Fatalf("trial %d class %d: Evaluate HD95 = %v, brute force %v", trial, c, got, want)
				}
				// Emptiness in the counts and in HD95 agree.
				k := res.Counts[c]
				if oneEmpty := (k.TP+k.FP == 0) != (k.TP+k.FN == 0); oneEmpty && !math.IsNaN(want) {
					t.Fatalf("trial %d class %d: one side empty (%+v) but HD95 %v", trial, c, k, want)
				}
			}
		}
	}
}

// TestEDT compares the distance transform with brute force on random sites, including
// single sites, single rows and single columns.
func TestEDT(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var e edt
	for trial := range 300 {
		w, h := 1+r.IntN(70), 1+r.IntN(70)
		var sites []int32
		switch trial % 4 {
		case 0:
			sites = []int32{int32(r.IntN(w * h))}
		case 1:
			x := r.IntN(w)
			for y := range h {
				if r.IntN(3) == 0 {
					sites = append(sites, int32(y*w+x))
				}
			}
		default:
			p := r.Float64() * 0.2
			for i := range w * h {
				if r.Float64() < p {
					sites = append(sites, int32(i))
				}
			}
		}
		if len(sites) == 0 {
			sites = []int32{int32(w*h - 1)}
		}
		queries := make([]int32, w*h)
		for i := range queries {
			queries[i] = int32(i)
		}
		got := make([]int64, len(queries))
		e.build(sites, w)
		e.query(queries, got)
		for i, q := range queries {
			qx, qy := int64(q)%int64(w), int64(q)/int64(w)
			want := int64(math.MaxInt64)
			for _, s := range sites {
				dx, dy := int64(s)%int64(w)-qx, int64(s)/int64(w)-qy
				want = min(want, dx*dx+dy*dy)
			}
			if got[i] != want {
				t.Fatalf("trial %d (%dx%d, %d sites): pixel (%d,%d) squared distance %d, want %d", trial, w, h, len(sites), qx, qy, got[i], want)
			}
		}
	}
}

// TestHD95Large runs HD95 on 2048x2048 squares offset by 7 pixels, where the offset is the
// answer (a quarter of the distances, the far side's, equal it).
func TestHD95Large(t *testing.T) {
	const n = 2048
	gt := make([]uint8, n*n)
	pred := make([]uint8, n*n)
	for y := 100; y < 1900; y++ {
		for x := 100; x < 1900; x++ {
			gt[y*n+x] = 1
			pred[y*n+x+7] = 1
		}
	}
	if got := Hausdorff95(pred, gt, n, n, 1, -1, EmptyNaN); got != 7 {
		t.Errorf("HD95 = %v, want 7", got)
	}
}

func TestHD95Panics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("HD95 with a wrong size did not panic")
		}
	}()
	Hausdorff95(make([]int32, 5), make([]int32, 6), 2, 3, 1, -1, EmptyNaN)
}

// disc paints class 1 on the disc of radius rad centred at (cx, cy).
func disc(m []uint8, w, h, cx, cy, rad int) {
	for y := range h {
		for x := range w {
			if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= rad*rad {
				m[y*w+x] = 1
			}
		}
	}
}

// BenchmarkHD95 measures HD95 between two offset discs of radius 300 on a 1024x1024 mask.
func BenchmarkHD95(b *testing.B) {
	const n = 1024
	gt := make([]uint8, n*n)
	pred := make([]uint8, n*n)
	disc(gt, n, n, 500, 500, 300)
	disc(pred, n, n, 530, 510, 290)
	b.ReportAllocs()
	for b.Loop() {
		Hausdorff95(pred, gt, n, n, 1, -1, EmptyNaN)
	}
}

// BenchmarkHD95Noisy is BenchmarkHD95 with noise, whose scattered boundary pixels fill the
// columns and rows the transform visits.
func BenchmarkHD95Noisy(b *testing.B) {
	const n = 1024
	r := rand.New(rand.NewPCG(5, 6))
	gt := make([]uint8, n*n)
	pred := make([]uint8, n*n)
	disc(gt, n, n, 500, 500, 300)
	disc(pred, n, n, 530, 510, 290)
	for range 20000 {
		pred[r.IntN(n*n)] ^= 1
	}
	b.ReportAllocs()
	for b.Loop() {
		Hausdorff95(pred, gt, n, n, 1, -1, EmptyNaN)
	}
}
