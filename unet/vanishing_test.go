package unet

import (
	"math"
	"math/rand"
	"strings"
	"testing"
)

// torchDefaultInit redraws a model's convolution weights and biases as PyTorch's Conv2d and
// ConvTranspose2d draw them by default (kaiming_uniform with a = sqrt(5)): uniform in
// ±1/sqrt(fan_in), with fan_in = shape[1]*k*k for both (PyTorch reads dimension 1 of a
// transposed convolution's weight too). That is std 1/sqrt(3 fan_in), 0.41 times He's
// sqrt(2/fan_in): through a ReLU each layer keeps only a sixth of the variance.
func torchDefaultInit(m *Model, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	bound := map[string]float64{}
	for _, p := range m.Config.Params() {
		if len(p.Shape) != 4 {
			continue
		}
		b := 1 / math.Sqrt(float64(p.Shape[1]*p.Shape[2]*p.Shape[3]))
		bound[strings.TrimSuffix(p.Name, ".weight")] = b
		for i := range m.Data(p.Name) {
			m.Data(p.Name)[i] = float32((rng.Float64()*2 - 1) * b)
		}
	}
	for _, p := range m.Config.Params() {
		if b, ok := bound[strings.TrimSuffix(p.Name, ".bias")]; ok && strings.HasSuffix(p.Name, ".bias") {
			for i := range m.Data(p.Name) {
				m.Data(p.Name)[i] = float32((rng.Float64()*2 - 1) * b)
			}
		}
	}
}

// firstLayerGrad is the L2 norm of the loss gradient of encoder.0.conv1.weight for a model
// of depth 4, base 4, no normalisation, on one fixed random batch of two 64x64 images with
// a 30% foreground target, at initialisation: He's (the model's own) or PyTorch's default.
func firstLayerGrad(t *testing.T, skip Skip, block Block, seed int64, torchInit bool) float64 {
	t.Helper()
	cfg := Config{InChannels: 1, Classes: 1, Depth: 4, BaseChannels: 4, Skip: skip, Norm: NormNone, Up: UpTranspose, Block: block}
	m, err := New(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	if torchInit {
		torchDefaultInit(m, seed)
	}
	const n, side = 2, 64
	net, err := NewTrainNet(m, n, side, side, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	rng := rand.New(rand.NewSource(seed))
	x, target := make([]float32, n*side*side), make([]float32, n*side*side)
	for i := range x {
		x[i] = rng.Float32()
		if rng.Float32() < 0.3 {
			target[i] = 1
		}
	}
	if _, err := net.Step(x, target); err != nil {
		t.Fatal(err)
	}
	var s float64
	for _, v := range net.Grad("encoder.0.conv1.weight") {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}

// TestLongSkipsKeepTheGradient measures the essay's claim on a small deep U-Net without
// normalisation (depth 4: 22 3x3 and transposed convolutions between the first layer and
// the head on the long path).
//
// With PyTorch's default initialisation each layer passes back about 1/sqrt(6) of the
// gradient's size. Without long skips the only way from the loss back to encoder.0 runs
// down through every level and up again, about 22 layers: 0.41^22 ~ 3e-9. With a long skip
// (concat or add) a path of 4 layers exists (encoder.0's second conv, the join, decoder.0's
// two convs, the head): 0.41^4 ~ 3e-2. The prediction is a factor of about 1e7; measured
// over 5 seeds it is 1.8e7 to 8.3e8 for concat and 8.8e7 to 8.4e8 for add. The test
// requires 1e4 for every seed, more than a thousandfold below the smallest measured factor,
// so that it fails only if the skips stop carrying the gradient, not on a change of
// numerics. Residual blocks without long skips (ResNet's short skips only) are logged, not
// required: they lift the first layer's gradient 7e3 to 5e4-fold over plain blocks, but with
// 4 channels and PyTorch's random biases a whole layer can start dead (seed 1: every
// pre-activation of decoder.0 negative, so no gradient reaches any layer, not even the
// head), which is another failure than the one the essay describes.
//
// Where the claim does not hold: with He initialisation, the model's own, each layer
// passes the gradient's size back unchanged on average, and at initialisation the first
// layer's gradient without skips is not smaller (measured none/concat from 0.024 to 18 over
// the seeds, geometric mean about 1.4). The test requires the geometric mean to stay
// above 1e-2, that is, no vanishing of the kind PyTorch's initialisation shows.
func TestLongSkipsKeepTheGradient(t *testing.T) {
	const seeds = 5
	var heLog float64
	for seed := int64(1); seed <= seeds; seed++ {
		none := firstLayerGrad(t, SkipNone, BlockPlain, seed, true)
		concat := firstLayerGrad(t, SkipConcat, BlockPlain, seed, true)
		add := firstLayerGrad(t, SkipAdd, BlockPlain, seed, true)
		res := firstLayerGrad(t, SkipNone, BlockResidual, seed, true)
		t.Logf("seed %d, PyTorch init: first-layer gradient norm none %.2g, concat %.2g (%.2g times), add %.2g (%.2g times), residual none %.2g (%.2g times)",
			seed, none, concat, concat/none, add, add/none, res, res/none)
		if !(concat >= 1e4*none) || !(add >= 1e4*none) {
			t.Errorf("seed %d, PyTorch init: first-layer gradient norm without long skips %.3g, with concat %.3g, with add %.3g: want both at least 1e4 times larger",
				seed, none, concat, add)
		}
		heNone := firstLayerGrad(t, SkipNone, BlockPlain, seed, false)
		heConcat := firstLayerGrad(t, SkipConcat, BlockPlain, seed, false)
		t.Logf("seed %d, He init: none %.2g, concat %.2g (%.2g times)", seed, heNone, heConcat, heConcat/heNone)
		heLog += math.Log(heNone / heConcat)
	}
	if g := math.Exp(heLog / seeds); !(g > 1e-2) {
		t.Errorf("He init: geometric mean of the first-layer gradient norm without long skips over that with concat is %.3g, want above 1e-2", g)
	}
}
