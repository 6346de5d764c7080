// Command gen writes the Go assembly of package kernels with avo.
//
// Run it through go generate in the kernels directory:
//
//	go generate ./kernels
//
// It writes sgemm_amd64.s and its declarations, stubs_amd64.go. Both
// carry the build constraint !noasm, so that -tags noasm builds the
// pure-Go twin in kernels instead. The generator has its own go.mod so
// that avo is not a dependency of the segment module.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// kernelSignature is shared by every micro-kernel; see kernelDoc.
const kernelSignature = "func(k int, a, b, c *float32, ldc int, alpha, beta float32, pf uintptr)"

func kernelDoc(name string, mr, nr int, isa string) {
	Doc(
		fmt.Sprintf("%s is the %dx%d %s micro-kernel. With A packed as k columns", name, mr, nr, isa),
		fmt.Sprintf("of %d floats (a[p*%d+i]) and B packed as k rows of %d floats (b[p*%d+j]),", mr, mr, nr, nr),
		"it computes for i < "+fmt.Sprint(mr)+", j < "+fmt.Sprint(nr)+":",
		"",
		fmt.Sprintf("\tc[i*ldc+j] = alpha*sum_p a[p*%d+i]*b[p*%d+j] + beta*c[i*ldc+j]", mr, nr),
		"",
		"where beta == 0 stores without reading c. k must be at least 1.",
		"While it runs it prefetches (k+3)/4 cache lines from pf on into L2, an",
		"address that need not be valid: the driver points it at the source of",
		"the next block of B to pack.",
	)
}

func main() {
	ConstraintExpr("!noasm")

	// On the Zen 5 machine this was tuned on, zmm FMAs issue at one per
	// cycle and ymm FMAs at two, so both kernels have the same peak
	// (about 115 GFLOP/s per core). 8x32 with the A element as an
	// embedded broadcast ran as fast as 12x32 and 14x32 with explicit
	// broadcasts, and 8 divides every channel count of the U-Net.
	avx512Kernel("sgemmKernel8x32AVX512", 8, true)
	avx2Kernel("sgemmKernel6x16AVX2", 6)
	packPanels("packPanels32AVX", 32)
	packPanels("packPanels16AVX", 16)
	transpose8("transpose8AVX")
	affine("affineAVX2", false)
	affine("affineReluAVX2", true)
	reduce("sum64AVX2", "func(n int, x *float32) float64", "the sum of x[i]", 0)
	reduce("sumSquaresAVX2", "func(n int, x *float32, mean float64) float64", "the sum of (x[i]-mean)^2", 1)
	reduce("dotCentredAVX2", "func(n int, d, x *float32, mean float64) float64", "the sum of d[i]*(x[i]-mean)", 2)
	reluGrad("reluGradAVX2")
	axpbyc("axpbycAVX2")
	fmaPeak("fmaPeakAVX512", 512)
	fmaPeak("fmaPeakAVX2", 256)

	Generate()
}

// zmm returns Z0..Z31 by number.
func zmm(i int) VecPhysical {
	return []VecPhysical{
		Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31,
	}[i]
}

// ymm returns Y0..Y15 by number.
func ymm(i int) VecPhysical {
	return []VecPhysical{
		Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15,
	}[i]
}

// avx512Kernel writes an mr x 32 micro-kernel on zmm registers (AVX-512F).
//
// Register plan (nv = 2 vectors of 16 floats per tile row):
//
//	CX            remaining k
//	SI            packed A, advancing mr floats per k
//	DI            packed B, advancing 32 floats per k
//	R9            prefetch address (pf), advancing one line per 4 k
//	DX, R8        row pointer of C and ldc*4, for the prefetch of the tile
//	              and, reloaded, for the write-back
//	Z0..Z(2mr-1)  accumulators: row i in Z(2i) (columns 0..15) and
//	              Z(2i+1) (columns 16..31)
//	Z(2mr), +1    the current row of packed B; alpha and beta in the
//	              write-back
//	Z(2mr+2), +3  with embedded == false, broadcasts of A elements, used
//	              alternately (mr <= 14); with embedded == true the FMAs
//	              take the A element as an embedded 32-bit broadcast from
//	              memory (VFMADD231PS.BCST) and no register holds it
//	              (mr <= 15).
func avx512Kernel(name string, mr int, embedded bool) {
	const nr, nv = 32, 2
	TEXT(name, NOSPLIT, kernelSignature)
	Pragma("noescape")
	kernelDoc(name, mr, nr, "AVX-512")

	acc := func(i, v int) VecPhysical { return zmm(i*nv + v) }
	bv := []VecPhysical{zmm(2 * mr), zmm(2*mr + 1)}
	var bc []VecPhysical
	if !embedded {
		bc = []VecPhysical{zmm(2*mr + 2), zmm(2*mr + 3)}
	}

	k := Load(Param("k"), RCX)
	a := Load(Param("a"), RSI)
	b := Load(Param("b"), RDI)
	prefetchC(mr, nr)
	Load(Param("pf"), R9)

	Comment("Zero the accumulators.")
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			VPXORD(acc(i, v), acc(i, v), acc(i, v))
		}
	}

	step := func(u int) {
		aoff, boff := u*mr*4, u*nr*4
		for v := 0; v < nv; v++ {
			VMOVUPS(Mem{Base: b, Disp: boff + 64*v}, bv[v])
		}
		for i := 0; i < mr; i++ {
			m := Mem{Base: a, Disp: aoff + 4*i}
			if embedded {
				for v := 0; v < nv; v++ {
					VFMADD231PS_BCST(m, bv[v], acc(i, v))
				}
				continue
			}
			t := bc[i%2]
			VBROADCASTSS(m, t)
			for v := 0; v < nv; v++ {
				VFMADD231PS(bv[v], t, acc(i, v))
			}
		}
	}
	const unroll = 4
	Comment(fmt.Sprintf("Main loop, %d steps of k per iteration.", unroll))
	Label("loop4")
	CMPQ(k, U8(unroll))
	JL(LabelRef("tail"))
	for u := 0; u < unroll; u++ {
		if u == 1 {
			PREFETCHT1(Mem{Base: R9})
		}
		step(u)
	}
	ADDQ(U8(64), R9)
	ADDQ(U32(unroll*mr*4), a)
	ADDQ(U32(unroll*nr*4), b)
	SUBQ(U8(unroll), k)
	JMP(LabelRef("loop4"))

	Label("tail")
	TESTQ(k, k)
	JE(LabelRef("writeback"))
	step(0)
	ADDQ(U32(mr*4), a)
	ADDQ(U32(nr*4), b)
	DECQ(k)
	JMP(LabelRef("tail"))

	Label("writeback")
	writeback(mr, nv, 64, acc, bv[0], bv[1])
}

// writeback stores the accumulators to C: c = alpha*acc + beta*c, or
// c = alpha*acc without reading c when beta is 0 (so NaNs in C do not
// propagate). Rows of the tile are vbytes*nv bytes; alpha and beta are
// free vector registers; DX and R8 hold c and ldc*4.
func writeback(mr, nv, vbytes int, acc func(i, v int) VecPhysical, alpha, beta VecPhysical) {
	c := Load(Param("c"), RDX)
	ldc := Load(Param("ldc"), R8)
	SHLQ(U8(2), ldc)
	al, _ := Param("alpha").Resolve()
	be, _ := Param("beta").Resolve()
	VBROADCASTSS(al.Addr, alpha)
	MOVL(be.Addr, EAX)
	ANDL(U32(0x7fffffff), EAX)
	JE(LabelRef("beta0"))

	Comment("c = alpha*acc + beta*c")
	VBROADCASTSS(be.Addr, beta)
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			m := Mem{Base: c, Disp: vbytes * v}
			VMULPS(alpha, acc(i, v), acc(i, v))
			VFMADD231PS(m, beta, acc(i, v))
			VMOVUPS(acc(i, v), m)
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()

	Label("beta0")
	Comment("c = alpha*acc, c is not read")
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			m := Mem{Base: c, Disp: vbytes * v}
			VMULPS(alpha, acc(i, v), acc(i, v))
			VMOVUPS(acc(i, v), m)
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// avx2Kernel writes an mr x 16 micro-kernel on ymm registers (AVX2 + FMA).
//
// Register plan (nv = 2 vectors of 8 floats per tile row), for mr = 6:
//
//	CX, SI, DI  remaining k, packed A (mr floats per k), packed B (16 floats per k)
//	R9          prefetch address (pf), advancing one line per 4 k
//	DX, R8      row pointer of C and ldc*4 (prefetch, then write-back)
//	Y0..Y11     accumulators: row i in Y(2i) (columns 0..7) and Y(2i+1) (8..15)
//	Y12, Y13    the current row of packed B
//	Y14, Y15    broadcasts of A elements, used alternately
//	write-back: DX row pointer of C, R8 = ldc*4, Y12 alpha, Y13 beta.
func avx2Kernel(name string, mr int) {
	const nr, nv = 16, 2
	TEXT(name, NOSPLIT, kernelSignature)
	Pragma("noescape")
	kernelDoc(name, mr, nr, "AVX2+FMA")

	acc := func(i, v int) VecPhysical { return ymm(i*nv + v) }
	bv := []VecPhysical{ymm(2 * mr), ymm(2*mr + 1)}
	bc := []VecPhysical{ymm(2*mr + 2), ymm(2*mr + 3)}

	k := Load(Param("k"), RCX)
	a := Load(Param("a"), RSI)
	b := Load(Param("b"), RDI)
	prefetchC(mr, nr)
	Load(Param("pf"), R9)

	Comment("Zero the accumulators.")
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			VXORPS(acc(i, v), acc(i, v), acc(i, v))
		}
	}

	step := func(u int) {
		aoff, boff := u*mr*4, u*nr*4
		for v := 0; v < nv; v++ {
			VMOVUPS(Mem{Base: b, Disp: boff + 32*v}, bv[v])
		}
		for i := 0; i < mr; i++ {
			t := bc[i%2]
			VBROADCASTSS(Mem{Base: a, Disp: aoff + 4*i}, t)
			for v := 0; v < nv; v++ {
				VFMADD231PS(bv[v], t, acc(i, v))
			}
		}
	}
	const unroll = 4
	Comment(fmt.Sprintf("Main loop, %d steps of k per iteration.", unroll))
	Label("loop4")
	CMPQ(k, U8(unroll))
	JL(LabelRef("tail"))
	for u := 0; u < unroll; u++ {
		if u == 1 {
			PREFETCHT1(Mem{Base: R9})
		}
		step(u)
	}
	ADDQ(U8(64), R9)
	ADDQ(U32(unroll*mr*4), a)
	ADDQ(U32(unroll*nr*4), b)
	SUBQ(U8(unroll), k)
	JMP(LabelRef("loop4"))

	Label("tail")
	TESTQ(k, k)
	JE(LabelRef("writeback"))
	step(0)
	ADDQ(U32(mr*4), a)
	ADDQ(U32(nr*4), b)
	DECQ(k)
	JMP(LabelRef("tail"))

	Label("writeback")
	writeback(mr, nv, 32, acc, bv[0], bv[1])
}

// packPanels writes a routine packing a rows x (panels*w) block of a
// row-major matrix into panels of w columns (w a multiple of 8), ldp
// floats apart:
//
//	dst[q*ldp + r*w + j] = src[r*lds + q*w + j]
//
// It walks the source row by row, so that reads are sequential and the
// hardware prefetcher follows them, and scatters each row's pieces to
// the panels.
//
// Register plan: CX rows left, SI source row, DI destination of the row
// in panel 0, R8 = lds*4, R9 = rows*w*4 (the panel stride), R10 panels
// left in the row, R11 source piece, R12 destination piece, Y0.. the
// piece in flight.
func packPanels(name string, w int) {
	TEXT(name, NOSPLIT, "func(rows, panels int, src *float32, lds int, dst *float32, ldp int)")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s packs rows x panels*%d floats of src (stride lds) into panels of %d", name, w, w),
		fmt.Sprintf("columns ldp floats apart: dst[q*ldp+r*%d+j] = src[r*lds+q*%d+j]. rows and panels", w, w),
		"are at least 1. It needs AVX.",
	)
	n := Load(Param("rows"), RCX)
	np := Load(Param("panels"), RBX)
	src := Load(Param("src"), RSI)
	lds := Load(Param("lds"), R8)
	dst := Load(Param("dst"), RDI)
	SHLQ(U8(2), lds)
	stride := Load(Param("ldp"), R9)
	SHLQ(U8(2), stride)
	nv := w / 8
	Label("row")
	MOVQ(np, R10)
	MOVQ(src, R11)
	MOVQ(dst, R12)
	Label("piece")
	for off := 0; off < 4*w; off += 64 {
		PREFETCHT0(Mem{Base: R11, Index: R8, Scale: 2, Disp: off})
	}
	for v := 0; v < nv; v++ {
		VMOVUPS(Mem{Base: R11, Disp: 32 * v}, ymm(v))
	}
	for v := 0; v < nv; v++ {
		VMOVUPS(ymm(v), Mem{Base: R12, Disp: 32 * v})
	}
	ADDQ(U32(4*w), R11)
	ADDQ(stride, R12)
	DECQ(R10)
	JNE(LabelRef("piece"))
	ADDQ(lds, src)
	ADDQ(U32(4*w), dst)
	DECQ(n)
	JNE(LabelRef("row"))
	VZEROUPPER()
	RET()
}

// transpose8 writes a routine transposing 8 rows of kb floats into kb
// runs of 8: dst[q*ldd + r] = src[r*lds + q] for r < 8, q < kb. It packs
// A panels (mr = 8) from a non-transposed A and B panels from a
// transposed B, 8 columns at a time, with 8x8 transposes in registers.
//
// Register plan: CX columns left; SI row 0 and R10 row 4 of the source
// at column q, R8 = lds*4, R9 = 3*lds*4, so rows 1-3 and 5-7 are
// (SI|R10)(R8*1), (SI|R10)(R8*2), (SI|R10)(R9*1); DI destination run q
// and R13 run q+4, R11 = ldd*4, R12 = 3*ldd*4, BX = 8*ldd*4. Y0..Y7 the
// rows, Y8..Y15 the intermediate and transposed vectors.
func transpose8(name string) {
	TEXT(name, NOSPLIT, "func(kb int, src *float32, lds int, dst *float32, ldd int)")
	Pragma("noescape")
	Doc(
		name+" transposes 8 rows of kb floats (stride lds) into kb runs of 8",
		"floats (stride ldd): dst[q*ldd+r] = src[r*lds+q] for r < 8, q < kb.",
		"It needs AVX.",
	)
	n := Load(Param("kb"), RCX)
	Load(Param("src"), RSI)
	Load(Param("lds"), R8)
	Load(Param("dst"), RDI)
	Load(Param("ldd"), R11)
	SHLQ(U8(2), R8)
	SHLQ(U8(2), R11)
	LEAQ(Mem{Base: R8, Index: R8, Scale: 2}, R9)
	LEAQ(Mem{Base: R11, Index: R11, Scale: 2}, R12)
	MOVQ(R11, RBX)
	SHLQ(U8(3), RBX)
	LEAQ(Mem{Base: RSI, Index: R8, Scale: 4}, R10)

	row := func(r int) Mem {
		base := RSI
		if r >= 4 {
			base = R10
		}
		switch r % 4 {
		case 0:
			return Mem{Base: base}
		case 1:
			return Mem{Base: base, Index: R8, Scale: 1}
		case 2:
			return Mem{Base: base, Index: R8, Scale: 2}
		}
		return Mem{Base: base, Index: R9, Scale: 1}
	}
	col := func(q int) Mem {
		base := RDI
		if q >= 4 {
			base = R13
		}
		switch q % 4 {
		case 0:
			return Mem{Base: base}
		case 1:
			return Mem{Base: base, Index: R11, Scale: 1}
		case 2:
			return Mem{Base: base, Index: R11, Scale: 2}
		}
		return Mem{Base: base, Index: R12, Scale: 1}
	}

	Label("loop8")
	CMPQ(n, U8(8))
	JL(LabelRef("tail"))
	LEAQ(Mem{Base: RDI, Index: R11, Scale: 4}, R13)
	for r := 0; r < 8; r++ {
		VMOVUPS(row(r), ymm(r))
	}
	Comment("Interleave pairs of rows: Y8 = a0 b0 a1 b1 | a4 b4 a5 b5, Y9 = a2 b2 a3 b3 | a6 b6 a7 b7, ...")
	for p := 0; p < 4; p++ {
		VUNPCKLPS(ymm(2*p+1), ymm(2*p), ymm(8+2*p))
		VUNPCKHPS(ymm(2*p+1), ymm(2*p), ymm(9+2*p))
	}
	Comment("Combine pairs of pairs: Y0 = a0 b0 c0 d0 | a4 b4 c4 d4, Y1 = a1 .. d1 | a5 .. d5, ...")
	for h := 0; h < 2; h++ { // rows 0-3, rows 4-7
		t := 8 + 4*h
		VSHUFPS(U8(0x44), ymm(t+2), ymm(t), ymm(4*h+0))
		VSHUFPS(U8(0xEE), ymm(t+2), ymm(t), ymm(4*h+1))
		VSHUFPS(U8(0x44), ymm(t+3), ymm(t+1), ymm(4*h+2))
		VSHUFPS(U8(0xEE), ymm(t+3), ymm(t+1), ymm(4*h+3))
	}
	Comment("Join the 128-bit halves: column q in Y(8+q).")
	for q := 0; q < 4; q++ {
		VPERM2F128(U8(0x20), ymm(4+q), ymm(q), ymm(8+q))
		VPERM2F128(U8(0x31), ymm(4+q), ymm(q), ymm(12+q))
	}
	for q := 0; q < 8; q++ {
		VMOVUPS(ymm(8+q), col(q))
	}
	ADDQ(U8(32), RSI)
	ADDQ(U8(32), R10)
	ADDQ(RBX, RDI)
	SUBQ(U8(8), n)
	JMP(LabelRef("loop8"))

	Label("tail")
	TESTQ(n, n)
	JE(LabelRef("done"))
	for r := 0; r < 8; r++ {
		VMOVSS(row(r), X0)
		VMOVSS(X0, Mem{Base: RDI, Disp: 4 * r})
	}
	ADDQ(U8(4), RSI)
	ADDQ(U8(4), R10)
	ADDQ(R11, RDI)
	DECQ(n)
	JMP(LabelRef("tail"))

	Label("done")
	VZEROUPPER()
	RET()
}

// affine writes the element-wise epilogue of a convolution:
// dst[i] = src[i]*a + b, and with relu then max(dst[i], 0), for i < n, n a
// multiple of 8. The product is rounded before the sum (VMULPS, VADDPS; no
// FMA) and the maximum is Go's: VMAXPS returns its last source when either
// is NaN or both are zeros, so with the value there a NaN stays NaN, and
// adding +0 turns -0 into +0. The loop takes 32 floats at a time, then 8.
//
// Register plan: CX floats left, SI source, DI destination, Y0 a, Y1 b,
// Y2 zero, Y3..Y6 the values in flight.
func affine(name string, relu bool) {
	TEXT(name, NOSPLIT, "func(n int, src, dst *float32, a, b float32)")
	Pragma("noescape")
	what := "src[i]*a + b"
	if relu {
		what = "max(src[i]*a + b, 0)"
	}
	Doc(
		fmt.Sprintf("%s sets dst[i] = %s for i < n, a multiple of 8,", name, what),
		"with the product rounded before the sum and Go's max (NaN stays NaN, -0",
		"becomes +0). dst may be src. It needs AVX2.",
	)
	n := Load(Param("n"), RCX)
	Load(Param("src"), RSI)
	Load(Param("dst"), RDI)
	Load(Param("a"), X0)
	Load(Param("b"), X1)
	VBROADCASTSS(X0, Y0)
	VBROADCASTSS(X1, Y1)
	VXORPS(Y2, Y2, Y2)
	step := func(nv int) {
		for v := 0; v < nv; v++ {
			VMOVUPS(Mem{Base: RSI, Disp: 32 * v}, ymm(3+v))
		}
		for v := 0; v < nv; v++ {
			VMULPS(Y0, ymm(3+v), ymm(3+v))
		}
		for v := 0; v < nv; v++ {
			VADDPS(Y1, ymm(3+v), ymm(3+v))
		}
		if relu {
			for v := 0; v < nv; v++ {
				VMAXPS(ymm(3+v), Y2, ymm(3+v))
			}
			for v := 0; v < nv; v++ {
				VADDPS(Y2, ymm(3+v), ymm(3+v))
			}
		}
		for v := 0; v < nv; v++ {
			VMOVUPS(ymm(3+v), Mem{Base: RDI, Disp: 32 * v})
		}
		ADDQ(U32(32*nv), RSI)
		ADDQ(U32(32*nv), RDI)
		SUBQ(U32(8*nv), n)
	}
	Label("loop32")
	CMPQ(n, U8(32))
	JL(LabelRef("loop8"))
	step(4)
	JMP(LabelRef("loop32"))
	Label("loop8")
	CMPQ(n, U8(8))
	JL(LabelRef("done"))
	step(1)
	JMP(LabelRef("loop8"))
	Label("done")
	VZEROUPPER()
	RET()
}

// reduce writes a float64 reduction over n float32s, n a multiple of 8,
// the normalisations' statistics: kind 0 sums x, 1 sums (x-mean)^2 and 2
// sums d*(x-mean), each float converted to float64 first and every
// operation rounded on its own (no FMA). It keeps 16 lanes in Y0..Y3
// (lane l the elements i with i%16 == l), takes 16 floats at a time and
// then 8 (into lanes 0..7), and sums the lanes in this order:
// w[l] = (lane[l] + lane[l+8]) + (lane[l+4] + lane[l+12]) for l < 4, then
// (w[0] + w[2]) + (w[1] + w[3]). The Go twin follows the same order, so the
// two agree to the bit.
//
// Register plan: CX floats left, SI x, DI d, Y0..Y3 lanes, Y4 mean, Y5..Y12
// values in flight.
func reduce(name, sig, what string, kind int) {
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s returns %s for i < n, a multiple of 8, in float64, in", name, what),
		"the order of the Go twin (see reduce in internal/gen). It needs AVX2.",
	)
	n := Load(Param("n"), RCX)
	Load(Param("x"), RSI)
	if kind == 2 {
		Load(Param("d"), RDI)
	}
	if kind > 0 {
		Load(Param("mean"), X4)
		VBROADCASTSD(X4, Y4)
	}
	for i := 0; i < 4; i++ {
		VXORPD(ymm(i), ymm(i), ymm(i))
	}
	step := func(nv int) {
		for v := 0; v < nv; v++ {
			VCVTPS2PD(Mem{Base: RSI, Disp: 16 * v}, ymm(5+v))
		}
		if kind > 0 {
			for v := 0; v < nv; v++ {
				VSUBPD(Y4, ymm(5+v), ymm(5+v))
			}
		}
		switch kind {
		case 1:
			for v := 0; v < nv; v++ {
				VMULPD(ymm(5+v), ymm(5+v), ymm(5+v))
			}
		case 2:
			for v := 0; v < nv; v++ {
				VCVTPS2PD(Mem{Base: RDI, Disp: 16 * v}, ymm(9+v))
			}
			for v := 0; v < nv; v++ {
				VMULPD(ymm(9+v), ymm(5+v), ymm(5+v))
			}
		}
		for v := 0; v < nv; v++ {
			VADDPD(ymm(5+v), ymm(v), ymm(v))
		}
		ADDQ(U32(16*nv), RSI)
		if kind == 2 {
			ADDQ(U32(16*nv), RDI)
		}
		SUBQ(U32(4*nv), n)
	}
	Label("loop16")
	CMPQ(n, U8(16))
	JL(LabelRef("loop8"))
	step(4)
	JMP(LabelRef("loop16"))
	Label("loop8")
	CMPQ(n, U8(8))
	JL(LabelRef("sum"))
	step(2)
	JMP(LabelRef("loop8"))
	Label("sum")
	Comment("w = (Y0 + Y2) + (Y1 + Y3), then (w0 + w2) + (w1 + w3).")
	VADDPD(Y2, Y0, Y0)
	VADDPD(Y3, Y1, Y1)
	VADDPD(Y1, Y0, Y0)
	VEXTRACTF128(U8(1), Y0, X1)
	VADDPD(X1, X0, X0)
	VPERMILPD(U8(1), X0, X1)
	VADDSD(X1, X0, X0)
	Store(X0, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// reluGrad writes ReLU's gradient, dx[i] = dy[i] where y[i] > 0 and 0
// elsewhere, for i < n, a multiple of 8, by the sign of y as an int32: the
// same test as the Go twin, which counts a NaN with a clear sign bit as
// positive (the pass is already NaN) and -0 as not.
//
// Register plan: CX floats left, SI y, DI dy, DX dx, Y0 zero, Y1 the mask.
func reluGrad(name string) {
	TEXT(name, NOSPLIT, "func(n int, dx, y, dy *float32)")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets dx[i] = dy[i] where y[i], as an int32, is above 0, else", name),
		"0, for i < n, a multiple of 8. It needs AVX2.",
	)
	n := Load(Param("n"), RCX)
	Load(Param("dx"), RDX)
	Load(Param("y"), RSI)
	Load(Param("dy"), RDI)
	VPXOR(Y0, Y0, Y0)
	Label("loop")
	CMPQ(n, U8(8))
	JL(LabelRef("done"))
	VMOVDQU(Mem{Base: RSI}, Y1)
	VPCMPGTD(Y0, Y1, Y1)
	VPAND(Mem{Base: RDI}, Y1, Y1)
	VMOVDQU(Y1, Mem{Base: RDX})
	ADDQ(U8(32), RSI)
	ADDQ(U8(32), RDI)
	ADDQ(U8(32), RDX)
	SUBQ(U8(8), n)
	JMP(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// axpbyc writes dst[i] = (a*u[i] + b*v[i]) + c for i < n, a multiple of 8,
// each operation rounded on its own: batch norm's input gradient.
//
// Register plan: CX floats left, SI u, DI v, DX dst, Y0 a, Y1 b, Y2 c,
// Y3, Y4 values.
func axpbyc(name string) {
	TEXT(name, NOSPLIT, "func(n int, dst, u, v *float32, a, b, c float32)")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets dst[i] = (a*u[i] + b*v[i]) + c for i < n, a multiple of 8,", name),
		"every product and sum rounded on its own. It needs AVX2.",
	)
	n := Load(Param("n"), RCX)
	Load(Param("dst"), RDX)
	Load(Param("u"), RSI)
	Load(Param("v"), RDI)
	Load(Param("a"), X0)
	Load(Param("b"), X1)
	Load(Param("c"), X2)
	VBROADCASTSS(X0, Y0)
	VBROADCASTSS(X1, Y1)
	VBROADCASTSS(X2, Y2)
	Label("loop")
	CMPQ(n, U8(8))
	JL(LabelRef("done"))
	VMULPS(Mem{Base: RSI}, Y0, Y3)
	VMULPS(Mem{Base: RDI}, Y1, Y4)
	VADDPS(Y4, Y3, Y3)
	VADDPS(Y2, Y3, Y3)
	VMOVUPS(Y3, Mem{Base: RDX})
	ADDQ(U8(32), RSI)
	ADDQ(U8(32), RDI)
	ADDQ(U8(32), RDX)
	SUBQ(U8(8), n)
	JMP(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// prefetchC prefetches the mr x nr tile of C, so that the write-back
// after the k loop does not wait for memory. It uses DX and R8.
func prefetchC(mr, nr int) {
	Comment("Prefetch the tile of C (its rows may be far apart).")
	c := Load(Param("c"), RDX)
	ldc := Load(Param("ldc"), R8)
	SHLQ(U8(2), ldc)
	for i := 0; i < mr; i++ {
		for off := 0; off < nr*4; off += 64 {
			PREFETCHT0(Mem{Base: c, Disp: off})
		}
		PREFETCHT0(Mem{Base: c, Disp: nr*4 - 4})
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
}

// fmaPeak writes a loop of n*24 independent FMAs on registers only, for
// BenchmarkPeak: the ceiling any kernel can reach on the machine.
func fmaPeak(name string, bits int) {
	TEXT(name, NOSPLIT, "func(n int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s runs n*24 independent %d-bit FMAs, for BenchmarkPeak.", name, bits))
	n := Load(Param("n"), RCX)
	acc, x, y := zmm, Z30, Z31
	chains := 24
	if bits == 256 {
		acc, x, y, chains = ymm, Y14, Y15, 12
	}
	Label("loop")
	for rep := 0; rep < 24/chains; rep++ {
		for i := 0; i < chains; i++ {
			VFMADD231PS(x, y, acc(i))
		}
	}
	DECQ(n)
	JNE(LabelRef("loop"))
	VZEROUPPER()
	RET()
}
