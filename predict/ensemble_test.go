package predict

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/segment-dev/segment/unet"
)

// sameBits reports whether a and b hold the same float32 values, bit for bit.
func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// TestEnsembleOfOneIsTheModel checks that the ensemble's merging of bands, given one model,
// gives that model's probabilities bit for bit, whole, in tiles and with TTA.
func TestEnsembleOfOneIsTheModel(t *testing.T) {
	m := randomModel(t, 1, 3, 2, 4)
	x := randomImage(1, 45, 70, 5)
	for _, o := range []Options{{}, {Tile: 32}, {Tile: 32, TTA: true, Batch: 2}} {
		p, err := New(m, o)
		if err != nil {
			t.Fatal(err)
		}
		want := predictAll(t, p, x, 1, 45, 70)
		e, err := NewEnsemble([]*unet.Model{m}, o)
		if err != nil {
			t.Fatal(err)
		}
		var got []float32
		err = e.predictEnsemble(context.Background(), FromPlanes(x, 1, 45, 70), func(b Band) error {
			got = append(got, bandPlanes(b)...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if wantRows := rowMajor(want, 3, 45, 70); !sameBits(got, wantRows) {
			t.Errorf("%+v: an ensemble of one differs from its model by %g", o, maxDiff(got, wantRows))
		}
		p.Close()
		e.Close()
	}
}

// bandPlanes gives b's probabilities row by row ([row][plane][x]), so that bands can be
// appended into one image.
func bandPlanes(b Band) []float32 {
	n := b.Rows * b.Width
	out := make([]float32, 0, b.Planes*n)
	for r := 0; r < b.Rows; r++ {
		for k := 0; k < b.Planes; k++ {
			out = append(out, b.Probs[k*n+r*b.Width:k*n+(r+1)*b.Width]...)
		}
	}
	return out
}

// rowMajor reorders planes [planes, h, w] as [h, planes, w].
func rowMajor(x []float32, planes, h, w int) []float32 {
	out := make([]float32, 0, len(x))
	for r := 0; r < h; r++ {
		for k := 0; k < planes; k++ {
			out = append(out, x[(k*h+r)*w:(k*h+r+1)*w]...)
		}
	}
	return out
}

// TestEnsembleAveragesProbabilities checks an ensemble of three models of two depths (so of
// different padding and tiles) against the mean of their probabilities computed one model
// at a time: summed in the models' order and divided by three, bit for bit, and its
// decision against Decide on that mean; binary and multi-class, whole and tiled, with TTA,
// and with a memory budget of one graph, which makes the models rebuild their graphs in
// turn.
func TestEnsembleAveragesProbabilities(t *testing.T) {
	const h, w = 45, 70
	x := randomImage(1, h, w, 9)
	for _, classes := range []int{1, 3} {
		a, b := randomModel(t, 1, classes, 2, 4), randomModel(t, 1, classes, 3, 4)
		c, err := unet.New(a.Config, 11)
		if err != nil {
			t.Fatal(err)
		}
		models := []*unet.Model{a, b, c}
		for _, o := range []Options{{}, {Tile: 32}, {Tile: 32, TTA: true}, {Tile: 16, Memory: 1}} {
			var each [][]float32
			for _, m := range models {
				p, err := New(m, o)
				if err != nil {
					t.Fatal(err)
				}
				each = append(each, predictAll(t, p, x, 1, h, w))
				p.Close()
			}
			want := make([]float32, len(each[0]))
			for i := range want {
				want[i] = (each[0][i] + each[1][i] + each[2][i]) / 3
			}
			e, err := NewEnsemble(models, o)
			if err != nil {
				t.Fatal(err)
			}
			got := predictAll(t, e, x, 1, h, w)
			if !sameBits(got, want) {
				t.Errorf("classes %d, %+v: the ensemble differs from the mean of its models by %g", classes, o, maxDiff(got, want))
			}
			if sameBits(want, each[0]) || sameBits(want, each[1]) {
				t.Fatalf("classes %d: the models agree: the test cannot tell an average from one of them", classes)
			}
			planes := max(classes, 1)
			wantLabels := make([]uint8, h*w)
			Decide(Band{Rows: h, Width: w, Planes: planes, Probs: want, Threshold: DefaultThreshold}, wantLabels)
			gotLabels := make([]uint8, h*w)
			err = e.Predict(context.Background(), FromPlanes(x, 1, h, w), func(b Band) error {
				Decide(b, gotLabels[b.Y*w:(b.Y+b.Rows)*w])
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(gotLabels, wantLabels) {
				t.Errorf("classes %d, %+v: the ensemble's classes differ from Decide on the mean", classes, o)
			}
			if o.Memory == 1 && len(e.graphs) != 1 {
				t.Errorf("memory for one graph: the ensemble keeps %d", len(e.graphs))
			}
			e.Close()
		}
	}
}

// TestEnsembleRefusesMismatch checks that models of other classes or input channels are
// refused, naming which.
func TestEnsembleRefusesMismatch(t *testing.T) {
	a := randomModel(t, 1, 1, 2, 4)
	for _, other := range []*unet.Model{randomModel(t, 1, 3, 2, 4), randomModel(t, 3, 1, 2, 4)} {
		_, err := NewEnsemble([]*unet.Model{a, a, other}, Options{})
		if err == nil || !strings.Contains(err.Error(), "model 3 ") {
			t.Errorf("%v with %v: got %v, want an error naming model 3", a.Config, other.Config, err)
		}
	}
	if _, err := NewEnsemble(nil, Options{}); err == nil {
		t.Error("an ensemble of no model was accepted")
	}
}
