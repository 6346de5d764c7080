package unet

import (
	"math"
	"math/rand"
	"testing"
)

// TestGraphsShareWeights checks that training and inference graphs read the same tensors:
// a training pass moves the running statistics the inference graph uses, and a change to a
// weight is seen by a graph built before it.
func TestGraphsShareWeights(t *testing.T) {
	cfg := Config{InChannels: 1, Classes: 1, Depth: 2, BaseChannels: 4, Skip: SkipAdd, Norm: NormBatch, Up: UpTranspose}
	m, err := New(cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	inf, err := NewInferNet(m, 1, 8, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer inf.Close()
	tr, err := NewTrainNet(m, 2, 8, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	x := make([]float32, 64)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	if err := inf.Forward(x); err != nil {
		t.Fatal(err)
	}
	before := append([]float32(nil), inf.Logits()...)

	batch := append(append([]float32(nil), x...), x...)
	target := make([]float32, 128)
	if _, err := tr.Step(batch, target); err != nil {
		t.Fatal(err)
	}
	rm := m.Data("encoder.0.norm1.running_mean")
	if rm[0] == 0 && rm[1] == 0 {
		t.Fatal("a training pass left the running mean at zero")
	}
	if tr.Grad("encoder.0.conv1.weight") == nil || tr.Grad("encoder.0.norm1.running_mean") != nil {
		t.Error("gradients must exist for weights and not for running statistics")
	}
	if err := inf.Forward(x); err != nil {
		t.Fatal(err)
	}
	after := inf.Logits()
	same := true
	for i := range after {
		if after[i] != before[i] {
			same = false
		}
	}
	if same {
		t.Error("the inference graph did not see the running statistics the training pass moved")
	}
	m.Data("head.bias")[0] += 1
	prev := append([]float32(nil), inf.Logits()...)
	if err := inf.Forward(x); err != nil {
		t.Fatal(err)
	}
	if d := inf.Logits()[0] - prev[0]; math.Abs(float64(d)-1) > 1e-5 {
		t.Errorf("raising the head bias by 1 moved the logit by %v", d)
	}
}

func TestNetRejectsBadSizes(t *testing.T) {
	m, err := New(DefaultConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewInferNet(m, 1, 24, 32); err == nil {
		t.Error("a height that is not a multiple of 16 was accepted")
	}
	if _, err := NewTrainNet(m, 0, 16, 16, nil); err == nil {
		t.Error("an empty batch was accepted")
	}
}

// TestRepeatedPassesAgree runs the same batch through one training net twice and through a
// fresh net: ops reuse their output buffers from pass to pass, which must not leak one
// pass's numbers into the next.
func TestRepeatedPassesAgree(t *testing.T) {
	cfg := Config{InChannels: 1, Classes: 3, Depth: 2, BaseChannels: 4, Skip: SkipConcat, Norm: NormGroup, Up: UpTranspose}
	m, err := New(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(5))
	x := make([]float32, 2*16*16)
	target := make([]float32, 2*16*16)
	for i := range x {
		x[i] = rng.Float32()
		target[i] = float32(rng.Intn(3))
	}
	other := make([]float32, len(x))
	for i := range other {
		other[i] = rng.Float32()
	}
	run := func(net *Net, in []float32) (float64, []float32) {
		l, err := net.Step(in, target)
		if err != nil {
			t.Fatal(err)
		}
		return l, append([]float32(nil), net.Grad("encoder.0.conv1.weight")...)
	}
	a, err := NewTrainNet(m, 2, 16, 16, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	l1, g1 := run(a, x)
	run(a, other)
	l2, g2 := run(a, x)
	b, err := NewTrainNet(m, 2, 16, 16, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	l3, g3 := run(b, x)
	if l1 != l2 || l1 != l3 {
		t.Errorf("losses %v, %v (same net, later) and %v (fresh net) differ", l1, l2, l3)
	}
	for i := range g1 {
		if g1[i] != g2[i] || g1[i] != g3[i] {
			t.Fatalf("gradient %d: %v, %v, %v", i, g1[i], g2[i], g3[i])
		}
	}
}

// TestMACsByHand counts a depth-1, base-2 U-Net on one 4x4 image by hand:
// encoder 0: 2*1*9*16 + 2*2*9*16 = 288 + 576; bottleneck (2x2, 4 channels): 4*2*9*4 +
// 4*4*9*4 = 288 + 576; up: 2*4*4*4 = 128; decoder (concat: 4 in): 2*4*9*16 + 2*2*9*16 =
// 1152 + 576; head: 1*2*16 = 32. Total 3616.
func TestMACsByHand(t *testing.T) {
	cfg := Config{InChannels: 1, Classes: 1, Depth: 1, BaseChannels: 2, Skip: SkipConcat, Norm: NormBatch, Up: UpTranspose}
	if got := cfg.MACs(4, 4); got != 3616 {
		t.Errorf("MACs = %d, want 3616", got)
	}
	cfg.Skip = SkipAdd // the decoder's first conv takes 2 channels: 576 fewer
	if got := cfg.MACs(4, 4); got != 3616-576 {
		t.Errorf("MACs with add = %d, want %d", got, 3616-576)
	}
}
