package unet

import (
	"bytes"
	"math"
	"runtime"
	"sync"
	"unsafe"
	"weak"

	"github.com/segment-dev/segment/internal/parallel"
	G "gorgonia.org/gorgonia"
)

// softmaxCache keeps the softmax of the last logits that the loss ops of one logits node
// saw. A training step evaluates the softmax of the same logits up to five times (the
// cross-entropy and the Dice term, each forward and backward, and Dice's backward twice);
// with 11 classes those exponentials were a sixth of a step. The cache is keyed by the
// logits' bytes, not by step, so that a caller who changes the logits between two calls
// (a numerical gradient check, the landscape's grid) always gets their own softmax.
type softmaxCache struct {
	mu      sync.Mutex
	key     []byte    // the logits the rest was computed from
	n, c    int       // batch and classes of those logits
	p       []float64 // the probabilities, laid out as the logits [N, C, H, W]
	zmax    []float64 // per pixel [N, H, W]: the largest logit
	logSum  []float64 // per pixel: log of the sum of exp(z - zmax)
	scratch []float64
	fills   int // how many times it was computed, for the tests
}

var (
	softmaxMu     sync.Mutex
	softmaxByNode = map[weak.Pointer[G.Node]]*softmaxCache{}
)

// softmaxFor is the cache that all loss ops on the logits node share; it goes when the
// node does.
func softmaxFor(logits *G.Node) *softmaxCache {
	k := weak.Make(logits)
	softmaxMu.Lock()
	defer softmaxMu.Unlock()
	if sc, ok := softmaxByNode[k]; ok {
		return sc
	}
	sc := &softmaxCache{}
	softmaxByNode[k] = sc
	runtime.AddCleanup(logits, func(k weak.Pointer[G.Node]) {
		softmaxMu.Lock()
		delete(softmaxByNode, k)
		softmaxMu.Unlock()
	}, k)
	return sc
}

// softmaxOf locks the cache and makes it hold the softmax of the logits z [n, c, hw],
// computing it only when z differs from the logits it holds. The caller unlocks sc.mu
// when done reading. The arithmetic is probs's, pixel by pixel, so that the cached and the
// direct softmax agree to the bit.
func softmaxOf[T float](sc *softmaxCache, z []T, n, c, hw int) {
	sc.mu.Lock()
	var zero T
	raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(z))), len(z)*int(unsafe.Sizeof(zero)))
	if sc.n == n && sc.c == c && bytes.Equal(sc.key, raw) {
		return
	}
	sc.fills++
	sc.key = append(sc.key[:0], raw...)
	sc.n, sc.c = n, c
	sc.p = grow(sc.p, n*c*hw)
	sc.zmax = grow(sc.zmax, n*hw)
	sc.logSum = grow(sc.logSum, n*hw)
	sc.scratch = grow(sc.scratch, n*hw)
	parallel.For(n, parallel.Workers(), func(i int) {
		zi, pi := z[i*c*hw:(i+1)*c*hw], sc.p[i*c*hw:(i+1)*c*hw]
		m, s := sc.zmax[i*hw:(i+1)*hw], sc.scratch[i*hw:(i+1)*hw]
		// Plane by plane, so that every loop runs along memory.
		for q := range m {
			m[q] = math.Inf(-1)
			s[q] = 0
		}
		for j := 0; j < c; j++ {
			for q, v := range zi[j*hw : (j+1)*hw] {
				m[q] = math.Max(m[q], float64(v))
			}
		}
		for j := 0; j < c; j++ {
			pj := pi[j*hw : (j+1)*hw]
			for q, v := range zi[j*hw : (j+1)*hw] {
				e := math.Exp(float64(v) - m[q])
				pj[q] = e
				s[q] += e
			}
		}
		for j := 0; j < c; j++ {
			pj := pi[j*hw : (j+1)*hw]
			for q := range pj {
				pj[q] /= s[q]
			}
		}
		ls := sc.logSum[i*hw : (i+1)*hw]
		for q := range ls {
			ls[q] = math.Log(s[q])
		}
	})
}

// cachedProbs is probs read from the cache that softmaxOf filled: it fills p with the
// probabilities of the pixel whose first logit is at base and returns log p of class k.
func cachedProbs[T float](sc *softmaxCache, z []T, base, stride, k int, p []float64) float64 {
	c := sc.c
	for j := 0; j < c; j++ {
		p[j] = sc.p[base+j*stride]
	}
	i := base / (c * stride)
	q := i*stride + base - i*c*stride
	return float64(z[base+k*stride]) - sc.zmax[q] - sc.logSum[q]
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
