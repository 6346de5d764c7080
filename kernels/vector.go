package kernels

import (
	"math"
	"unsafe"
)

// The element-wise loops and reductions of the normalisations and ReLU, which a U-Net
// with few channels spends a tenth of its training step in when they are scalar Go. Each
// has a pure-Go twin that computes the same operations in the same order, so that every
// implementation gives the same bits (TestVector).

type (
	reduceFunc    func(n int, x *float32) float64
	reduceMean    func(n int, x *float32, mean float64) float64
	reduce2Mean   func(n int, d, x *float32, mean float64) float64
	reluGradFunc  func(n int, dx, y, dy *float32)
	axpbycFunc    func(n int, dst, u, v *float32, a, b, c float32)
	vectorKernels struct {
		sum64      reduceFunc
		sumSquares reduceMean
		dotCentred reduce2Mean
		reluGrad   reluGradFunc
		axpbyc     axpbycFunc
	}
)

// lanes is the reductions' order: 16 float64 lanes, lane l holding the elements i < n&^7
// with i%16 == l (past n&^15, i%8 == l), summed as the assembly does (reduce in
// internal/gen); then the elements past n&^7 one by one.
type lanes [16]float64

func (l *lanes) total() float64 {
	var w [4]float64
	for k := range w {
		w[k] = (l[k] + l[k+8]) + (l[k+4] + l[k+12])
	}
	return (w[0] + w[2]) + (w[1] + w[3])
}

// vectorPart is how many leading elements of n the assembly takes: 0 without it.
func vectorPart(n int, have bool) int {
	if !have {
		return 0
	}
	return n &^ 7
}

// Sum64 returns the sum of x in float64.
func Sum64(x []float32) float64 {
	n := len(x)
	v := vectorPart(n, current.Load().vec.sum64 != nil)
	var s float64
	if v > 0 {
		s = current.Load().vec.sum64(v, unsafe.SliceData(x))
	} else {
		s, v = sum64Go(x), n&^7
	}
	for _, e := range x[v:] {
		s += float64(e)
	}
	return s
}

func sum64Go(x []float32) float64 {
	var l lanes
	v := len(x) &^ 7
	for i, e := range x[:v] {
		l[lane(i, v)] += float64(e)
	}
	return l.total()
}

// lane is the lane of element i of the v (a multiple of 8) the assembly takes.
func lane(i, v int) int {
	if i < v&^15 {
		return i % 16
	}
	return i % 8
}

// SumSquares returns the sum of (x[i]-mean)^2 in float64.
func SumSquares(x []float32, mean float64) float64 {
	n := len(x)
	v := vectorPart(n, current.Load().vec.sumSquares != nil)
	var s float64
	if v > 0 {
		s = current.Load().vec.sumSquares(v, unsafe.SliceData(x), mean)
	} else {
		s, v = sumSquaresGo(x, mean), n&^7
	}
	for _, e := range x[v:] {
		d := float64(e) - mean
		s += float64(d * d)
	}
	return s
}

func sumSquaresGo(x []float32, mean float64) float64 {
	var l lanes
	v := len(x) &^ 7
	for i, e := range x[:v] {
		d := float64(e) - mean
		l[lane(i, v)] += float64(d * d)
	}
	return l.total()
}

// DotCentred returns the sum of d[i]*(x[i]-mean) in float64; x is at least as long as d.
func DotCentred(d, x []float32, mean float64) float64 {
	n := len(d)
	x = x[:n]
	v := vectorPart(n, current.Load().vec.dotCentred != nil)
	var s float64
	if v > 0 {
		s = current.Load().vec.dotCentred(v, unsafe.SliceData(d), unsafe.SliceData(x), mean)
	} else {
		s, v = dotCentredGo(d, x, mean), n&^7
	}
	for i := v; i < n; i++ {
		s += float64(float64(d[i]) * (float64(x[i]) - mean))
	}
	return s
}

func dotCentredGo(d, x []float32, mean float64) float64 {
	var l lanes
	v := len(d) &^ 7
	for i := range v {
		l[lane(i, v)] += float64(float64(d[i]) * (float64(x[i]) - mean))
	}
	return l.total()
}

// ReLUGrad sets dx[i] = dy[i] where y[i] > 0 and 0 elsewhere, for i < len(dx): y and dy
// are at least as long. The test is on the sign of y as an int32, so that a NaN with a
// clear sign bit (the pass has gone to NaN) lets the gradient through and -0 does not.
func ReLUGrad(dx, y, dy []float32) {
	n := len(dx)
	y, dy = y[:n], dy[:n]
	v := 0
	if f := current.Load().vec.reluGrad; f != nil && n >= 8 {
		v = n &^ 7
		f(v, unsafe.SliceData(dx), unsafe.SliceData(y), unsafe.SliceData(dy))
	}
	for i := v; i < n; i++ {
		if int32(math.Float32bits(y[i])) > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// AXPBYC sets dst[i] = (a*u[i] + b*v[i]) + c for i < len(dst), every product and sum
// rounded on its own: batch norm's input gradient. u and v are at least as long as dst.
func AXPBYC(dst, u, v []float32, a, b, c float32) {
	n := len(dst)
	u, v = u[:n], v[:n]
	done := 0
	if f := current.Load().vec.axpbyc; f != nil && n >= 8 {
		done = n &^ 7
		f(done, unsafe.SliceData(dst), unsafe.SliceData(u), unsafe.SliceData(v), a, b, c)
	}
	for i := done; i < n; i++ {
		dst[i] = (float32(a*u[i]) + float32(b*v[i])) + c
	}
}
