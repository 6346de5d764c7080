package unet

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestDenseConfigJSON: a dense model's configuration records the block, the growth and the
// layers, reads back the same, and the two numbers are refused on other blocks and out of
// range on dense ones.
func TestDenseConfigJSON(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Block, cfg.Growth, cfg.DenseLayers = BlockDense, 8, 3
	js := cfg.String()
	if !strings.HasSuffix(js, `,"block":"dense","growth":8,"dense_layers":3}`) {
		t.Errorf("dense config JSON %s does not record the block's shape", js)
	}
	var back Config
	if err := json.Unmarshal([]byte(js), &back); err != nil || back != cfg || back.Validate() != nil {
		t.Errorf("dense config read back as %+v (%v, %v), want %+v", back, err, back.Validate(), cfg)
	}
	for _, c := range []struct {
		block          Block
		growth, layers int
	}{{BlockDense, 0, 3}, {BlockDense, 8, 0}, {BlockDense, 8, 17}, {BlockPlain, 8, 0}, {BlockResidual, 0, 3}} {
		bad := cfg
		bad.Block, bad.Growth, bad.DenseLayers = c.block, c.growth, c.layers
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "growth") {
			t.Errorf("block %s, growth %d, layers %d: Validate gives %v, want an error naming the growth", c.block, c.growth, c.layers, err)
		}
	}
	gn := cfg
	gn.Norm, gn.Growth = NormGroup, 3 // 16 base channels: 8 groups
	if err := gn.Validate(); err == nil || !strings.Contains(err.Error(), "groups") {
		t.Errorf("group norm with growth 3: Validate gives %v, want an error naming the groups", err)
	}
}

// denseNames are the tensors of a dense block of norm none, in the order denseInputs makes
// them after x.
func denseNames(layers int) []string {
	var names []string
	for k := 1; k <= layers; k++ {
		names = append(names, fmt.Sprintf("conv%d.weight", k), fmt.Sprintf("conv%d.bias", k))
	}
	return append(names, "transition.conv.weight", "transition.conv.bias")
}

// denseInputs are x and the tensors of a dense block of norm none from in to out channels
// with growth g and the given layers.
func denseInputs(rng *rand.Rand, n, in, out, g, layers, h, w int) []*tensor.Dense {
	ts := []*tensor.Dense{randTensor(rng, n, in, h, w)}
	ch := in
	for k := 0; k < layers; k++ {
		ts = append(ts, randTensor(rng, g, ch, 3, 3), randTensor(rng, g))
		ch += g
	}
	return append(ts, randTensor(rng, out, ch, 1, 1), randTensor(rng, out))
}

// buildDense applies the model's own dense block "encoder.0" (norm none, base channels out,
// so that its growth is Growth) to nodes holding denseInputs.
func buildDense(in []*G.Node, out, g, layers int) (*G.Node, error) {
	cfg := Config{Norm: NormNone, Block: BlockDense, BaseChannels: out, Growth: g, DenseLayers: layers}
	b := &builder{g: in[0].Graph(), m: &Model{Config: cfg}, params: map[string]*G.Node{}}
	for i, name := range denseNames(layers) {
		b.params["encoder.0."+name] = in[i+1]
	}
	d := newDoubleConv(cfg, "encoder.0", in[0].Shape()[1], out)
	res := b.run(d.steps("x", "y", 0), map[string]*G.Node{"x": in[0]})["y"]
	return res, b.err
}

// TestDenseBlockForward compares the block with its formula written out with the naive
// convolution and a hand concatenation: y_k = ReLU(conv_k(cat(x, y_1..y_{k-1}))), then
// ReLU(conv1x1(cat(x, y_1..y_L))).
func TestDenseBlockForward(t *testing.T) {
	for _, c := range []struct{ in, out, g, layers int }{{3, 4, 2, 3}, {1, 2, 3, 1}} {
		rng := rand.New(rand.NewSource(13))
		const n, h, w = 2, 5, 6
		ts := denseInputs(rng, n, c.in, c.out, c.g, c.layers, h, w)
		d := func(i int) []float64 { return ts[i].Data().([]float64) }
		relu := func(v []float64) []float64 {
			for i := range v {
				v[i] = math.Max(v[i], 0)
			}
			return v
		}
		// cat joins per image: the channels of a, then of b.
		cat := func(a []float64, ca int, b []float64, cb int) []float64 {
			var r []float64
			for i := 0; i < n; i++ {
				r = append(r, a[i*ca*h*w:(i+1)*ca*h*w]...)
				r = append(r, b[i*cb*h*w:(i+1)*cb*h*w]...)
			}
			return r
		}
		all, ch := d(0), c.in
		for k := 0; k < c.layers; k++ {
			y, _, _ := naiveConv(all, d(1+2*k), d(2+2*k), n, ch, h, w, c.g, 3, 1, 1)
			all = cat(all, ch, relu(y), c.g)
			ch += c.g
		}
		y, _, _ := naiveConv(all, d(1+2*c.layers), d(2+2*c.layers), n, ch, h, w, c.out, 1, 1, 0)
		want := relu(y)
		got := runGraph(t, func(g *G.ExprGraph) (*G.Node, error) {
			nodes := make([]*G.Node, len(ts))
			for i, x := range ts {
				nodes[i] = node(g, x, fmt.Sprint("t", i))
			}
			return buildDense(nodes, c.out, c.g, c.layers)
		})
		if diff := maxAbsDiff(got.Data().([]float64), want); diff > 1e-12 {
			t.Errorf("dense block %+v: max difference %g from the formula", c, diff)
		}
	}
}

// TestDenseBlockGradient checks the block's gradients, through every concatenation, against
// float64 finite differences.
func TestDenseBlockGradient(t *testing.T) {
	for _, c := range []struct{ in, out, g, layers int }{{2, 3, 2, 3}, {1, 2, 1, 2}} {
		rng := rand.New(rand.NewSource(14))
		ts := denseInputs(rng, 2, c.in, c.out, c.g, c.layers, 4, 5)
		diff := make([]bool, len(ts))
		for i := range diff {
			diff[i] = true
		}
		checkGrad(t, gradCase{name: fmt.Sprintf("dense block %+v", c), inputs: ts, diff: diff,
			build: func(in []*G.Node) (*G.Node, error) { return buildDense(in, c.out, c.g, c.layers) }}, 1e-6)
	}
}

// TestDenseModel builds, trains a step of and reloads a whole dense U-Net: every unit and
// transition gets a gradient, a residual model's tensors do not fit a dense configuration (the first unit is narrower),
// and inference gives the training graph's logits where batch norm is on its running
// statistics (group norm: the same in both).
func TestDenseModel(t *testing.T) {
	cfg := Config{InChannels: 1, Classes: 2, Depth: 2, BaseChannels: 4, Skip: SkipConcat, Norm: NormGroup, Up: UpTranspose, Block: BlockDense, Growth: 2, DenseLayers: 3}
	m, err := New(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewTrainNet(m, 2, 16, 16, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	x, target := randInput(2*16*16), make([]float32, 2*16*16)
	for i := range target {
		target[i] = float32(i % 2)
	}
	if _, err := net.Step(x, target); err != nil {
		t.Fatal(err)
	}
	train := append([]float32(nil), net.Logits()...)
	for _, name := range []string{"encoder.0.conv1.weight", "encoder.2.conv3.weight", "decoder.0.transition.conv.weight", "decoder.1.transition.norm.bias"} {
		g := net.Grad(name)
		var s float64
		for _, v := range g {
			s += float64(v) * float64(v)
		}
		if len(g) != len(m.Data(name)) || !(s > 0) {
			t.Errorf("%s: gradient of %d values and squared norm %g", name, len(g), s)
		}
	}
	var back Config
	if err := json.Unmarshal([]byte(cfg.String()), &back); err != nil {
		t.Fatal(err)
	}
	if _, err := FromTensors(back, m.Tensors); err != nil {
		t.Errorf("reloading the dense model: %v", err)
	}
	res := cfg
	res.Block, res.Growth, res.DenseLayers = BlockResidual, 0, 0
	rm, _ := New(res, 3)
	if _, err := FromTensors(cfg, rm.Tensors); err == nil || !strings.Contains(err.Error(), "encoder.0.conv1.weight") {
		t.Errorf("a residual model's tensors under a dense config: %v, want the first tensor whose shape differs", err)
	}
	infer, err := NewInferNet(m, 2, 16, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer infer.Close()
	if err := infer.Forward(x); err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i, v := range infer.Logits() {
		worst = math.Max(worst, math.Abs(float64(v-train[i])))
	}
	if worst > 1e-4 {
		t.Errorf("inference logits differ from the training graph's by %g", worst)
	}
}
