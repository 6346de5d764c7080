package unet

import (
	"github.com/segment-dev/segment/internal/parallel"
	"github.com/segment-dev/segment/kernels"
)

// A float32 stride-1 convolution never writes its columns matrix (im2col) out. It copies
// the band's input rows once into a zero-padded buffer, PW = W+2P floats a row; there, row
// (c, ky, kx) of the columns matrix, over output positions numbered oy*PW+ox, is simply the
// padded channel c read from offset ky*PW+kx on. The GEMM's packing reads those rows in
// place (padSource), computing PW-OW extra positions per output row, which the write-back
// drops. Against im2col this saves writing and re-reading K*K copies of the input.

// paddedConv says whether convForward runs this geometry and type on padded rows. Narrow
// images stay with im2col: their extra positions (2P of every W+2P) would cost more
// products than the copies save, and deep layers' many channels make the copies cheap
// beside the products anyway.
func paddedConv[T float](g convGeom) bool {
	_, f32 := any(T(0)).(float32)
	return f32 && g.S == 1 && !g.direct() && g.OW >= minPaddedWidth
}

// minPaddedWidth is the narrowest output that runs on padded rows (a variable for tests).
var minPaddedWidth = 48

// padGeom is the layout of one band of R output rows: R+K-1 padded input rows of PW floats
// per channel, and n GEMM columns (all PW positions of each output row but the last, whose
// extra positions would read past the buffer).
type padGeom struct {
	R, rows, PW, n int
}

func (g convGeom) pad(r int) padGeom {
	pw := g.W + 2*g.P
	return padGeom{R: r, rows: r + g.K - 1, PW: pw, n: (r-1)*pw + g.OW}
}

// planPadded cuts the convolution of n images into co channels into bands whose padded
// input and output together are about bandFloats; the scratch holds both.
func (g convGeom) planPadded(n, co int) bandPlan {
	pw := g.W + 2*g.P
	r := bandFloats / max(1, (g.C+co)*pw)
	r = min(max(r, (2*minBandCols+pw-1)/pw, 1), g.OH)
	pg := g.pad(r)
	p := bandPlan{rows: r, per: (g.OH + r - 1) / r, workers: 1, scratch: g.C*pg.rows*pg.PW + co*pg.n}
	if w := parallel.Workers(); w > 1 && n*p.per >= 2*w {
		p.workers = w
	}
	return p
}

// padRows copies the input rows of output rows [oy0, oy0+R) of image x [C, H, W] into xp,
// zero-padded: xp[c][t][P+ix] = x[c][oy0-P+t][ix].
func padRows(g convGeom, pg padGeom, x, xp []float32, oy0 int, par bool) {
	nw := 1
	if par {
		nw = parallel.Workers()
	}
	parallel.For(g.C, nw, func(c int) {
		xc := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for t := 0; t < pg.rows; t++ {
			dst := xp[(c*pg.rows+t)*pg.PW:][:pg.PW]
			iy := oy0 - g.P + t
			if iy < 0 || iy >= g.H {
				clear(dst)
				continue
			}
			clear(dst[:g.P])
			copy(dst[g.P:], xc[iy*g.W:(iy+1)*g.W])
			clear(dst[g.P+g.W:])
		}
	})
}

// padSource packs the columns matrix of a band from its padded rows (kernels.PanelSource).
type padSource struct {
	g  convGeom
	pg padGeom
	xp []float32
	j0 int // the first GEMM column of this part of the band
}

func (s *padSource) PackPanels(dst []float32, nr, p0, j0, kb, nb int) {
	g, kk := s.g, s.g.K*s.g.K
	for p := 0; p < kb; {
		r := p0 + p
		c, ky, kx := r/kk, r%kk/g.K, r%g.K
		// The rows (c, ky, kx..K-1) start one float apart: one call packs them all.
		run := min(g.K-kx, kb-p)
		off := (c*s.pg.rows+ky)*s.pg.PW + kx + s.j0 + j0
		kernels.PackRows(dst[p*nr:], kb*nr, nr, s.xp[off:], 1, run, nb)
		p += run
	}
}

// convBandPadded computes one band of output rows [oy0, oy0+R) of one image into yi
// [co, OH*OW], with scratch xp for the padded rows and yp for the GEMM's output, and then
// the epilogue. With par the copies split over the channels and the GEMM over its columns.
func convBandPadded(g convGeom, co int, xi, w, yi []float32, oy0, r int, xp, yp []float32, ep *epilogue[float32], par bool) {
	pg := g.pad(r)
	padRows(g, pg, xi, xp, oy0, par)
	nw := 1
	if par {
		nw = parallel.Workers()
	}
	if nw > 1 && pg.n >= 256*nw {
		// Split the columns: each core packs and multiplies its own.
		step := ((pg.n+nw-1)/nw + 63) / 64 * 64 // whole panels for every implementation
		parallel.Do(nw, func(i int) {
			j0, j1 := i*step, min((i+1)*step, pg.n)
			if j0 < j1 {
				src := &padSource{g: g, pg: pg, xp: xp, j0: j0}
				kernels.SgemmSource(false, co, j1-j0, g.rows(), 1, w, g.rows(), src, 0, yp[j0:], pg.n)
			}
		})
	} else {
		// Too few columns to share out (deep layers): split the output channels, each
		// core packing the columns again, which costs little beside its rows of products.
		step := ((co+nw-1)/nw + 7) / 8 * 8
		parallel.Do(nw, func(i int) {
			c0, c1 := i*step, min((i+1)*step, co)
			if c0 < c1 {
				src := &padSource{g: g, pg: pg, xp: xp}
				kernels.SgemmSource(false, c1-c0, pg.n, g.rows(), 1, w[c0*g.rows():], g.rows(), src, 0, yp[c0*pg.n:], pg.n)
			}
		})
	}
	nwc := 1
	if par {
		nwc = parallel.Workers()
	}
	parallel.For(co, nwc, func(ch int) {
		for t := 0; t < r; t++ {
			dst, src := yi[ch*g.cols()+(oy0+t)*g.OW:][:g.OW], yp[ch*pg.n+t*pg.PW:][:g.OW]
			if ep == nil {
				copy(dst, src)
			} else {
				ep.applyTo(dst, src, ch)
			}
		}
	})
}
