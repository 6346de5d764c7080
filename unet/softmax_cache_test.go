package unet

import (
	"math/rand"
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

// TestSharedSoftmax checks that the loss ops sharing one softmax give, forward and backward,
// the same bits as each computing its own, that they compute it once for the same logits,
// and again when the logits change in place (as a training step's reused buffers do).
func TestSharedSoftmax(t *testing.T) {
	t.Run("float32", func(t *testing.T) { testSharedSoftmax[float32](t) })
	t.Run("float64", func(t *testing.T) { testSharedSoftmax[float64](t) })
}

func testSharedSoftmax[T float](t *testing.T) {
	const n, c, h, w = 3, 5, 7, 6
	rng := rand.New(rand.NewSource(11))
	z := make([]T, n*c*h*w)
	target := make([]T, n*h*w)
	fill := func() {
		for i := range z {
			z[i] = T(4 * rng.NormFloat64())
		}
		for i := range target {
			target[i] = T(rng.Intn(c+1) - 1) // -1 is ignored
		}
	}
	fill()
	shapes := []tensor.Shape{{n, c, h, w}, {n, h, w}, {}}
	weights := []float64{0.5, 1, 2, 3, 0.25}
	ops := []lossOp{
		{kind: lossCE}, {kind: lossCE, weights: weights}, {kind: lossDice},
		{kind: lossDice, present: true}, {kind: lossFocal, gamma: 2},
	}
	shared := &softmaxCache{}
	// run evaluates every op forward and backward, with the shared softmax or each on its own.
	run := func(sc *softmaxCache) [][]T {
		var outs [][]T
		for _, op := range ops {
			op.soft = sc
			loss := make([]T, 1)
			if err := lossDo[T](&op, false)(loss, [][]T{z, target}, shapes); err != nil {
				t.Fatal(err)
			}
			grad := make([]T, len(z))
			if err := lossDo[T](&op, true)(grad, [][]T{z, target, {0.5}}, shapes); err != nil {
				t.Fatal(err)
			}
			outs = append(outs, loss, grad)
		}
		return outs
	}
	for round := range 2 {
		want, got := run(nil), run(shared)
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("round %d: %v (%s): the shared softmax gives other bits than the op's own", round, ops[i/2].kind, []string{"loss", "gradient"}[i%2])
			}
		}
		if shared.fills != round+1 {
			t.Fatalf("round %d: the softmax was computed %d times in all, want %d: once for each logits", round, shared.fills, round+1)
		}
		fill() // new logits in the same buffer
	}
	// The ops must read the shared probabilities, not make their own: with the shared ones
	// spoiled, every op's answer changes.
	softmaxOf(shared, z, n, c, h*w)
	shared.mu.Unlock()
	want := run(nil)
	for i := range shared.p {
		shared.p[i] = 1 - shared.p[i]
	}
	for i := range shared.logSum {
		shared.logSum[i]++
	}
	got := run(shared)
	for i := range want {
		if slices.Equal(got[i], want[i]) {
			t.Errorf("%v (%s): spoiling the shared softmax changed nothing: the op computed its own", ops[i/2].kind, []string{"loss", "gradient"}[i%2])
		}
	}
}
