package landscape

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFilterNormaliseByHand: filter 0 of w is (3, 4), norm 5, so d's (1, 0) becomes (5, 0);
// filter 1 is (0, 1), norm 1, so (2, 2) becomes (1/√2, 1/√2); a zero filter of d stays zero.
func TestFilterNormaliseByHand(t *testing.T) {
	d := []float32{1, 0, 2, 2, 0, 0}
	w := []float32{3, 4, 0, 1, 7, 7}
	FilterNormalise(d, w, 3)
	want := []float64{5, 0, 1 / math.Sqrt2, 1 / math.Sqrt2, 0, 0}
	for i := range want {
		if math.Abs(float64(d[i])-want[i]) > 1e-6 {
			t.Fatalf("filter-normalised direction %v, want %v", d, want)
		}
	}
}

// TestDirections: tensors of one axis get zero directions, every filter of the others has
// its weights' norm, and the two directions differ.
func TestDirections(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	w := make([]float32, 4*3*2*2)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	ps := []Tensor{{"conv.weight", []int{4, 3, 2, 2}, w}, {"conv.bias", []int{4}, []float32{1, 2, 3, 4}}}
	ds := Directions(ps, 9)
	for k, d := range ds {
		for _, v := range d[1] {
			if v != 0 {
				t.Fatalf("direction %d moves the bias: %v", k, d[1])
			}
		}
		for f := range 4 {
			var sd, sw float64
			for j := f * 12; j < (f+1)*12; j++ {
				sd += float64(d[0][j]) * float64(d[0][j])
				sw += float64(w[j]) * float64(w[j])
			}
			if math.Abs(math.Sqrt(sd)-math.Sqrt(sw)) > 1e-5 {
				t.Errorf("direction %d, filter %d: norm %g, the weights' %g", k, f, math.Sqrt(sd), math.Sqrt(sw))
			}
		}
	}
	if ds[0][0][0] == ds[1][0][0] {
		t.Error("the two directions start alike")
	}
}

// linear is a tiny linear network y = W x (W 2x3) with mean squared error on fixed samples:
// a loss that is an exact quadratic in W, computed in float64.
type linear struct {
	w    []float32
	x, y [][]float64
}

func (l *linear) Params() []Tensor {
	return []Tensor{{Name: "w", Shape: []int{2, 3}, Data: l.w}}
}
func (l *linear) NewWorker() (Worker, error) { return l, nil }
func (l *linear) Close() error               { return nil }
func (l *linear) Loss(ws [][]float32) (float64, error) {
	w := ws[0]
	return l.mse(func(i int) float64 { return float64(w[i]) }), nil
}

func (l *linear) mse(w func(i int) float64) float64 {
	var s float64
	for k, x := range l.x {
		for o := range 2 {
			p := 0.0
			for i := range 3 {
				p += w(o*3+i) * x[i]
			}
			s += (p - l.y[k][o]) * (p - l.y[k][o])
		}
	}
	return s / float64(2*len(l.x))
}

// TestQuadraticLandscape compares the landscape of the linear network with its closed form:
// with r = Wθ x - y, e1 = D1 x, e2 = D2 x summed over the samples, the loss at (a, b) is
// mean((r + a e1 + b e2)^2) = c + 2a<r,e1> + 2b<r,e2> + a²|e1|² + 2ab<e1,e2> + b²|e2|²
// (each over 2n values). Its plane Hessian is 2 [[|e1|², <e1,e2>], [<e1,e2>, |e2|²]]/2n,
// positive semi-definite: the non-convexity is exactly 0.
func TestQuadraticLandscape(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	l := &linear{w: make([]float32, 6)}
	for i := range l.w {
		l.w[i] = float32(rng.NormFloat64())
	}
	for range 5 {
		x := []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		l.x = append(l.x, x)
		l.y = append(l.y, []float64{rng.NormFloat64(), rng.NormFloat64()})
	}
	res, err := Compute(l, Options{Points: 7, Span: 1.5, Seed: 5, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := res.Directions[0][0], res.Directions[1][0]
	var c, r1, r2, e11, e12, e22 float64
	n := float64(2 * len(l.x))
	for k, x := range l.x {
		for o := range 2 {
			var r, e1, e2 float64
			for i := range 3 {
				r += float64(l.w[o*3+i]) * x[i]
				e1 += float64(d1[o*3+i]) * x[i]
				e2 += float64(d2[o*3+i]) * x[i]
			}
			r -= l.y[k][o]
			c, r1, r2 = c+r*r/n, r1+r*e1/n, r2+r*e2/n
			e11, e12, e22 = e11+e1*e1/n, e12+e1*e2/n, e22+e2*e2/n
		}
	}
	for j, b := range res.Coords {
		for i, a := range res.Coords {
			want := c + 2*a*r1 + 2*b*r2 + a*a*e11 + 2*a*b*e12 + b*b*e22
			if got := res.Loss[j][i]; math.Abs(got-want) > 1e-5*math.Max(1, math.Abs(want)) {
				t.Errorf("loss at (%g, %g) = %.9g, closed form %.9g", a, b, got, want)
			}
		}
	}
	if math.Abs(res.Centre-c) > 1e-6 || res.Coords[3] != 0 || res.Coords[0] != -1.5 || res.Coords[6] != 1.5 {
		t.Errorf("centre %g (want %g), coordinates %v", res.Centre, c, res.Coords)
	}
	if res.NonConvexity > 1e-6 {
		t.Errorf("non-convexity of a convex quadratic: %g", res.NonConvexity)
	}
}

// saddle is a Problem whose loss is the quadratic
// form wᵀQw of its two weights.
type saddle struct{ q [2][2]float64 }

func (s *saddle) Params() []Tensor           { return []Tensor{{"w", []int{2, 1}, []float32{0, 0}}} }
func (s *saddle) NewWorker() (Worker, error) { return s, nil }
func (s *saddle) Close() error               { return nil }
func (s *saddle) Loss(ws [][]float32) (float64, error) {
	a, b := float64(ws[0][0]), float64(ws[0][1])
	return s.q[0][0]*a*a + 2*s.q[0][1]*a*b + s.q[1][1]*b*b, nil
}

// TestNonConvexityByHand: for f = wᵀQw the Hessian is 2Q everywhere; Q = [[1, 1], [1, -2]]
// has eigenvalues (-1 ± √13)/2, so every inner point counts |λmin|/|λmax|; the grid is
// filled by hand since the directions of a zero model are zero.
func TestNonConvexityByHand(t *testing.T) {
	q := [2][2]float64{{1, 1}, {1, -2}}
	s := &saddle{q}
	const n, h = 9, 0.25
	f := make([][]float64, n)
	for j := range f {
		f[j] = make([]float64, n)
		for i := range f[j] {
			a, b := float32(h*float64(i-n/2)), float32(h*float64(j-n/2))
			f[j][i], _ = s.Loss([][]float32{{a, b}})
		}
	}
	lmin, lmax := (-1-math.Sqrt(13))/2, (-1+math.Sqrt(13))/2
	want := math.Abs(lmin) / math.Max(math.Abs(lmin), math.Abs(lmax))
	if got := NonConvexity(f, h); math.Abs(got-want) > 1e-9 {
		t.Errorf("non-convexity %g, by hand %g", got, want)
	}
	if l0, l1 := Hessian2(f, 4, 4, h); math.Abs(l0-2*lmin) > 1e-9 || math.Abs(l1-2*lmax) > 1e-9 {
		t.Errorf("Hessian eigenvalues %g, %g; by hand %g, %g", l0, l1, 2*lmin, 2*lmax)
	}
}

// TestBadGrid: an even or tiny grid, or a span that is not positive, is refused.
func TestBadGrid(t *testing.T) {
	l := &saddle{}
	for _, o := range []Options{{Points: 4}, {Points: 1}, {Points: 5, Span: -1}} {
		if _, err := Compute(l, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
