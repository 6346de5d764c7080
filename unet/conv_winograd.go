package unet

import (
	"fmt"
	"os"

	"github.com/segment-dev/segment/internal/parallel"
)

// Winograd's minimal filtering F(m x m, 3 x 3) computes an m x m tile of a 3x3 stride-1
// convolution's output from an a x a tile of its input (a = m+2) with a*a multiplies per
// input and output channel instead of 9*m*m: transformed, the convolution of a tile becomes
// an elementwise product, and over the channels, for each of the a*a transformed positions
// xi, a matrix product U_xi [co x C] * V_xi [C x tiles]. So a convolution is: the input
// transform V = Bt d B of every tile, a*a GEMMs through the same kernels as the direct path,
// and the output transform y = At M A of every tile, plus the epilogue. F(2x2) does 2.25
// times fewer multiplies than the direct convolution, F(4x4) 4 times, at the price of
// rounding errors that grow with the transforms' coefficients (measured in
// TestWinogradError).

// convAlgo is how a convolution is computed.
type convAlgo int

const (
	algoDirect convAlgo = iota // the GEMM over im2col or padded rows (conv_bands.go, conv_pad.go)
	algoWino2                  // Winograd F(2x2, 3x3)
	algoWino4                  // Winograd F(4x4, 3x3)
)

// convMode is what SEGMENT_CONV asks for: "auto" (the default) lets winogradFor choose per
// layer by shape; "direct", "winograd" (F(2x2)) and "winograd4" (F(4x4)) force one wherever
// it applies, for tests and benchmarks. convModeErr is set when the variable holds anything
// else, and every convolution then fails with it.
var convMode, convModeErr = parseConvMode(os.Getenv("SEGMENT_CONV"))

func parseConvMode(s string) (string, error) {
	switch s {
	case "", "auto":
		return "auto", nil
	case "direct", "winograd", "winograd4":
		return s, nil
	}
	return "auto", fmt.Errorf("SEGMENT_CONV=%q: want auto, direct, winograd or winograd4", s)
}

// winogradFor chooses the algorithm of the convolution of n images of geometry g into co
// channels. The choice changes the floats, so it depends on the shape alone, never on
// timing. Winograd applies to 3x3 stride-1 pad-1 convolutions; auto (while autoWinograd is
// on) takes F(2x2) on layers of at least autoMinChannels channels in and out and
// autoMinTiles tiles in the batch whose transformed filters (16 C co floats) are at most
// 1/autoFilterShare of the layer's input and output together, and F(4x4) nowhere.
//
// The speed thresholds are from BenchmarkConv3x3 on the 2-core development machine, run
// while it was heavily shared (2026-11-28, ratios to the direct path noisy by about 30%):
// with fewer channels the transforms, which cost per channel, outweigh the products saved
// (ratios 1.1 to 4 below 128 channels), and with fewer tiles each of the 16 GEMMs is too
// narrow to pay for packing its filters (ratios 1.4 to 2.6 on 16x16 images of one). Where it
// applies, the ratio was 0.45 to 0.95 with the filters' transform kept (inference) and
// about 1 with it made at every pass (a training step's forward; its input gradient reads
// the same transform). F(4x4) was slower than F(2x2) at every shape: its transforms are
// twice as costly and its 36 GEMMs are narrower.
//
// The filters' share is for memory: the direct path needs nothing beside a layer's
// activations and weights but a few megabytes of bands, while Winograd keeps the
// transformed filters (16/9 of the weights, plus a copy of the weights, in the cache), so
// on deep layers, whose weights are large and activations small, it would add far more
// than the 10% of peak memory it may. Without the share, inference's peak memory was 17 to
// 48% above the direct path's (segment bench's shapes: base 64 386 MiB against 261); with
// it, it takes the layers of 128 channels at 128x128 (base 64) and 64x64 (base 32, batch 2)
// and none of base 16, and the peak memory of inference is 2 to 7% above the direct
// path's, that of a training step 0 to 2% (segment bench --steps 2, 2026-11-29).
func winogradFor(g convGeom, co, n int) convAlgo {
	if g.K != 3 || g.S != 1 || g.P != 1 {
		return algoDirect
	}
	switch convMode {
	case "winograd":
		return algoWino2
	case "winograd4":
		return algoWino4
	case "direct":
		return algoDirect
	}
	tiles := n * ((g.OH + 1) / 2) * ((g.OW + 1) / 2)
	fits := 16*g.C*co*autoFilterShare <= n*(g.C+co)*g.H*g.W
	if autoWinograd && g.C >= autoMinChannels && co >= autoMinChannels && tiles >= autoMinTiles && fits {
		return algoWino2
	}
	return algoDirect
}

// autoMinChannels, autoMinTiles and autoFilterShare are auto's thresholds (see
// winogradFor).
var autoMinChannels, autoMinTiles, autoFilterShare = 128, 256, 4

// autoWinograd turns auto's rule on (the direct path everywhere when off).
var autoWinograd = true

// wino is one Winograd algorithm F(m x m, 3 x 3): its transform matrices, with Bt and At
// as lists of their non-zero entries per row, since most of theirs are zero.
type wino struct {
	m, a int
	bt   [][]term     // a rows of Bt [a x a]
	g    [][3]float64 // G [a x 3]
	at   [][]term     // m rows of At [m x a]
}

type term struct {
	j int
	v float64
}

func sparse(rows [][]float64) [][]term {
	out := make([][]term, len(rows))
	for i, r := range rows {
		for j, v := range r {
			if v != 0 {
				out[i] = append(out[i], term{j, v})
			}
		}
	}
	return out
}

// The matrices for the interpolation points 0, 1, -1 (F(2x2)) and 0, 1, -1, 2, -2
// (F(4x4)), plus infinity, as in Lavin and Gray, "Fast Algorithms for Convolutional Neural
// Networks" (2015).
var (
	wino2 = &wino{m: 2, a: 4,
		bt: sparse([][]float64{
			{1, 0, -1, 0},
			{0, 1, 1, 0},
			{0, -1, 1, 0},
			{0, 1, 0, -1},
		}),
		g: [][3]float64{
			{1, 0, 0},
			{0.5, 0.5, 0.5},
			{0.5, -0.5, 0.5},
			{0, 0, 1},
		},
		at: sparse([][]float64{
			{1, 1, 1, 0},
			{0, 1, -1, -1},
		}),
	}
	wino4 = &wino{m: 4, a: 6,
		bt: sparse([][]float64{
			{4, 0, -5, 0, 1, 0},
			{0, -4, -4, 1, 1, 0},
			{0, 4, -4, -1, 1, 0},
			{0, -2, -1, 2, 1, 0},
			{0, 2, -1, -2, 1, 0},
			{0, 4, 0, -5, 0, 1},
		}),
		g: [][3]float64{
			{1.0 / 4, 0, 0},
			{-1.0 / 6, -1.0 / 6, -1.0 / 6},
			{-1.0 / 6, 1.0 / 6, -1.0 / 6},
			{1.0 / 24, 1.0 / 12, 1.0 / 6},
			{1.0 / 24, -1.0 / 12, 1.0 / 6},
			{0, 0, 1},
		},
		at: sparse([][]float64{
			{1, 1, 1, 1, 1, 0},
			{0, 1, -1, 2, -2, 0},
			{0, 1, 1, 4, 4, 0},
			{0, 1, -1, 8, -8, 1},
		}),
	}
)

func (algo convAlgo) wino() *wino {
	if algo == algoWino4 {
		return wino4
	}
	return wino2
}

// winoFilters transforms the weights w [co, C, 3, 3] into u [a*a][C][co], u_xi = (G w
// G^T)_xi, in float64 before rounding once, since G's coefficients (1/6, 1/24) are not
// exact. Each u_xi is stored transposed, which the GEMM packs with plain copies.
func winoFilters[T float](algo convAlgo, co, c int, w, u []T) {
	wn := algo.wino()
	a := wn.a
	u = u[:a*a*co*c]
	// Blocks of 16 output channels: the reads of w run along 16 of its rows and the writes
	// along a cache line of each of the a*a matrices.
	const ob = 16
	parallel.For((co+ob-1)/ob, parallel.Workers(), func(blk int) {
		var k [9]float64
		var t [6][3]float64
		for ci := 0; ci < c; ci++ {
			for o := blk * ob; o < min((blk+1)*ob, co); o++ {
				for i, v := range w[(o*c+ci)*9:][:9] {
					k[i] = float64(v)
				}
				if a == 4 && !winoGeneric {
					// F(2x2): G's rows are (1,0,0), (1,1,1)/2, (1,-1,1)/2, (0,0,1).
					for j := 0; j < 3; j++ {
						t[0][j], t[3][j] = k[j], k[6+j]
						t[1][j], t[2][j] = (k[j]+k[3+j]+k[6+j])*0.5, (k[j]-k[3+j]+k[6+j])*0.5
					}
					for p := 0; p < 4; p++ {
						r := t[p]
						u[((p*4+0)*c+ci)*co+o] = T(r[0])
						u[((p*4+1)*c+ci)*co+o] = T((r[0] + r[1] + r[2]) * 0.5)
						u[((p*4+2)*c+ci)*co+o] = T((r[0] - r[1] + r[2]) * 0.5)
						u[((p*4+3)*c+ci)*co+o] = T(r[2])
					}
					continue
				}
				for p := 0; p < a; p++ {
					gp := wn.g[p]
					for j := 0; j < 3; j++ {
						t[p][j] = gp[0]*k[j] + gp[1]*k[3+j] + gp[2]*k[6+j]
					}
				}
				for p := 0; p < a; p++ {
					for q := 0; q < a; q++ {
						gq := wn.g[q]
						u[((p*a+q)*c+ci)*co+o] = T(t[p][0]*gq[0] + t[p][1]*gq[1] + t[p][2]*gq[2])
					}
				}
			}
		}
	})
}

// winoGeom is the tiling of a convolution: th x tw tiles of m x m outputs per image, and
// the length of the rows the transforms work on.
type winoGeom struct {
	*wino
	th, tw int
	pw     int // tw*m + 2: a tile row's input columns, with the padding
}

func newWinoGeom(algo convAlgo, g convGeom) winoGeom {
	wn := algo.wino()
	tw := (g.OW + wn.m - 1) / wn.m
	return winoGeom{wino: wn, th: (g.OH + wn.m - 1) / wn.m, tw: tw, pw: tw*wn.m + 2}
}

// tmp is the floats of per-goroutine scratch the transforms need: a rows of input, or the
// half-transformed outputs and one row.
func (wg winoGeom) tmp() int { return max(wg.a*wg.pw+wg.pw, (wg.a+1)*wg.m*wg.tw) }

// winoGeneric makes F(2x2) use the general transforms, for tests to check the two against
// each other.
var winoGeneric = false

// winoBandFloats is what a band's transformed input and output aim at, and minWinoTiles
// the fewest tiles a band has (or all of an image's): each of a band's GEMMs packs its
// a*a transformed filters again, which fewer tiles would not pay for. Bands run side by
// side, one per core, each with its own transformed input and output, so they are also
// what Winograd needs beside the direct path's bands: at 256 tiles and 1 << 20 floats, a
// 256 to 128 channel layer's bands took 6 MiB per core, and inference's peak memory was
// 10% above the direct path's at base 32; at 128 tiles, 3%.
var winoBandFloats, minWinoTiles = 1 << 18, 128

// planWino cuts the convolution of n images into bands of whole tile rows.
func planWino(g convGeom, wg winoGeom, n, co int) bandPlan {
	perRow := wg.a * wg.a * (g.C + co) * wg.tw
	tr := min(max(winoBandFloats/max(1, perRow), (minWinoTiles+wg.tw-1)/wg.tw, 1), wg.th)
	p := bandPlan{rows: tr * wg.m, per: (wg.th + tr - 1) / tr, workers: 1}
	nw := parallel.Workers()
	if nw > 1 && n*p.per >= 2*nw {
		p.workers = nw
	} else {
		// One band at a time, its transforms split over the cores: scratch for each.
		p.scratch = (nw - 1) * wg.tmp()
	}
	p.scratch += wg.a*wg.a*(g.C+co)*tr*wg.tw + wg.tmp()
	return p
}

// convWinograd computes what convForward does, for a 3x3 stride-1 pad-1 geometry, by algo.
func convWinograd[T float](algo convAlgo, g convGeom, co, n int, x, w, y []T, ep *epilogue[T]) {
	f, done := winoFiltersFor(algo, co, g.C, w, false)
	defer done()
	convWinogradWith(algo, g, co, n, x, f, y, ep)
}

// convWinogradWith is convWinograd with the filters transformed already.
func convWinogradWith[T float](algo convAlgo, g convGeom, co, n int, x []T, f winoFilter[T], y []T, ep *epilogue[T]) {
	wg := newWinoGeom(algo, g)
	p := planWino(g, wg, n, co)
	big, small := g.C*g.H*g.W, co*g.cols()
	aa := wg.a * wg.a
	runBands(g, n, p, false, func(_, i, oy0, oy1 int, buf []T, par bool) {
		ty0, ty1 := oy0/wg.m, (oy1+wg.m-1)/wg.m
		nt := (ty1 - ty0) * wg.tw
		v, m := buf[:aa*g.C*nt], buf[aa*g.C*nt:][:aa*co*nt]
		tmp := buf[aa*(g.C+co)*nt:]
		nw := 1
		if par {
			nw = parallel.Workers()
		}
		xi, yi := x[i*big:(i+1)*big], y[i*small:(i+1)*small]
		input, output := winoInput[T], winoOutput[T]
		if wg.m == 2 && !winoGeneric {
			input, output = winoInput2[T], winoOutput2[T]
		}
		parallel.ForWorker(g.C, nw, func(wk, c int) {
			input(wg, g, xi[c*g.H*g.W:][:g.H*g.W], v[c*nt:], g.C*nt, ty0, ty1, tmp[wk*wg.tmp():][:wg.tmp()])
		})
		parallel.For(aa, nw, func(xi int) {
			a, trans, lda := f.a(xi, co, g.C)
			gemmSerial(trans, false, co, nt, g.C, a, lda, v[xi*g.C*nt:], nt, 0, m[xi*co*nt:], nt)
		})
		parallel.ForWorker(co, nw, func(wk, o int) {
			output(wg, g, m[o*nt:], co*nt, yi[o*g.cols():][:g.cols()], ty0, ty1, oy1, tmp[wk*wg.tmp():][:wg.tmp()])
			if ep != nil {
				ep.apply(yi[o*g.cols()+oy0*g.OW:][:(oy1-oy0)*g.OW], o)
			}
		})
	})
}

// winoInput transforms tile rows [ty0, ty1) of one channel xc [H, W] into v, the transformed
// position xi of tile t at v[xi*ld+t] (t counted from the band's first tile). First the rows
// of each tile row combine, t_p = sum_i Bt[p][i] row_i (zero-padded), for all its tiles at
// once, then the columns, tile by tile.
func winoInput[T float](wg winoGeom, g convGeom, xc, v []T, ld, ty0, ty1 int, tmp []T) {
	a, m := wg.a, wg.m
	t := tmp[:a*wg.pw]
	for ty := ty0; ty < ty1; ty++ {
		for p := 0; p < a; p++ {
			tp := t[p*wg.pw:][:wg.pw]
			clear(tp)
			dst := tp[1:][:g.W]
			for _, e := range wg.bt[p] {
				iy := ty*m - 1 + e.j
				if iy < 0 || iy >= g.H {
					continue
				}
				c := T(e.v)
				for k, x := range xc[iy*g.W:][:g.W] {
					dst[k] += c * x
				}
			}
		}
		base := (ty - ty0) * wg.tw
		for p := 0; p < a; p++ {
			tp := t[p*wg.pw:][:wg.pw]
			for q := 0; q < a; q++ {
				dst := v[(p*a+q)*ld+base:][:wg.tw]
				for k, e := range wg.bt[q] {
					c, src := T(e.v), tp[e.j:]
					if k == 0 {
						for tx := range dst {
							dst[tx] = c * src[tx*m]
						}
						continue
					}
					for tx := range dst {
						dst[tx] += c * src[tx*m]
					}
				}
			}
		}
	}
}

// winoOutput transforms back the products of one output channel, mo (position xi of tile t
// at mo[xi*ld+t]), into output rows [ty0*m, min((ty1)*m, oy1)) of yo [OH, OW], dropping the
// positions of the last tiles that lie outside the image.
func winoOutput[T float](wg winoGeom, g convGeom, mo []T, ld int, yo []T, ty0, ty1, oy1 int, tmp []T) {
	a, m := wg.a, wg.m
	s := tmp[:a*m*wg.tw] // s[(p*m+j)*tw+tx] = sum_q At[j][q] M[p][q] of tile tx
	r := tmp[a*m*wg.tw:][:wg.tw*m]
	for ty := ty0; ty < ty1; ty++ {
		base := (ty - ty0) * wg.tw
		for p := 0; p < a; p++ {
			for j := 0; j < m; j++ {
				dst := s[(p*m+j)*wg.tw:][:wg.tw]
				for k, e := range wg.at[j] {
					c, src := T(e.v), mo[(p*a+e.j)*ld+base:][:wg.tw]
					if k == 0 {
						for tx, x := range src {
							dst[tx] = c * x
						}
						continue
					}
					for tx, x := range src {
						dst[tx] += c * x
					}
				}
			}
		}
		for i := 0; i < m && ty*m+i < oy1; i++ {
			for j := 0; j < m; j++ {
				for k, e := range wg.at[i] {
					c, src := T(e.v), s[(e.j*m+j)*wg.tw:][:wg.tw]
					if k == 0 {
						for tx, x := range src {
							r[tx*m+j] = c * x
						}
						continue
					}
					for tx, x := range src {
						r[tx*m+j] += c * x
					}
				}
			}
			copy(yo[(ty*m+i)*g.OW:][:g.OW], r[:g.OW])
		}
	}
}

// winoInput2 is winoInput for F(2x2), written out: Bt's entries are 0 and ±1, so a tile
// takes 32 additions, and the rows' pass runs over whole rows.
func winoInput2[T float](wg winoGeom, g convGeom, xc, v []T, ld, ty0, ty1 int, tmp []T) {
	pw, tw := wg.pw, wg.tw
	t0, t1, t2, t3 := tmp[:pw], tmp[pw:2*pw], tmp[2*pw:3*pw], tmp[3*pw:4*pw]
	zero := tmp[4*pw:][:g.W]
	clear(zero)
	row := func(iy int) []T {
		if iy < 0 || iy >= g.H {
			return zero
		}
		return xc[iy*g.W:][:g.W]
	}
	for _, t := range [][]T{t0, t1, t2, t3} {
		t[0] = 0
		clear(t[g.W+1:])
	}
	for ty := ty0; ty < ty1; ty++ {
		r0, r1, r2, r3 := row(2*ty-1), row(2*ty), row(2*ty+1), row(2*ty+2)
		u0, u1, u2, u3 := t0[1:][:g.W], t1[1:][:g.W], t2[1:][:g.W], t3[1:][:g.W]
		// Cut to u0's length, so that the loop indexes them without bounds checks.
		r0, r1, r2, r3 = r0[:len(u0)], r1[:len(u0)], r2[:len(u0)], r3[:len(u0)]
		for k := range u0 {
			u0[k] = r0[k] - r2[k]
			u1[k] = r1[k] + r2[k]
			u2[k] = r2[k] - r1[k]
			u3[k] = r1[k] - r3[k]
		}
		base := (ty - ty0) * tw
		for p, t := range [][]T{t0, t1, t2, t3} {
			v0 := v[(4*p+0)*ld+base:][:tw]
			v1 := v[(4*p+1)*ld+base:][:tw]
			v2 := v[(4*p+2)*ld+base:][:tw]
			v3 := v[(4*p+3)*ld+base:][:tw]
			t = t[:2*tw+2]
			for tx := range v0 {
				q := t[2*tx:][:4]
				v0[tx] = q[0] - q[2]
				v1[tx] = q[1] + q[2]
				v2[tx] = q[2] - q[1]
				v3[tx] = q[1] - q[3]
			}
		}
	}
}

// winoOutput2 is winoOutput for F(2x2), written out: At's entries are 0 and ±1.
func winoOutput2[T float](wg winoGeom, g convGeom, mo []T, ld int, yo []T, ty0, ty1, oy1 int, tmp []T) {
	tw := wg.tw
	y0, y1 := tmp[:2*tw], tmp[2*tw:4*tw]
	for ty := ty0; ty < ty1; ty++ {
		base := (ty - ty0) * tw
		// One slice per position, each cut to the same length, so that the loop below
		// indexes them all without bounds checks.
		row := func(xi int) []T { return mo[xi*ld+base:][:tw] }
		m0, m1, m2, m3 := row(0), row(1), row(2), row(3)
		m4, m5, m6, m7 := row(4), row(5), row(6), row(7)
		m8, m9, m10, m11 := row(8), row(9), row(10), row(11)
		m12, m13, m14, m15 := row(12), row(13), row(14), row(15)
		for tx := range m0 {
			// s[p][j] = sum_q At[j][q] M[p][q], then y[i][j] = sum_p At[i][p] s[p][j].
			s00 := m0[tx] + m1[tx] + m2[tx]
			s01 := m1[tx] - m2[tx] - m3[tx]
			s10 := m4[tx] + m5[tx] + m6[tx]
			s11 := m5[tx] - m6[tx] - m7[tx]
			s20 := m8[tx] + m9[tx] + m10[tx]
			s21 := m9[tx] - m10[tx] - m11[tx]
			s30 := m12[tx] + m13[tx] + m14[tx]
			s31 := m13[tx] - m14[tx] - m15[tx]
			o0, o1 := y0[2*tx:][:2], y1[2*tx:][:2]
			o0[0] = s00 + s10 + s20
			o0[1] = s01 + s11 + s21
			o1[0] = s10 - s20 - s30
			o1[1] = s11 - s21 - s31
		}
		oy := 2 * ty
		copy(yo[oy*g.OW:][:g.OW], y0)
		if oy+1 < oy1 {
			copy(yo[(oy+1)*g.OW:][:g.OW], y1)
		}
	}
}
