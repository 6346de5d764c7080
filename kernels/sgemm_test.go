package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"testing"
)

// gemmCase is one call of Sgemm with its operands.
type gemmCase struct {
	tA, tB        bool
	m, n, k       int
	lda, ldb, ldc int
	alpha, beta   float32
}

func (g gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,lda=%d,ldb=%d,ldc=%d,alpha=%g,beta=%g",
		g.tA, g.tB, g.m, g.n, g.k, g.lda, g.ldb, g.ldc, g.alpha, g.beta)
}

// dims returns the stored shapes of A and B.
func (g gemmCase) dims() (ar, ac, br, bc int) {
	ar, ac = g.m, g.k
	if g.tA {
		ar, ac = g.k, g.m
	}
	br, bc = g.k, g.n
	if g.tB {
		br, bc = g.n, g.k
	}
	return
}

// operands holds the inputs of a case and the float64 reference result.
type operands struct {
	a, b, c0 []float32
	want     []float64 // m x n, stride n
	bound    []float64 // error bound per element; 0 for exact data
}

const guard = 19 // floats after C that must stay untouched

// sentinel fills the gaps between rows of C and the guard band.
var sentinel = math.Float32frombits(0x7fc0dead) // a NaN with a payload

// makeOperands builds A and B of exactly the minimum length (so that a
// read past the end panics in Go code), and C with guard bands. With
// exact set, all values are small integers so that every product and sum
// is exact in float32 and the result must match bit for bit.
func makeOperands(g gemmCase, rng *rand.Rand, exact bool) operands {
	ar, ac, br, bc := g.dims()
	val := func() float32 {
		if exact {
			return float32(rng.IntN(9) - 4)
		}
		return float32(rng.NormFloat64())
	}
	fill := func(rows, cols, ld int) []float32 {
		x := make([]float32, (rows-1)*ld+cols)
		for i := range x {
			if i%ld < cols {
				x[i] = val()
			} else {
				x[i] = float32(math.NaN()) // never read: must not matter
			}
		}
		return x
	}
	var o operands
	o.a = fill(ar, ac, g.lda)
	o.b = fill(br, bc, g.ldb)
	o.c0 = make([]float32, (g.m-1)*g.ldc+g.n+guard)
	for i := range o.c0 {
		switch {
		case i >= (g.m-1)*g.ldc+g.n || i%g.ldc >= g.n:
			o.c0[i] = sentinel
		case g.beta == 0:
			o.c0[i] = float32(math.NaN())
		default:
			o.c0[i] = val()
		}
	}
	at := func(i, p int) float64 {
		if g.tA {
			return float64(o.a[p*g.lda+i])
		}
		return float64(o.a[i*g.lda+p])
	}
	bt := func(p, j int) float64 {
		if g.tB {
			return float64(o.b[j*g.ldb+p])
		}
		return float64(o.b[p*g.ldb+j])
	}
	o.want = make([]float64, g.m*g.n)
	o.bound = make([]float64, g.m*g.n)
	const u = 0x1p-24 // unit roundoff of float32
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.n; j++ {
			var s, abs float64
			for p := 0; p < g.k; p++ {
				x := at(i, p) * bt(p, j)
				s += x
				abs += math.Abs(x)
			}
			w := float64(g.alpha) * s
			bound := math.Abs(float64(g.alpha)) * abs * u * float64(g.k+2)
			if g.beta != 0 {
				cv := float64(o.c0[i*g.ldc+j])
				w += float64(g.beta) * cv
				bound += 2 * u * math.Abs(float64(g.beta)*cv)
			}
			o.want[i*g.n+j] = w
			if !exact {
				o.bound[i*g.n+j] = bound + 1e-30
			}
		}
	}
	return o
}

// check runs implementation p with nt threads on the case and reports
// the first few wrong elements.
func check(t *testing.T, p *impl, nt int, g gemmCase, o operands) {
	t.Helper()
	c := slices.Clone(o.c0)
	sgemm(p, nt, g.tA, g.tB, g.m, g.n, g.k, g.alpha, o.a, g.lda, o.b, g.ldb, g.beta, c, g.ldc)
	bad := 0
	for idx, v := range c {
		i, j := idx/g.ldc, idx%g.ldc
		if i >= g.m || j >= g.n || (i == g.m-1 && j >= g.n) || idx >= (g.m-1)*g.ldc+g.n {
			if math.Float32bits(v) != math.Float32bits(o.c0[idx]) {
				t.Errorf("%s threads=%d %v: c[%d] outside the matrix changed to %g", p.name, nt, g, idx, v)
				bad++
			}
			continue
		}
		w, bound := o.want[i*g.n+j], o.bound[i*g.n+j]
		if d := math.Abs(float64(v) - w); !(d <= bound) {
			t.Errorf("%s threads=%d %v: c[%d,%d] = %g, want %g (error %g > %g)", p.name, nt, g, i, j, v, w, d, bound)
			bad++
		}
		if bad > 5 {
			return // enough said; safe on any goroutine, unlike FailNow
		}
	}
}

var alphaBetas = [][2]float32{{1, 0}, {1, 1}, {-0.5, -1.5}, {2, 1}, {0.25, 0}, {1, 2}}

// TestSgemmSmall checks every implementation on all m, n in 1..70 with all
// four transpose cases, rotating k, alpha, beta and the leading dimensions,
// on exact integer data.
func TestSgemmSmall(t *testing.T) {
	t.Parallel()
	// impls holds only what this CPU runs: the others are skipped.
	t.Logf("implementations under test: %v", Impls())
	ks := []int{1, 2, 3, 5, 8, 13, 16, 17, 31, 64, 70}
	rng := rand.New(rand.NewPCG(1, 2))
	step := 1
	if testing.Short() {
		step = 3
	}
	idx := 0
	for m := 1; m <= 70; m += step {
		for n := 1; n <= 70; n += step {
			for tr := 0; tr < 4; tr++ {
				idx++
				g := gemmCase{tA: tr&1 != 0, tB: tr&2 != 0, m: m, n: n, k: ks[idx%len(ks)]}
				ab := alphaBetas[idx%len(alphaBetas)]
				g.alpha, g.beta = ab[0], ab[1]
				setLD(&g, idx%3*5)
				o := makeOperands(g, rng, true)
				for _, p := range impls {
					check(t, p, 1, g, o)
				}
			}
		}
	}
}

// TestSgemmK checks every implementation on all k in 1..70 at tile-edge
// shapes.
func TestSgemmK(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := [][2]int{{1, 1}, {6, 16}, {7, 17}, {14, 32}, {15, 33}, {13, 31}, {28, 64}}
	idx := 0
	for _, s := range shapes {
		for k := 1; k <= 70; k++ {
			for tr := 0; tr < 4; tr++ {
				idx++
				g := gemmCase{tA: tr&1 != 0, tB: tr&2 != 0, m: s[0], n: s[1], k: k}
				ab := alphaBetas[idx%len(alphaBetas)]
				g.alpha, g.beta = ab[0], ab[1]
				setLD(&g, idx%2*3)
				o := makeOperands(g, rng, true)
				for _, p := range impls {
					check(t, p, 1, g, o)
				}
			}
		}
	}
}

// setLD sets the leading dimensions to the stored widths plus extra.
func setLD(g *gemmCase, extra int) {
	_, ac, _, bc := g.dims()
	g.lda, g.ldb, g.ldc = ac+extra, bc+extra, g.n+extra
}

// TestSgemmLarge checks random larger shapes, with k up to 5000, several
// cache blocks in every direction and 1 to 3 threads, on exact integer
// data and on Gaussian data with a float32 error bound.
func TestSgemmLarge(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	cases := []gemmCase{
		{m: 300, n: 4200, k: 600}, // several n blocks, k blocks
		{m: 700, n: 97, k: 300},   // several m blocks
		{m: 33, n: 70, k: 5000},   // long k
		{m: 512, n: 256, k: 1000}, // deep layer shape, split along m
		{m: 16, n: 1030, k: 144},  // first layer
		{m: 129, n: 257, k: 513},  // one past powers of two
		{m: 64, n: 200, k: 4097},  // weight gradient like
		{m: 5, n: 3000, k: 3},     // tiny k
		{m: 1000, n: 10, k: 50},   // tall and thin
		{m: 1, n: 5000, k: 1000},  // a single row
		{m: 4000, n: 1, k: 700},   // a single column
		{m: 250, n: 250, k: 1},    // k = 1
		{m: 90, n: 18000, k: 20},  // many n panels
		{m: 1500, n: 40, k: 2000}, // long k and m
		{m: 40, n: 40, k: 40},     // below the threading threshold
		{m: 300, n: 300, k: 300},  // square
		{m: 77, n: 1111, k: 999},  // odd everything
		{m: 14, n: 32, k: 10000},  // one tile, many k blocks
	}
	if testing.Short() {
		cases = cases[:8]
	}
	for ci, g := range cases {
		g.tA, g.tB = ci&1 != 0, ci&2 != 0
		ab := alphaBetas[ci%len(alphaBetas)]
		g.alpha, g.beta = ab[0], ab[1]
		setLD(&g, rng.IntN(3)*7)
		exact := ci%3 != 2
		o := makeOperands(g, rng, exact)
		for _, p := range impls {
			if p == goImpl && g.m*g.n*g.k > 50e6 {
				continue // covered by the smaller cases; too slow here
			}
			for nt := 1; nt <= 3; nt++ {
				check(t, p, nt, g, o)
			}
		}
	}
}

// TestSgemmTranspose checks each transpose case on one larger shape
// against the others: all four must give the same product.
func TestSgemmTranspose(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	for tr := 0; tr < 4; tr++ {
		g := gemmCase{tA: tr&1 != 0, tB: tr&2 != 0, m: 100, n: 300, k: 700, alpha: 1, beta: 0}
		setLD(&g, 0)
		o := makeOperands(g, rng, true)
		for _, p := range impls {
			check(t, p, 2, g, o)
		}
	}
}

// TestSgemmAlphaZero checks that alpha == 0 or k == 0 only scales C.
func TestSgemmAlphaZero(t *testing.T) {
	for _, p := range impls {
		for _, g := range []gemmCase{
			{m: 3, n: 4, k: 5, lda: 5, ldb: 4, ldc: 6, alpha: 0, beta: 2},
			{m: 3, n: 4, k: 5, lda: 5, ldb: 4, ldc: 6, alpha: 0, beta: 0},
			{m: 3, n: 4, k: 0, lda: 1, ldb: 4, ldc: 6, alpha: 1, beta: -1},
		} {
			c := []float32{1, 2, 3, 4, 99, 99, 5, 6, 7, 8, 99, 99, 9, 10, 11, 12}
			if g.beta == 0 {
				c = []float32{1, 2, 3, float32(math.NaN()), 99, 99, 5, 6, 7, 8, 99, 99, 9, 10, 11, 12}
			}
			want := slices.Clone(c)
			for i := range want {
				if i%g.ldc < g.n {
					want[i] *= g.beta
					if g.beta == 0 {
						want[i] = 0
					}
				}
			}
			a := make([]float32, 15)
			b := make([]float32, 20)
			sgemm(p, 1, false, false, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, c, g.ldc)
			if !slices.Equal(c, want) {
				t.Errorf("%s %v: got %v, want %v", p.name, g, c, want)
			}
		}
	}
}

// TestSgemmPanics checks the argument checks.
func TestSgemmPanics(t *testing.T) {
	a, b, c := make([]float32, 6), make([]float32, 12), make([]float32, 8)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"negative m", func() { Sgemm(false, false, -1, 4, 3, 1, a, 3, b, 4, 0, c, 4) }},
		{"lda", func() { Sgemm(false, false, 2, 4, 3, 1, a, 2, b, 4, 0, c, 4) }},
		{"ldb transposed", func() { Sgemm(false, true, 2, 4, 3, 1, a, 3, b, 2, 0, c, 4) }},
		{"ldc", func() { Sgemm(false, false, 2, 4, 3, 1, a, 3, b, 4, 0, c, 3) }},
		{"short a", func() { Sgemm(false, false, 2, 4, 3, 1, a[:5], 3, b, 4, 0, c, 4) }},
		{"short b", func() { Sgemm(false, false, 2, 4, 3, 1, a, 3, b[:11], 4, 0, c, 4) }},
		{"short c", func() { Sgemm(false, false, 2, 4, 3, 1, a, 3, b, 4, 0, c[:7], 4) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.f()
		}()
	}
	// Empty products are fine with empty slices.
	Sgemm(false, false, 0, 4, 3, 1, nil, 3, b, 4, 0, nil, 4)
	Sgemm(true, true, 2, 0, 3, 1, a, 2, nil, 3, 0, nil, 1)
}

// TestImpl checks the registry and SetImpl.
func TestImpl(t *testing.T) {
	names := Impls()
	if names[len(names)-1] != "go" {
		t.Errorf("Impls() = %v, want go last", names)
	}
	if os.Getenv("SEGMENT_NOASM") == "" && Impl() != names[0] {
		t.Errorf("Impl() = %q, want the fastest, %q", Impl(), names[0])
	}
	if err := SetImpl("nonesuch"); err == nil {
		t.Error("SetImpl(nonesuch) succeeded")
	}
	old := Impl()
	defer SetImpl(old)
	for _, name := range names {
		if err := SetImpl(name); err != nil || Impl() != name {
			t.Errorf("SetImpl(%q) = %v, Impl() = %q", name, err, Impl())
		}
	}
}

// TestNoasmEnv checks that SEGMENT_NOASM=1 selects the pure-Go kernel, in
// a child process since the variable is read at initialisation.
func TestNoasmEnv(t *testing.T) {
	if os.Getenv("KERNELS_WANT_IMPL") != "" {
		if got, want := Impl(), os.Getenv("KERNELS_WANT_IMPL"); got != want {
			t.Fatalf("Impl() = %q, want %q", got, want)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoasmEnv$")
	cmd.Env = append(os.Environ(), "SEGMENT_NOASM=1", "KERNELS_WANT_IMPL=go")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child with SEGMENT_NOASM=1: %v\n%s", err, out)
	}
}

// TestThreads checks that Sgemm's thread count follows GOMAXPROCS, the one knob of every
// loop of the project.
func TestThreads(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	if Threads() != 3 {
		t.Errorf("Threads() = %d with GOMAXPROCS 3", Threads())
	}
	runtime.GOMAXPROCS(1)
	if Threads() != 1 {
		t.Errorf("Threads() = %d with GOMAXPROCS 1", Threads())
	}
}

// TestSgemmNoAlloc checks that a warm call allocates only for its
// goroutines.
func TestSgemmNoAlloc(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are noisy under -short parallel runs")
	}
	m, n, k := 64, 300, 200
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for _, p := range impls {
		allocs := testing.AllocsPerRun(20, func() {
			sgemm(p, 1, false, true, m, n, k, 1, a, k, b, k, 0, c, n)
		})
		if allocs > 0 {
			t.Errorf("%s: %v allocations per single-threaded call", p.name, allocs)
		}
	}
}

// TestSgemmConcurrent runs calls on several goroutines at once, as two
// images in parallel do, each call itself on two threads: the packing
// buffers must not be shared.
func TestSgemmConcurrent(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 10))
	g := gemmCase{m: 70, n: 300, k: 200, alpha: 1, beta: 0}
	setLD(&g, 0)
	o := makeOperands(g, rng, true)
	done := make(chan bool)
	for w := 0; w < 4; w++ {
		go func() {
			defer func() { done <- true }()
			for i := 0; i < 10; i++ {
				check(t, impls[i%len(impls)], 2, g, o)
			}
		}()
	}
	for w := 0; w < 4; w++ {
		<-done
	}
}

// TestSgemmSerial checks that the one-goroutine entry computes the same product as the
// threaded one, bit for bit (the threads split whole panels, so every element is summed in
// the same order).
func TestSgemmSerial(t *testing.T) {
	g := gemmCase{m: 67, n: 301, k: 129, lda: 129, ldb: 305, ldc: 303, alpha: 1, beta: 1}
	o := makeOperands(g, rand.New(rand.NewPCG(7, 8)), false)
	want := slices.Clone(o.c0)
	Sgemm(false, false, g.m, g.n, g.k, 1, o.a, g.lda, o.b, g.ldb, 1, want, g.ldc)
	got := slices.Clone(o.c0)
	SgemmSerial(false, false, g.m, g.n, g.k, 1, o.a, g.lda, o.b, g.ldb, 1, got, g.ldc)
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("c[%d] = %g serially, %g threaded", i, got[i], want[i])
		}
	}
}

// storedSource is a PanelSource reading a stored row-major k x n matrix, packed the plain way.
type storedSource struct {
	b   []float32
	ldb int
}

func (s storedSource) PackPanels(dst []float32, nr, p0, j0, kb, nb int) {
	for q := 0; q*nr < nb; q++ {
		for p := 0; p < kb; p++ {
			for j := 0; j < nr; j++ {
				v := float32(0)
				if col := q*nr + j; col < nb {
					v = s.b[(p0+p)*s.ldb+j0+col]
				}
				dst[q*nr*kb+p*nr+j] = v
			}
		}
	}
}

// TestSgemmSource checks that a product whose B comes from a PanelSource equals, bit for
// bit, the same product on the stored B, with every implementation, on sizes that leave
// partial panels and tiles and span several cache blocks.
func TestSgemmSource(t *testing.T) {
	old := Impl()
	defer SetImpl(old)
	rng := rand.New(rand.NewPCG(9, 10))
	for _, name := range Impls() {
		if err := SetImpl(name); err != nil {
			t.Fatal(err)
		}
		for _, g := range []gemmCase{
			{m: 16, n: 100, k: 9, lda: 9, ldb: 100, ldc: 100, alpha: 1},
			{m: 13, n: 2100, k: 300, lda: 301, ldb: 2101, ldc: 2103, alpha: 1, beta: 1},
			{tA: true, m: 37, n: 33, k: 600, lda: 40, ldb: 33, ldc: 35, alpha: 0.5, beta: 2},
		} {
			o := makeOperands(g, rng, false)
			want := slices.Clone(o.c0)
			SgemmSerial(g.tA, false, g.m, g.n, g.k, g.alpha, o.a, g.lda, o.b, g.ldb, g.beta, want, g.ldc)
			got := slices.Clone(o.c0)
			SgemmSource(g.tA, g.m, g.n, g.k, g.alpha, o.a, g.lda, storedSource{o.b, g.ldb}, g.beta, got, g.ldc)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s %v: c[%d] = %g from the source, %g from the stored B", name, g, i, got[i], want[i])
				}
			}
		}
	}
}

// TestPackRows checks PackRows against the rule it documents, with every implementation (the
// assembly for full panels where the widths match, Go otherwise), on widths that leave a
// partial panel and on a panel stride wider than the rows.
func TestPackRows(t *testing.T) {
	old := Impl()
	defer SetImpl(old)
	for _, name := range Impls() {
		if err := SetImpl(name); err != nil {
			t.Fatal(err)
		}
		nr := current.Load().nr
		for _, c := range []struct{ rows, n, lds, ldp int }{{3, 3*nr + 5, 1, 3 * nr}, {1, nr, 100, nr}, {4, 2*nr - 1, 2*nr + 3, 9 * nr}} {
			src := make([]float32, (c.rows-1)*c.lds+c.n)
			for i := range src {
				src[i] = float32(i + 1)
			}
			panels := (c.n + nr - 1) / nr
			dst := make([]float32, (panels-1)*c.ldp+c.rows*nr)
			for i := range dst {
				dst[i] = -1
			}
			PackRows(dst, c.ldp, nr, src, c.lds, c.rows, c.n)
			for q := 0; q < panels; q++ {
				for r := 0; r < c.rows; r++ {
					for j := 0; j < nr; j++ {
						want := float32(0)
						if col := q*nr + j; col < c.n {
							want = src[r*c.lds+col]
						}
						if got := dst[q*c.ldp+r*nr+j]; got != want {
							t.Fatalf("%s %+v: panel %d row %d column %d = %v, want %v", name, c, q, r, j, got, want)
						}
					}
				}
			}
		}
	}
}
