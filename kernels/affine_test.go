package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAffine is the conformance suite of Affine: every implementation, at every length
// from 0 to 100 and at unaligned starts, in place and not, with and without ReLU, gives
// the bits of the plain Go loop, on values that include NaN, infinities, signed zeros,
// subnormals and sums that cancel to zero; and it writes nothing past len(src).
func TestAffine(t *testing.T) {
	old := Impl()
	defer SetImpl(old)
	rng := rand.New(rand.NewPCG(1, 2))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 1e-40, -1e-40, 3, -3}
	for _, name := range Impls() {
		if err := SetImpl(name); err != nil {
			t.Fatal(err)
		}
		for n := 0; n <= 100; n++ {
			for _, ab := range [][2]float32{{1, 0}, {0.37, -1.25}, {-2, 6}, {1, float32(math.Copysign(0, -1))}, {0, 0}} {
				a, b := ab[0], ab[1]
				for _, relu := range []bool{false, true} {
					src := make([]float32, n+3)
					for i := range src {
						if rng.IntN(4) == 0 {
							src[i] = special[rng.IntN(len(special))]
						} else {
							src[i] = float32(rng.NormFloat64() * 4)
						}
					}
					if n > 0 && b != 0 && a != 0 {
						src[1+rng.IntN(n)] = -b / a // a sum that may cancel to zero
					}
					in := src[1 : 1+n] // unaligned
					want := make([]float32, n)
					for i, v := range in {
						x := float32(v*a) + b
						if relu {
							x = max(x, 0)
						}
						want[i] = x
					}
					dst := make([]float32, n+5)
					for i := range dst {
						dst[i] = 42
					}
					Affine(dst[2:], in, a, b, relu)
					inPlace := append([]float32(nil), in...)
					Affine(inPlace, inPlace, a, b, relu)
					// The same bits, but for NaN's payload, which Go's max and the
					// hardware's default NaN choose differently.
					same := func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) || x != x && y != y }
					for i := range want {
						if !same(dst[2+i], want[i]) || !same(inPlace[i], want[i]) {
							t.Fatalf("%s, n %d, a %g, b %g, relu %v: element %d of %g is %g (in place %g), want %g",
								name, n, a, b, relu, i, in[i], dst[2+i], inPlace[i], want[i])
						}
					}
					if dst[0] != 42 || dst[1] != 42 || dst[2+n] != 42 || dst[3+n] != 42 {
						t.Fatalf("%s, n %d: wrote outside dst[2:2+n]: %v", name, n, dst)
					}
				}
			}
		}
	}
}

// BenchmarkAffine times the epilogue over one channel of a 128x128 band, in place.
func BenchmarkAffine(b *testing.B) {
	old := Impl()
	defer SetImpl(old)
	x := make([]float32, 128*128)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	for _, name := range Impls() {
		b.Run(name, func(b *testing.B) {
			SetImpl(name)
			b.SetBytes(int64(8 * len(x)))
			for i := 0; i < b.N; i++ {
				Affine(x, x, 1.0001, -0.0001, true)
			}
		})
	}
}
