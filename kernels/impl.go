package kernels

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/segment-dev/segment/internal/parallel"
)

// kernelFunc is the micro-kernel contract. With a packed as k columns of
// mr floats and b packed as k rows of nr floats it computes, for i < mr
// and j < nr,
//
//	c[i*ldc+j] = alpha*sum_p a[p*mr+i]*b[p*nr+j] + beta*c[i*ldc+j]
//
// without reading c when beta == 0. k is at least 1. Meanwhile it
// prefetches about k/4 cache lines from pf on (an address that need not be
// valid; the Go kernel ignores it).
type kernelFunc func(k int, a, b, c *float32, ldc int, alpha, beta float32, pf uintptr)

// packPanelsFunc packs a rows x panels*nr block of a row-major matrix
// into panels of nr columns, ldp floats apart:
// dst[q*ldp+r*nr+j] = src[r*lds+q*nr+j].
type packPanelsFunc func(rows, panels int, src *float32, lds int, dst *float32, ldp int)

// transpose8Func transposes 8 rows of kb floats into kb runs of 8:
// dst[q*ldd+r] = src[r*lds+q] for r < 8, q < kb.
type transpose8Func func(kb int, src *float32, lds int, dst *float32, ldd int)

// impl is one implementation: a micro-kernel with its tile and cache
// block sizes.
type impl struct {
	name       string
	mr, nr     int            // register tile
	kc         int            // rows of op(B) (columns of op(A)) per block
	mc         int            // rows of op(A) per block, a multiple of mr
	nc         int            // columns of op(B) per block, a multiple of nr
	kernel     kernelFunc     // full mr x nr tiles
	packPanels packPanelsFunc // nil: packB copies in Go
	transpose8 transpose8Func // nil: packT transposes in Go
	// affine and affineRelu are Affine's loops over whole vectors; nil: all in Go.
	affine, affineRelu affineFunc
	// vec are the loops of vector.go over whole vectors; nil: all in Go.
	vec vectorKernels
}

// impls lists the implementations this CPU can run, fastest first; the
// pure-Go one is last and always present.
var impls = append(archImpls(), goImpl)

var current atomic.Pointer[impl]

func init() {
	p := impls[0]
	if v := os.Getenv("SEGMENT_NOASM"); v != "" && v != "0" {
		p = goImpl
	}
	current.Store(p)
}

// Impl returns the name of the implementation Sgemm uses: "avx512",
// "avx2" or "go".
func Impl() string { return current.Load().name }

// Impls returns the names of the implementations this CPU and build can
// run, fastest first. The last one is always "go".
func Impls() []string {
	names := make([]string, len(impls))
	for i, p := range impls {
		names[i] = p.name
	}
	return names
}

// SetImpl makes Sgemm use the named implementation, one of Impls. It
// returns an error, and changes nothing, if the name is unknown or the CPU
// cannot run it.
func SetImpl(name string) error {
	p := lookup(name)
	if p == nil {
		return fmt.Errorf("kernels: implementation %q not available (have %s)", name, strings.Join(Impls(), ", "))
	}
	current.Store(p)
	return nil
}

func lookup(name string) *impl {
	for _, p := range impls {
		if p.name == name {
			return p
		}
	}
	return nil
}

// Threads returns the number of goroutines one Sgemm call may use: one per core
// (GOMAXPROCS), as every loop of the project.
func Threads() int { return parallel.Workers() }
