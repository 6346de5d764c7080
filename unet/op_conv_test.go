package unet

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"testing"

	"github.com/segment-dev/segment/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// naiveConv is the textbook loop a convolution must agree with.
func naiveConv(x, w, b []float64, n, c, h, wd, co, k, s, p int) ([]float64, int, int) {
	oh, ow := (h+2*p-k)/s+1, (wd+2*p-k)/s+1
	out := make([]float64, n*co*oh*ow)
	for i := 0; i < n; i++ {
		for o := 0; o < co; o++ {
			for y := 0; y < oh; y++ {
				for xx := 0; xx < ow; xx++ {
					var acc float64
					if b != nil {
						acc = b[o]
					}
					for ci := 0; ci < c; ci++ {
						for ky := 0; ky < k; ky++ {
							for kx := 0; kx < k; kx++ {
								iy, ix := y*s-p+ky, xx*s-p+kx
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								acc += x[((i*c+ci)*h+iy)*wd+ix] * w[((o*c+ci)*k+ky)*k+kx]
							}
						}
					}
					out[((i*co+o)*oh+y)*ow+xx] = acc
				}
			}
		}
	}
	return out, oh, ow
}

// naiveConvTranspose scatters every input pixel through the kernel, as PyTorch defines it.
func naiveConvTranspose(x, w, b []float64, n, ci, h, wd, co, k, s, p int) ([]float64, int, int) {
	oh, ow := (h-1)*s-2*p+k, (wd-1)*s-2*p+k
	out := make([]float64, n*co*oh*ow)
	for i := 0; i < n; i++ {
		for o := 0; o < co; o++ {
			for j := 0; j < oh*ow; j++ {
				if b != nil {
					out[(i*co+o)*oh*ow+j] = b[o]
				}
			}
		}
		for c := 0; c < ci; c++ {
			for y := 0; y < h; y++ {
				for xx := 0; xx < wd; xx++ {
					v := x[((i*ci+c)*h+y)*wd+xx]
					for o := 0; o < co; o++ {
						for ky := 0; ky < k; ky++ {
							for kx := 0; kx < k; kx++ {
								oy, ox := y*s-p+ky, xx*s-p+kx
								if oy < 0 || oy >= oh || ox < 0 || ox >= ow {
									continue
								}
								out[((i*co+o)*oh+oy)*ow+ox] += v * w[((c*co+o)*k+ky)*k+kx]
							}
						}
					}
				}
			}
		}
	}
	return out, oh, ow
}

func runGraph(t *testing.T, build func(g *G.ExprGraph) (*G.Node, error)) *tensor.Dense {
	t.Helper()
	g := G.NewGraph()
	out, err := build(g)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return out.Value().(*tensor.Dense)
}

func node(g *G.ExprGraph, t *tensor.Dense, name string) *G.Node {
	return G.NewTensor(g, t.Dtype(), t.Dims(), G.WithShape(t.Shape()...), G.WithValue(t), G.WithName(name))
}

func maxAbsDiff(a, b []float64) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

var convCases = []struct{ n, c, h, w, co, k, s, p int }{
	{2, 3, 7, 6, 4, 3, 1, 1}, // the U-Net's 3x3 same convolution, odd sizes
	{1, 2, 5, 5, 3, 1, 1, 0}, // the head's 1x1
	{2, 2, 8, 6, 3, 2, 2, 0}, // 2x2 stride 2: the U-Net's up and down sampling geometry
	{1, 2, 9, 7, 2, 3, 2, 1}, // strided with padding: size not a multiple of the stride
	{1, 1, 4, 5, 2, 5, 1, 2}, // kernel larger than the image side
	{1, 2, 9, 7, 3, 2, 2, 0}, // 2x2 stride 2 on odd sides: the last row and column get no gradient
}

func TestConv2dForward(t *testing.T) {
	for _, tc := range convCases {
		for _, bias := range []bool{false, true} {
			name := fmt.Sprintf("%+v/bias=%v", tc, bias)
			rng := rand.New(rand.NewSource(1))
			x := randTensor(rng, tc.n, tc.c, tc.h, tc.w)
			w := randTensor(rng, tc.co, tc.c, tc.k, tc.k)
			b := randTensor(rng, tc.co)
			var bd []float64
			if bias {
				bd = b.Data().([]float64)
			}
			want, oh, ow := naiveConv(x.Data().([]float64), w.Data().([]float64), bd, tc.n, tc.c, tc.h, tc.w, tc.co, tc.k, tc.s, tc.p)
			got := runGraph(t, func(g *G.ExprGraph) (*G.Node, error) {
				var bn *G.Node
				if bias {
					bn = node(g, b, "b")
				}
				return Conv2d(node(g, x, "x"), node(g, w, "w"), bn, tc.s, tc.p)
			})
			if s := got.Shape(); s[2] != oh || s[3] != ow {
				t.Fatalf("%s: shape %v, want %dx%d", name, s, oh, ow)
			}
			if d := maxAbsDiff(got.Data().([]float64), want); d > 1e-12 {
				t.Errorf("%s: max difference %g from the naive loop", name, d)
			}
		}
	}
}

func TestConvTranspose2dForward(t *testing.T) {
	for _, tc := range convCases {
		name := fmt.Sprintf("%+v", tc)
		rng := rand.New(rand.NewSource(2))
		x := randTensor(rng, tc.n, tc.c, tc.h, tc.w)
		w := randTensor(rng, tc.c, tc.co, tc.k, tc.k)
		b := randTensor(rng, tc.co)
		want, oh, ow := naiveConvTranspose(x.Data().([]float64), w.Data().([]float64), b.Data().([]float64), tc.n, tc.c, tc.h, tc.w, tc.co, tc.k, tc.s, tc.p)
		if oh < 1 || ow < 1 {
			continue
		}
		got := runGraph(t, func(g *G.ExprGraph) (*G.Node, error) {
			return ConvTranspose2d(node(g, x, "x"), node(g, w, "w"), node(g, b, "b"), tc.s, tc.p)
		})
		if s := got.Shape(); s[1] != tc.co || s[2] != oh || s[3] != ow {
			t.Fatalf("%s: shape %v, want %d x %dx%d", name, s, tc.co, oh, ow)
		}
		if d := maxAbsDiff(got.Data().([]float64), want); d > 1e-12 {
			t.Errorf("%s: max difference %g from the naive loop", name, d)
		}
	}
}

func TestConvGradients(t *testing.T) {
	for _, tc := range convCases {
		tc := tc
		rng := rand.New(rand.NewSource(3))
		checkGrad(t, gradCase{
			name:   fmt.Sprintf("Conv2d%+v", tc),
			inputs: []*tensor.Dense{randTensor(rng, tc.n, tc.c, tc.h, tc.w), randTensor(rng, tc.co, tc.c, tc.k, tc.k), randTensor(rng, tc.co)},
			diff:   []bool{true, true, true},
			build: func(in []*G.Node) (*G.Node, error) {
				return Conv2d(in[0], in[1], in[2], tc.s, tc.p)
			},
		}, 1e-7)
		if (tc.h-1)*tc.s-2*tc.p+tc.k < 1 {
			continue
		}
		checkGrad(t, gradCase{
			name:   fmt.Sprintf("ConvTranspose2d%+v", tc),
			inputs: []*tensor.Dense{randTensor(rng, tc.n, tc.c, tc.h, tc.w), randTensor(rng, tc.c, tc.co, tc.k, tc.k), randTensor(rng, tc.co)},
			diff:   []bool{true, true, true},
			build: func(in []*G.Node) (*G.Node, error) {
				return ConvTranspose2d(in[0], in[1], in[2], tc.s, tc.p)
			},
		}, 1e-7)
		checkGrad(t, gradCase{
			name:   fmt.Sprintf("Conv2dNoBias%+v", tc),
			inputs: []*tensor.Dense{randTensor(rng, tc.n, tc.c, tc.h, tc.w), randTensor(rng, tc.co, tc.c, tc.k, tc.k)},
			diff:   []bool{true, true},
			build: func(in []*G.Node) (*G.Node, error) {
				return Conv2d(in[0], in[1], nil, tc.s, tc.p)
			},
		}, 1e-7)
	}
}

func TestConvShapeErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float64, 4, G.WithShape(1, 3, 8, 8), G.WithName("x"))
	w := G.NewTensor(g, tensor.Float64, 4, G.WithShape(4, 2, 3, 3), G.WithName("w"))
	if _, err := Conv2d(x, w, nil, 1, 1); err == nil {
		t.Error("Conv2d accepted a weight with 2 input channels for a 3-channel input")
	}
}

// TestConvBands runs the convolution tests again with bands of the fewest rows the plan
// allows and two cores, so that every op runs in several bands side by side (col2im's two
// phases included), which the model's sizes would otherwise be needed for.
func TestConvBands(t *testing.T) {
	defer func(f, c int) { bandFloats, minBandCols = f, c }(bandFloats, minBandCols)
	bandFloats, minBandCols = 1, 1
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	if p := newConvGeom(3, 7, 6, 3, 1, 1).plan(2); p.rows != 3 || p.per != 3 || p.workers < 2 {
		t.Fatalf("plan %+v: want bands of 3 rows, 3 per image, side by side", p)
	}
	t.Run("Conv2d", TestConv2dForward)
	t.Run("ConvTranspose2d", TestConvTranspose2dForward)
	t.Run("Gradients", TestConvGradients)
	t.Run("ConvBNReLU", TestConvBNReLUMatchesSeparateOps)
}

// TestPaddedConv checks float32 convolutions run on padded rows against the float64 naive
// loop, with every GEMM implementation (their panels differ in width), with and without an
// epilogue, on one and two cores and in one band or bands of a row: geometries put edges,
// output-row ends and panel ends in every place, with rows narrower and wider than a panel
// and not multiples of it.
func TestPaddedConv(t *testing.T) {
	defer func(name string) { kernels.SetImpl(name) }(kernels.Impl())
	for _, name := range kernels.Impls() {
		if err := kernels.SetImpl(name); err != nil {
			t.Fatal(err)
		}
		t.Run(name, testPaddedConv)
	}
}

func testPaddedConv(t *testing.T) {
	defer func(f, c, m int) { bandFloats, minBandCols, minPaddedWidth = f, c, m }(bandFloats, minBandCols, minPaddedWidth)
	minPaddedWidth = 1
	for _, tc := range []struct{ n, c, h, w, co, k, p int }{
		{1, 1, 5, 7, 3, 3, 1},
		{2, 3, 9, 40, 5, 3, 1},
		{1, 2, 6, 33, 17, 5, 2},
		{4, 2, 8, 8, 9, 3, 0},
		{1, 3, 4, 70, 2, 1, 1},
		{2, 4, 16, 16, 8, 3, 1},
		{1, 5, 3, 300, 4, 3, 1},
	} {
		g := newConvGeom(tc.c, tc.h, tc.w, tc.k, 1, tc.p)
		if !paddedConv[float32](g) {
			t.Fatalf("%+v: not run on padded rows", tc)
		}
		rng := rand.New(rand.NewSource(8))
		x64, w64 := make([]float64, tc.n*tc.c*tc.h*tc.w), make([]float64, tc.co*tc.c*tc.k*tc.k)
		x32, w32 := make([]float32, len(x64)), make([]float32, len(w64))
		for i := range x64 {
			x32[i] = float32(rng.Float64()*2 - 1)
			x64[i] = float64(x32[i])
		}
		for i := range w64 {
			w32[i] = float32(rng.Float64()*2 - 1)
			w64[i] = float64(w32[i])
		}
		ep := &epilogue[float32]{scale: make([]float32, tc.co), shift: make([]float32, tc.co), relu: true}
		for i := range ep.scale {
			ep.scale[i], ep.shift[i] = float32(rng.Float64()+0.5), float32(rng.Float64()-0.5)
		}
		conv, _, _ := naiveConv(x64, w64, nil, tc.n, tc.c, tc.h, tc.w, tc.co, tc.k, 1, tc.p)
		hw := len(conv) / (tc.n * tc.co)
		for _, procs := range []int{1, 2} {
			for _, small := range []bool{false, true} {
				for _, withEp := range []bool{false, true} {
					func() {
						defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
						bandFloats, minBandCols = 1<<18, 256
						if small {
							bandFloats, minBandCols = 1, 1
						}
						got := make([]float32, len(conv))
						var e *epilogue[float32]
						if withEp {
							e = ep
						}
						convForward(g, tc.co, tc.n, x32, w32, got, e)
						for i, want := range conv {
							if withEp {
								ch := i / hw % tc.co
								want = math.Max(want*float64(ep.scale[ch])+float64(ep.shift[ch]), 0)
							}
							if d := math.Abs(float64(got[i]) - want); d > 1e-5*float64(tc.c*tc.k*tc.k) {
								t.Fatalf("%+v on %d cores, small bands %v, epilogue %v: y[%d] = %v, want %v", tc, procs, small, withEp, i, got[i], want)
							}
						}
					}()
				}
			}
		}
	}
}

// TestConvDataOverwrites requires the input gradient to overwrite its output buffer, which a
// shared slot leaves holding another op's values: on a 2x2 stride-2 convolution of odd sides,
// the last row and column get no gradient and must come out 0, and with the sides even the
// written-not-added path must leave nothing of the old values either.
func TestConvDataOverwrites(t *testing.T) {
	for _, tc := range []struct{ h, w int }{{9, 7}, {8, 6}} {
		g := newConvGeom(2, tc.h, tc.w, 2, 2, 0)
		rng := rand.New(rand.NewSource(9))
		dy, w := make([]float64, 3*g.cols()), make([]float64, 3*2*4)
		for i := range dy {
			dy[i] = rng.Float64()
		}
		for i := range w {
			w[i] = rng.Float64()
		}
		want := make([]float64, 2*tc.h*tc.w)
		convData(g, 3, 1, dy, w, want, nil)
		got := make([]float64, len(want))
		for i := range got {
			got[i] = math.NaN()
		}
		convData(g, 3, 1, dy, w, got, nil)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%dx%d: dx[%d] = %v over a buffer of NaN, %v over zeros", tc.h, tc.w, i, got[i], want[i])
			}
		}
	}
}
