package landscape

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/segment-dev/segment/unet"
)

// randomCrops are n crops of h x w with random images and 0/1 targets (class indices for
// several classes).
func randomCrops(cfg unet.Config, n, h, w int) *Crops {
	rng := rand.New(rand.NewPCG(7, 8))
	c := &Crops{N: n, H: h, W: w, Inputs: make([]float32, n*cfg.InChannels*h*w), Targets: make([]float32, n*h*w)}
	for i := range c.Inputs {
		c.Inputs[i] = rng.Float32()
	}
	for i := range c.Targets {
		c.Targets[i] = float32(rng.IntN(max(2, cfg.Classes)))
	}
	return c
}

// TestUNetCentreIsTrainingLoss: the landscape's centre is the loss the training graph
// computes on the same crops, for models whose norm is the same in training and at
// inference (none, group); and a point off the centre is the loss of a fresh model whose
// weights are moved there by hand, so the workers' copies really take the new weights
// (batch norm too: its running statistics are not moved).
func TestUNetCentreIsTrainingLoss(t *testing.T) {
	for _, cfg := range []unet.Config{
		{InChannels: 1, Classes: 1, Depth: 2, BaseChannels: 4, Skip: unet.SkipConcat, Norm: unet.NormNone, Up: unet.UpTranspose},
		{InChannels: 2, Classes: 3, Depth: 2, BaseChannels: 4, Skip: unet.SkipAdd, Norm: unet.NormGroup, Up: unet.UpTranspose, Block: unet.BlockDense, Growth: 2, DenseLayers: 2},
		{InChannels: 1, Classes: 1, Depth: 2, BaseChannels: 4, Skip: unet.SkipNone, Norm: unet.NormBatch, Up: unet.UpTranspose, Block: unet.BlockResidual},
	} {
		m, err := unet.New(cfg, 4)
		if err != nil {
			t.Fatal(err)
		}
		loss := unet.DefaultLoss(cfg.Classes)
		crops := randomCrops(cfg, 2, 16, 16)
		res, err := Compute(&UNet{Model: m, Loss: loss.Func, Crops: crops}, Options{Points: 3, Seed: 2, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Norm != unet.NormBatch {
			net, err := unet.NewTrainNet(m, crops.N, crops.H, crops.W, loss.Func)
			if err != nil {
				t.Fatal(err)
			}
			want, err := net.Step(crops.Inputs, crops.Targets)
			net.Close()
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(res.Centre-want) > 1e-5*math.Abs(want) {
				t.Errorf("%s: centre %.7g, the training graph's loss %.7g", cfg, res.Centre, want)
			}
		}
		moved := m.Clone()
		u := &UNet{Model: moved, Loss: loss.Func, Crops: crops}
		for i, p := range u.Params() {
			for j := range p.Data {
				p.Data[j] += res.Directions[0][i][j] - res.Directions[1][i][j] // (a, b) = (1, -1)
			}
		}
		w, err := u.NewWorker()
		if err != nil {
			t.Fatal(err)
		}
		var ws [][]float32
		for _, p := range u.Params() {
			ws = append(ws, p.Data)
		}
		want, err := w.Loss(ws)
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Loss[0][2]; math.Abs(got-want) > 1e-5*math.Abs(want) || got == res.Centre {
			t.Errorf("%s: loss at (1, -1) %.7g, a model moved there %.7g (centre %.7g)", cfg, got, want, res.Centre)
		}
	}
}
