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

// TestBlockConfigJSON requires a plain model's configuration to read exactly as before
// residual blocks existed (what PyTorch-side tools and old files expect), and a residual
// one to say so and read back the same.
func TestBlockConfigJSON(t *testing.T) {
	const plain = `{"in_channels":1,"classes":1,"depth":4,"base_channels":16,"skip":"concat","norm":"batch","up":"transpose"}`
	cfg := DefaultConfig()
	for _, b := range []Block{"", BlockPlain} {
		cfg.Block = b
		if got := cfg.String(); got != plain {
			t.Errorf("block %q: config JSON %s, want %s", b, got, plain)
		}
	}
	cfg.Block = BlockResidual
	js := cfg.String()
	if !strings.HasSuffix(js, `,"block":"residual"}`) {
		t.Errorf("residual config JSON %s does not record the block", js)
	}
	var back Config
	if err := json.Unmarshal([]byte(js), &back); err != nil || back != cfg {
		t.Errorf("residual config read back as %+v (%v), want %+v", back, err, cfg)
	}
	cfg.Block = "inception"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "block") {
		t.Errorf("block inception: Validate gives %v, want an error naming the block", err)
	}
}

// TestResidualParams checks the projection tensors: one for every block whose channel count
// changes (every encoder level; decoder levels only with concat, where 2c goes to c),
// always with a bias, listed right after the block's own tensors.
func TestResidualParams(t *testing.T) {
	for _, c := range []struct {
		skip Skip
		norm Norm
		want []string // name: shape
	}{
		{SkipConcat, NormBatch, []string{"encoder.0.proj.weight [4 1 1 1]", "encoder.0.proj.bias [4]", "encoder.1.proj.weight [8 4 1 1]", "encoder.1.proj.bias [8]",
			"encoder.2.proj.weight [16 8 1 1]", "encoder.2.proj.bias [16]", "decoder.1.proj.weight [8 16 1 1]", "decoder.1.proj.bias [8]", "decoder.0.proj.weight [4 8 1 1]", "decoder.0.proj.bias [4]"}},
		{SkipAdd, NormNone, []string{"encoder.0.proj.weight [4 1 1 1]", "encoder.0.proj.bias [4]", "encoder.1.proj.weight [8 4 1 1]", "encoder.1.proj.bias [8]",
			"encoder.2.proj.weight [16 8 1 1]", "encoder.2.proj.bias [16]"}},
	} {
		cfg := Config{InChannels: 1, Classes: 1, Depth: 2, BaseChannels: 4, Skip: c.skip, Norm: c.norm, Up: UpTranspose, Block: BlockResidual}
		plain := cfg
		plain.Block = BlockPlain
		var got []string
		for i, p := range cfg.Params() {
			if strings.Contains(p.Name, ".proj.") {
				got = append(got, fmt.Sprintf("%s %v", p.Name, p.Shape))
				if prev := cfg.Params()[i-1].Name; !strings.Contains(prev, ".proj.") && strings.Split(prev, ".")[1] != strings.Split(p.Name, ".")[1] {
					t.Errorf("%s follows %s, not its own block", p.Name, prev)
				}
			}
		}
		if strings.Join(got, ", ") != strings.Join(c.want, ", ") {
			t.Errorf("%s/%s: projections\n%s\nwant\n%s", c.skip, c.norm, strings.Join(got, ", "), strings.Join(c.want, ", "))
		}
		if n, np := len(cfg.Params()), len(plain.Params()); n != np+len(c.want) {
			t.Errorf("%s/%s: %d tensors, the plain model has %d and the projections add %d", c.skip, c.norm, n, np, len(c.want))
		}
	}
}

// blockInputs are the tensors of a residual block of norm none from in to out channels, in
// the order x, conv1.weight, conv1.bias, conv2.weight, conv2.bias[, proj.weight, proj.bias].
func blockInputs(rng *rand.Rand, n, in, out, h, w int) []*tensor.Dense {
	ts := []*tensor.Dense{randTensor(rng, n, in, h, w), randTensor(rng, out, in, 3, 3), randTensor(rng, out), randTensor(rng, out, out, 3, 3), randTensor(rng, out)}
	if in != out {
		ts = append(ts, randTensor(rng, out, in, 1, 1), randTensor(rng, out))
	}
	return ts
}

// buildBlock applies the model's own residual block (DoubleConv "encoder.0" of norm none,
// walked by the graph builder) to nodes holding blockInputs, by handing the builder the
// nodes as the block's parameters.
func buildBlock(in []*G.Node) (*G.Node, error) {
	names := []string{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "proj.weight", "proj.bias"}
	cfg := Config{Norm: NormNone, Block: BlockResidual}
	b := &builder{g: in[0].Graph(), m: &Model{Config: cfg}, params: map[string]*G.Node{}}
	for i, n := range in[1:] {
		b.params["encoder.0."+names[i]] = n
	}
	d := newDoubleConv(cfg, "encoder.0", in[0].Shape()[1], in[1].Shape()[0])
	out := b.run(d.steps("x", "y", 0), map[string]*G.Node{"x": in[0]})["y"]
	return out, b.err
}

// TestResidualBlockForward compares the block with its formula written out with the naive
// convolution: ReLU(conv2(ReLU(conv1(x))) + x), with x through the 1x1 projection when the
// channel count changes.
func TestResidualBlockForward(t *testing.T) {
	for _, c := range []struct{ in, out int }{{3, 3}, {2, 4}} {
		rng := rand.New(rand.NewSource(11))
		const n, h, w = 2, 5, 6
		ts := blockInputs(rng, n, c.in, c.out, h, w)
		d := func(i int) []float64 { return ts[i].Data().([]float64) }
		relu := func(v []float64) []float64 {
			for i := range v {
				v[i] = math.Max(v[i], 0)
			}
			return v
		}
		y, _, _ := naiveConv(d(0), d(1), d(2), n, c.in, h, w, c.out, 3, 1, 1)
		y, _, _ = naiveConv(relu(y), d(3), d(4), n, c.out, h, w, c.out, 3, 1, 1)
		short := d(0)
		if c.in != c.out {
			short, _, _ = naiveConv(d(0), d(5), d(6), n, c.in, h, w, c.out, 1, 1, 0)
		}
		for i := range y {
			y[i] += short[i]
		}
		want := relu(y)
		got := runGraph(t, func(g *G.ExprGraph) (*G.Node, error) {
			nodes := make([]*G.Node, len(ts))
			for i, x := range ts {
				nodes[i] = node(g, x, fmt.Sprint("t", i))
			}
			return buildBlock(nodes)
		})
		if diff := maxAbsDiff(got.Data().([]float64), want); diff > 1e-12 {
			t.Errorf("residual block %d->%d channels: max difference %g from the formula", c.in, c.out, diff)
		}
	}
}

// TestResidualBlockGradient checks the block's gradients, shortcut and projection included,
// against float64 finite differences.
func TestResidualBlockGradient(t *testing.T) {
	for _, c := range []struct{ in, out int }{{3, 3}, {2, 4}} {
		rng := rand.New(rand.NewSource(12))
		ts := blockInputs(rng, 2, c.in, c.out, 4, 5)
		diff := make([]bool, len(ts))
		for i := range diff {
			diff[i] = true
		}
		checkGrad(t, gradCase{name: fmt.Sprintf("residual block %d->%d", c.in, c.out), inputs: ts, diff: diff, build: buildBlock}, 1e-6)
	}
}

// TestResidualModel builds, trains a step of and reloads a whole residual U-Net: the
// projections get gradients, a model file's tensors of a plain model do not fit a residual
// configuration, and inference runs.
func TestResidualModel(t *testing.T) {
	cfg := Config{InChannels: 1, Classes: 1, Depth: 2, BaseChannels: 4, Skip: SkipConcat, Norm: NormBatch, Up: UpTranspose, Block: BlockResidual}
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
	for _, name := range []string{"encoder.0.proj.weight", "encoder.2.proj.bias", "decoder.0.proj.weight"} {
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
		t.Errorf("reloading the residual model: %v", err)
	}
	plain := cfg
	plain.Block = BlockPlain
	pm, _ := New(plain, 3)
	if _, err := FromTensors(cfg, pm.Tensors); err == nil || !strings.Contains(err.Error(), "proj") {
		t.Errorf("a plain model's tensors under a residual config: %v, want a missing projection", err)
	}
	infer, err := NewInferNet(m, 1, 16, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer infer.Close()
	if err := infer.Forward(x[:16*16]); err != nil {
		t.Fatal(err)
	}
}
