package kernels

import (
	"sync"
	"unsafe"

	"github.com/segment-dev/segment/internal/parallel"
)

// Sgemm computes C = alpha * op(A) * op(B) + beta * C, row-major; op
// transposes when transA/transB.
//
// op(A) is m x k, so A is stored m x k with lda >= k, or k x m with
// lda >= m when transA. op(B) is k x n, so B is stored k x n with
// ldb >= n, or n x k with ldb >= k when transB. C is m x n with
// ldc >= n. When beta is 0, C is not read, so NaN or other garbage in C
// does not propagate. Elements of C outside the m x n window (between
// ldc-strided rows) are not touched.
//
// Sgemm panics, as BLAS implementations do, when a size is negative, a
// leading dimension is too small or a slice is too short. It uses up to
// Threads() goroutines and the implementation named by Impl().
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(current.Load(), Threads(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmSerial is Sgemm on the calling goroutine alone, for callers that already split
// their work over the cores: splitting each product again would oversubscribe them.
func SgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(current.Load(), 1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func sgemm(p *impl, nt int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if !prepare(transA, m, n, k, alpha, a, lda, beta, c, ldc, func() { checkMatrix("B", br, bc, b, ldb) }) {
		return
	}

	// Below about 2^21 multiply-adds a goroutine costs more than it saves.
	if float64(m)*float64(n)*float64(k) < 1<<21 {
		nt = 1
	}
	mp, np := ceilDiv(m, p.mr), ceilDiv(n, p.nr)
	splitN := np >= mp
	panels := mp
	if splitN {
		panels = np
	}
	nt = min(nt, panels)
	if nt <= 1 {
		gemmSerial(p, transA, m, n, k, alpha, a, lda, bOperand{transB: transB, b: b, ldb: ldb}, beta, c, ldc)
		return
	}

	parallel.Do(nt, func(t int) {
		lo, hi := t*panels/nt, (t+1)*panels/nt
		if splitN {
			j0, j1 := lo*p.nr, min(hi*p.nr, n)
			bo := j0
			if transB {
				bo = j0 * ldb
			}
			gemmSerial(p, transA, m, j1-j0, k, alpha, a, lda, bOperand{transB: transB, b: b[bo:], ldb: ldb}, beta, c[j0:], ldc)
			return
		}
		i0, i1 := lo*p.mr, min(hi*p.mr, m)
		ao := i0 * lda
		if transA {
			ao = i0
		}
		gemmSerial(p, transA, i1-i0, n, k, alpha, a[ao:], lda, bOperand{transB: transB, b: b, ldb: ldb}, beta, c[i0*ldc:], ldc)
	})
}

func checkMatrix(name string, rows, cols int, x []float32, ld int) {
	if ld < max(1, cols) {
		panic("kernels: bad leading dimension of " + name)
	}
	if rows > 0 && cols > 0 && len(x) < (rows-1)*ld+cols {
		panic("kernels: " + name + " slice too short")
	}
}

// scale sets C = beta*C, writing zeros when beta is 0.
func scale(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// blockSize splits total into equal blocks of at most max, rounded up to a
// multiple of unit.
func blockSize(total, max, unit int) int {
	nb := ceilDiv(total, max)
	return ceilDiv(ceilDiv(total, nb), unit) * unit
}

// workspace holds one goroutine's packing buffers.
type workspace struct {
	ap, bp, tmp []float32
}

var workspaces sync.Pool

// alignedFloats returns n float32s starting on a 64-byte boundary.
func alignedFloats(n int) []float32 {
	s := make([]float32, n+16)
	off := int(uintptr(unsafe.Pointer(&s[0]))&63) / 4
	if off != 0 {
		off = 16 - off
	}
	return s[off : off+n : off+n]
}

func getWorkspace(na, nb, ntmp int) *workspace {
	w, _ := workspaces.Get().(*workspace)
	if w == nil {
		w = new(workspace)
	}
	if cap(w.ap) < na {
		w.ap = alignedFloats(na)
	}
	if cap(w.bp) < nb {
		w.bp = alignedFloats(nb)
	}
	if cap(w.tmp) < ntmp {
		w.tmp = alignedFloats(ntmp)
	}
	return w
}

// PanelSource makes the B operand of a product on demand, straight into
// the packed panels the micro-kernels read: for a B that is never stored
// whole, such as a convolution's im2col matrix, this saves writing it out
// and reading it back.
type PanelSource interface {
	// PackPanels writes rows p0..p0+kb and columns j0..j0+nb of B into dst
	// as panels of nr columns: element (p0+p, j0+q*nr+j) goes to
	// dst[q*nr*kb + p*nr + j], and columns past nb are zero.
	PackPanels(dst []float32, nr, p0, j0, kb, nb int)
}

// PackRows is what a PanelSource is built from: it packs rows x n floats
// of a row-major src (stride lds, which may be less than n) into panels of nr columns ldp floats
// apart, dst[q*ldp + r*nr + j] = src[r*lds + q*nr + j], with zeros in the
// missing columns of a last, partial panel. Full panels go through the
// implementation's assembly when its panels are nr wide.
func PackRows(dst []float32, ldp, nr int, src []float32, lds, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	full, q := n/nr, 0
	if p := current.Load(); full > 0 && p.packPanels != nil && p.nr == nr {
		// Rows may overlap (lds < n): a convolution's shifted rows do. The assembly
		// reads and writes up to here.
		_ = src[(rows-1)*lds+full*nr-1]
		_ = dst[(full-1)*ldp+rows*nr-1]
		p.packPanels(rows, full, &src[0], lds, &dst[0], ldp)
		q = full
	}
	for ; q*nr < n; q++ {
		cols := min(nr, n-q*nr)
		for r := 0; r < rows; r++ {
			d := dst[q*ldp+r*nr:][:nr]
			copy(d, src[r*lds+q*nr:][:cols])
			clear(d[cols:])
		}
	}
}

// SgemmSource is SgemmSerial with B made by src: C = alpha * op(A) * B +
// beta * C, with B k x n, on the calling goroutine.
func SgemmSource(transA bool, m, n, k int, alpha float32, a []float32, lda int, src PanelSource, beta float32, c []float32, ldc int) {
	if prepare(transA, m, n, k, alpha, a, lda, beta, c, ldc, func() {}) {
		gemmSerial(current.Load(), transA, m, n, k, alpha, a, lda, bOperand{src: src}, beta, c, ldc)
	}
}

// prepare checks the sizes and the A, B (checkB) and C operands of a product, panicking as
// BLAS does, and computes the products that take no multiplication. It reports whether
// the blocked algorithm still has work to do.
func prepare(transA bool, m, n, k int, alpha float32, a []float32, lda int, beta float32, c []float32, ldc int, checkB func()) bool {
	if m < 0 || n < 0 || k < 0 {
		panic("kernels: negative matrix size")
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	checkMatrix("A", ar, ac, a, lda)
	checkB()
	checkMatrix("C", m, n, c, ldc)
	if m == 0 || n == 0 {
		return false
	}
	if k == 0 || alpha == 0 {
		scale(m, n, beta, c, ldc)
		return false
	}
	return true
}

// bOperand is the B of a product: a stored matrix, or a PanelSource.
type bOperand struct {
	transB bool
	b      []float32
	ldb    int
	src    PanelSource
}

// gemmSerial runs the blocked algorithm on the calling goroutine. k > 0,
// m > 0, n > 0 and alpha != 0.
func gemmSerial(p *impl, transA bool, m, n, k int, alpha float32, a []float32, lda int, bo bOperand, beta float32, c []float32, ldc int) {
	transB, b, ldb := bo.transB, bo.b, bo.ldb
	mr, nr := p.mr, p.nr
	kc := blockSize(k, p.kc, 1)
	mc := blockSize(m, p.mc, mr)
	nc := blockSize(n, p.nc, nr)
	w := getWorkspace(mc*kc, nc*kc, mr*nr)
	defer workspaces.Put(w)
	ap, bp, tmp := w.ap, w.bp, w.tmp
	idle := uintptr(unsafe.Pointer(&bp[0]))

	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			// While a stored B's block is multiplied, prefetch the next one.
			pf := prefetcher{idle: idle}
			switch {
			case bo.src != nil:
				bo.src.PackPanels(bp[:ceilDiv(nb, nr)*nr*kb], nr, pc, jc, kb, nb)
			case pc+kc < k:
				packB(p, bp, transB, b, ldb, pc, jc, kb, nb)
				pf.init(transB, b, ldb, pc+kc, jc, min(kc, k-pc-kc), nb, kb, idle)
			case jc+nc < n:
				packB(p, bp, transB, b, ldb, pc, jc, kb, nb)
				pf.init(transB, b, ldb, 0, jc+nc, kc, min(nc, n-jc-nc), kb, idle)
			default:
				packB(p, bp, transB, b, ldb, pc, jc, kb, nb)
			}
			bet := beta
			if pc > 0 {
				bet = 1
			}
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				packA(p, ap, transA, a, lda, ic, pc, mb, kb)
				for jr := 0; jr < nb; jr += nr {
					cols := min(nr, nb-jr)
					bpan := &bp[jr*kb]
					for ir := 0; ir < mb; ir += mr {
						rows := min(mr, mb-ir)
						apan := &ap[ir*kb]
						ci := (ic+ir)*ldc + jc + jr
						if rows == mr && cols == nr {
							p.kernel(kb, apan, bpan, &c[ci], ldc, alpha, bet, pf.next())
							continue
						}
						p.kernel(kb, apan, bpan, &tmp[0], nr, 1, 0, pf.next())
						addTile(c[ci:], ldc, tmp, nr, rows, cols, alpha, bet)
					}
				}
			}
		}
	}
}

// prefetcher gives each kernel call the address of the next chunk of the
// source of the next block of op(B), so that packing that block reads from
// cache instead of memory. The source is a set of runs: rows of B, or
// columns when B is transposed.
type prefetcher struct {
	base, stride uintptr // address of run 0, bytes between runs
	runLen       uintptr // bytes per run
	chunk        uintptr // bytes per kernel call
	runs, r      int     // number of runs, current run
	off          uintptr // offset in the current run
	idle         uintptr // address to give once everything is prefetched
}

// init sets up prefetching of rows p0..p0+kb and columns j0..j0+nb of
// op(B) by kernel calls of k steps.
func (q *prefetcher) init(transB bool, b []float32, ldb, p0, j0, kb, nb, k int, idle uintptr) {
	*q = prefetcher{idle: idle, chunk: uintptr(k/4) * 64, stride: uintptr(ldb) * 4}
	start := p0*ldb + j0
	q.runs, q.runLen = kb, uintptr(nb)*4
	if transB {
		start = j0*ldb + p0
		q.runs, q.runLen = nb, uintptr(kb)*4
	}
	if q.chunk == 0 {
		q.runs = 0
	}
	q.base = uintptr(unsafe.Pointer(&b[start]))
}

func (q *prefetcher) next() uintptr {
	if q.r >= q.runs {
		return q.idle
	}
	a := q.base + uintptr(q.r)*q.stride + q.off
	q.off += q.chunk
	if q.off >= q.runLen {
		q.off = 0
		q.r++
	}
	return a
}

// addTile sets c = alpha*t + beta*c on a rows x cols tile, ignoring c when
// beta is 0.
func addTile(c []float32, ldc int, t []float32, ldt, rows, cols int, alpha, beta float32) {
	for i := 0; i < rows; i++ {
		cr := c[i*ldc : i*ldc+cols]
		tr := t[i*ldt : i*ldt+cols]
		if beta == 0 {
			for j, v := range tr {
				cr[j] = alpha * v
			}
			continue
		}
		for j, v := range tr {
			cr[j] = alpha*v + beta*cr[j]
		}
	}
}

// packA packs rows i0..i0+mb and columns p0..p0+kb of op(A) into panels of
// p.mr rows: panel q holds element (q*mr+i, p) at ap[q*mr*kb + p*mr + i].
// Rows past mb are zero.
func packA(p *impl, ap []float32, transA bool, a []float32, lda, i0, p0, mb, kb int) {
	mr := p.mr
	for ir := 0; ir < mb; ir += mr {
		rows := min(mr, mb-ir)
		dst := ap[ir*kb : (ir+mr)*kb]
		if transA {
			// op(A)(i, p) = a[p*lda + i]: each p is a contiguous run.
			for q := 0; q < kb; q++ {
				s := (p0+q)*lda + i0 + ir
				d := dst[q*mr : q*mr+mr]
				copy(d, a[s:s+rows])
				clear(d[rows:])
			}
			continue
		}
		// op(A)(i, p) = a[i*lda + p]: gather rows into columns.
		packT(p, dst, mr, a[(i0+ir)*lda+p0:], lda, rows, kb)
		if rows < mr {
			for q := 0; q < kb; q++ {
				clear(dst[q*mr+rows : q*mr+mr])
			}
		}
	}
}

// packB packs rows p0..p0+kb and columns j0..j0+nb of op(B) into panels of
// p.nr columns: panel q holds element (p, q*nr+j) at bp[q*nr*kb + p*nr + j].
// Columns past nb are zero.
func packB(p *impl, bp []float32, transB bool, b []float32, ldb, p0, j0, kb, nb int) {
	nr := p.nr
	jr := 0
	if !transB && p.packPanels != nil && nb >= nr {
		// op(B)(p, j) = b[p*ldb + j]: all full panels in one pass over
		// the rows of B.
		full := nb / nr
		p.packPanels(kb, full, &b[p0*ldb+j0], ldb, &bp[0], kb*nr)
		jr = full * nr
	}
	for ; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		dst := bp[jr*kb : (jr+nr)*kb]
		if transB {
			// op(B)(p, j) = b[j*ldb + p]: gather rows into columns.
			packT(p, dst, nr, b[(j0+jr)*ldb+p0:], ldb, cols, kb)
			if cols < nr {
				for q := 0; q < kb; q++ {
					clear(dst[q*nr+cols : q*nr+nr])
				}
			}
			continue
		}
		s := p0*ldb + j0 + jr
		for q := 0; q < kb; q++ {
			d := dst[q*nr : q*nr+nr]
			copy(d, b[s+q*ldb:s+q*ldb+cols])
			clear(d[cols:])
		}
	}
}

// packT transposes a rows x kb block of src (stride lds) into dst with
// stride ld: dst[q*ld + r] = src[r*lds + q]. Groups of 8 rows go to
// p.transpose8 when there is one; otherwise four source rows are read
// side by side so that each step writes four adjacent floats.
func packT(p *impl, dst []float32, ld int, src []float32, lds, rows, kb int) {
	r := 0
	if p.transpose8 != nil {
		for ; r+8 <= rows; r += 8 {
			_ = src[(r+7)*lds+kb-1] // the assembly reads up to here
			_ = dst[(kb-1)*ld+r+7]  // and writes up to here
			p.transpose8(kb, &src[r*lds], lds, &dst[r], ld)
		}
	}
	for ; r+4 <= rows; r += 4 {
		s0 := src[r*lds : r*lds+kb]
		s1 := src[(r+1)*lds : (r+1)*lds+kb]
		s2 := src[(r+2)*lds : (r+2)*lds+kb]
		s3 := src[(r+3)*lds : (r+3)*lds+kb]
		d := dst[r:]
		for q := range s0 {
			o := d[q*ld : q*ld+4 : q*ld+4]
			o[0], o[1], o[2], o[3] = s0[q], s1[q], s2[q], s3[q]
		}
	}
	for ; r < rows; r++ {
		s := src[r*lds : r*lds+kb]
		for q, v := range s {
			dst[q*ld+r] = v
		}
	}
}
