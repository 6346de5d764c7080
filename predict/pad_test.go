package predict

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/segment-dev/segment/unet"
)

// reflectPad pads each of planes h x w planes by mirroring (ReflectIndex): top rows above,
// bottom below, left and right columns beside. It is the tests' reference for what a
// Predictor feeds the network.
func reflectPad(x []float32, planes, h, w, top, bottom, left, right int) []float32 {
	ph, pw := h+top+bottom, w+left+right
	out := make([]float32, planes*ph*pw)
	for p := 0; p < planes; p++ {
		for i := 0; i < ph; i++ {
			for j := 0; j < pw; j++ {
				out[(p*ph+i)*pw+j] = x[(p*h+ReflectIndex(i-top, h))*w+ReflectIndex(j-left, w)]
			}
		}
	}
	return out
}

// crop cuts h x w windows at (top, left) out of each of planes ph x pw planes.
func crop(x []float32, planes, ph, pw, top, left, h, w int) []float32 {
	out := make([]float32, planes*h*w)
	for p := 0; p < planes; p++ {
		for i := 0; i < h; i++ {
			copy(out[(p*h+i)*w:(p*h+i+1)*w], x[(p*ph+top+i)*pw+left:][:w])
		}
	}
	return out
}

func TestReflectPadByHand(t *testing.T) {
	// One plane 2x3: [1 2 3; 4 5 6], padded 1 above, 2 below, 2 left, 0 right.
	got := reflectPad([]float32{1, 2, 3, 4, 5, 6}, 1, 2, 3, 1, 2, 2, 0)
	want := []float32{
		6, 5, 4, 5, 6, // row -1 mirrors row 1
		3, 2, 1, 2, 3,
		6, 5, 4, 5, 6,
		3, 2, 1, 2, 3, // row 2 mirrors row 0
		6, 5, 4, 5, 6, // row 3: mirrored twice, back to row 1
	}
	if !slices.Equal(got, want) {
		t.Fatalf("padded plane %v, want %v", got, want)
	}
	if back := crop(got, 1, 5, 5, 1, 2, 2, 3); !slices.Equal(back, []float32{1, 2, 3, 4, 5, 6}) {
		t.Errorf("crop gave %v", back)
	}
}

func TestPadFor(t *testing.T) {
	for _, c := range []struct{ n, mul, before, after int }{{512, 16, 0, 0}, {500, 16, 6, 6}, {501, 16, 5, 6}, {3, 16, 6, 7}, {9, 4, 1, 2}, {6, 4, 1, 1}} {
		if b, a := PadFor(c.n, c.mul); b != c.before || a != c.after {
			t.Errorf("PadFor(%d, %d) = %d, %d, want %d, %d", c.n, c.mul, b, a, c.before, c.after)
		}
	}
}

func TestProbabilities(t *testing.T) {
	bin := []float32{-1, 0, 2}
	probabilities(bin, 1, 1)
	if math.Abs(float64(bin[2])-1/(1+math.Exp(-2))) > 1e-7 || bin[1] != 0.5 || math.Abs(float64(bin[0])-1/(1+math.E)) > 1e-7 {
		t.Errorf("sigmoid gave %v", bin)
	}
	// Two pixels, three classes, planar: pixel 0 logits (0, ln 2, 0), pixel 1 (3, 1, 3).
	multi := []float32{0, 3, float32(math.Ln2), 1, 0, 3}
	probabilities(multi, 1, 3)
	if math.Abs(float64(multi[2])-0.5) > 1e-7 || math.Abs(float64(multi[0])-0.25) > 1e-7 {
		t.Errorf("softmax gave %v", multi)
	}
}

// TestPredictorAnySize: an image whose size is not a multiple of 2^depth (9x6 at depth 2) is
// run as the network's output on the image mirrored out by 1 and 2 rows, 1 and 1 columns,
// cropped back; a short input is refused.
func TestPredictorAnySize(t *testing.T) {
	m := randomModel(t, 2, 3, 2, 4)
	x := randomImage(2, 9, 6, 1)
	inf, err := unet.NewInferNet(m, 1, 12, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer inf.Close()
	if err := inf.Forward(reflectPad(x, 2, 9, 6, 1, 2, 1, 1)); err != nil {
		t.Fatal(err)
	}
	want := crop(inf.Logits(), 3, 12, 8, 1, 1, 9, 6)
	probabilities(want, 1, 3)
	p, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := predictAll(t, p, x, 2, 9, 6); !slices.Equal(got, want) {
		t.Errorf("9x6 image: probabilities differ from the padded network's by %g", maxDiff(got, want))
	}
	err = p.Predict(context.Background(), FromPlanes(x[:10], 2, 9, 6), func(Band) error { return nil })
	if err == nil {
		t.Error("a short input was accepted")
	}
}

// TestGraphsKept: a Predictor keeps the graphs of the shapes it ran while they fit the
// memory budget together, drops the least recently used beyond it, and a graph it keeps
// sees later changes to the model's weights, as training makes between validations.
func TestGraphsKept(t *testing.T) {
	m := randomModel(t, 1, 1, 2, 4)
	a, b := randomImage(1, 16, 16, 1), randomImage(1, 8, 12, 2)
	run := func(p *Predictor) (pa, pb []float32, nets []*unet.Net) {
		pa = predictAll(t, p, a, 1, 16, 16)
		pb = predictAll(t, p, b, 1, 8, 12)
		for _, g := range p.graphs {
			nets = append(nets, g.net)
		}
		return pa, pb, nets
	}
	p, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	pa, pb, nets := run(p)
	if len(nets) != 2 || nets[0].H != 8 || nets[1].H != 16 {
		t.Fatalf("%d graphs kept, want 2, the last run first", len(nets))
	}
	m.Data("head.bias")[0] += 1
	pa2, pb2, nets2 := run(p)
	if !slices.Equal(nets, nets2) {
		t.Error("graphs were built again for shapes already run")
	}
	if slices.Equal(pa, pa2) || slices.Equal(pb, pb2) {
		t.Error("a kept graph did not see the changed head bias")
	}
	if want := whole(t, m, a, 16, 16); !slices.Equal(pa2, want) {
		t.Errorf("a kept graph differs from a new one by %g", maxDiff(pa2, want))
	}

	small, err := New(m, Options{Memory: NetBytes(m.Config, 1, 16, 16)})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if _, _, nets := run(small); len(nets) != 1 || nets[0].H != 8 {
		t.Errorf("budget of one graph: %d kept", len(nets))
	}
}
