package landscape

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/unet"
)

// Crops is a fixed batch of training samples: N images of H x W with their targets as the
// training graph takes them (unet.Config.TargetShape; ignored pixels negative).
type Crops struct {
	N, H, W int
	Inputs  []float32
	Targets []float32
}

// LoadCrops cuts n crops of side crop from the training pairs of d, as training cuts them
// (mirror-padded where an image is smaller), at places drawn with seed, without
// augmentation, from the images shrunk by the factor downsample (1 or 0 for none): the same
// seed gives the same crops, so that the landscapes of several models are taken on the same
// samples.
func LoadCrops(d *dataset.Dataset, n, crop, downsample int, seed uint64) (*Crops, error) {
	if len(d.Train) == 0 {
		return nil, fmt.Errorf("%s: no training pairs to take crops from", d.Dir)
	}
	l, err := d.NewLoader(d.Train, dataset.LoaderOptions{BatchSize: 1, Crop: crop, Shuffle: true, Seed: seed, Workers: 1, Downsample: downsample})
	if err != nil {
		return nil, err
	}
	defer l.Close()
	c := &Crops{H: crop, W: crop}
	for b := range l.Batches() {
		c.Inputs = append(c.Inputs, b.Inputs...)
		for _, t := range b.Targets {
			c.Targets = append(c.Targets, float32(t))
		}
		if c.N++; c.N == n {
			break
		}
	}
	if err := l.Close(); err != nil {
		return nil, err
	}
	if c.N < n {
		return nil, fmt.Errorf("%s: got %d crops of the %d asked for", d.Dir, c.N, n)
	}
	return c, nil
}

// UNet is the Problem of a segment model on a fixed batch of crops. Its loss is the loss
// function training uses, on the crops as one batch, with the model in inference mode:
// batch norm normalises with the model's running statistics, which the directions leave
// alone, so that the loss is a function of the weights alone and the same at every point
// for every variant (with batch statistics it would also depend on the batch). Only the
// learned tensors of two or more axes move (the convolutions' weights): biases, the norms'
// scales and shifts (whose directions are zero, as Li et al. set them) and the running
// statistics stay at the model's values.
type UNet struct {
	Model *unet.Model
	Loss  unet.LossFunc
	Crops *Crops
}

// Params lists the model's learned tensors in the model file's order.
func (u *UNet) Params() []Tensor {
	var ts []Tensor
	for _, p := range u.Model.Config.Params() {
		if p.Kind == unet.Weight {
			ts = append(ts, Tensor{Name: p.Name, Shape: p.Shape, Data: u.Model.Data(p.Name)})
		}
	}
	return ts
}

// NewWorker builds a copy of the model, its inference graph for the crops and a graph of
// the loss on its logits.
func (u *UNet) NewWorker() (Worker, error) {
	m := u.Model.Clone()
	c := u.Crops
	net, err := unet.NewInferNet(m, c.N, c.H, c.W)
	if err != nil {
		return nil, err
	}
	w := &unetWorker{m: m, net: net, params: u.Params(), inputs: c.Inputs}
	if err := w.buildLoss(u.Loss, c.Targets); err != nil {
		net.Close()
		return nil, err
	}
	return w, nil
}

type unetWorker struct {
	m      *unet.Model
	net    *unet.Net
	params []Tensor
	inputs []float32
	logits *tensor.Dense
	loss   *G.Node
	vm     G.VM
}

// buildLoss makes the graph loss(logits, targets), logits read from w.logits.
func (w *unetWorker) buildLoss(f unet.LossFunc, targets []float32) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("building the loss graph: %v", r)
		}
	}()
	cfg, n := w.m.Config, w.net
	g := G.NewGraph()
	w.logits = tensor.New(tensor.WithShape(n.N, cfg.Classes, n.H, n.W), tensor.Of(tensor.Float32))
	ts := cfg.TargetShape(n.N, n.H, n.W)
	tt := tensor.New(tensor.WithShape(ts...), tensor.WithBacking(append([]float32(nil), targets...)))
	lg := G.NewTensor(g, tensor.Float32, 4, G.WithShape(w.logits.Shape()...), G.WithValue(w.logits), G.WithName("logits"))
	tg := G.NewTensor(g, tensor.Float32, ts.Dims(), G.WithShape(ts...), G.WithValue(tt), G.WithName("target"))
	if w.loss, err = f(lg, tg); err != nil {
		return fmt.Errorf("loss: %w", err)
	}
	w.vm = G.NewTapeMachine(g)
	return nil
}

// Loss sets the copy's weights to ws, runs the inference graph on the crops and the loss
// graph on its logits.
func (w *unetWorker) Loss(ws [][]float32) (loss float64, err error) {
	for i, p := range w.params {
		copy(w.m.Data(p.Name), ws[i])
	}
	if err := w.net.Forward(w.inputs); err != nil {
		return 0, err
	}
	copy(w.logits.Data().([]float32), w.net.Logits())
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("running the loss graph: %v", r)
		}
	}()
	w.vm.Reset()
	if err := w.vm.RunAll(); err != nil {
		return 0, err
	}
	return float64(w.loss.Value().Data().(float32)), nil
}

func (w *unetWorker) Close() error {
	w.vm.Close()
	return w.net.Close()
}

// DataOptions say which crops and which loss the landscape of a segment model is taken on.
type DataOptions struct {
	Crops, Crop int     // the number of crops and their side (a multiple of 2^depth)
	Seed        uint64  // the crops' places, and which training pairs are held out
	ValSplit    float64 // the held-out share of train, as training's (its pairs give no crops)
	Loss        string  // the registry's loss; empty for the model's default
	// Downsample shrinks the images before they are cropped, as the model's training did
	// (weights.Meta.Downsample), so that the loss is taken on what the model learned from.
	Downsample int
}

// ForModel is the Problem of model m on crops of the training pairs of the data set at
// dir, read with the model's channels and classes.
func ForModel(m *unet.Model, classes dataset.Classes, dir string, o DataOptions) (*UNet, error) {
	if mul := m.Config.Multiple(); o.Crop < mul || o.Crop%mul != 0 {
		return nil, fmt.Errorf("the crop side must be a positive multiple of %d (2^depth), got %d", mul, o.Crop)
	}
	if o.Crops < 1 {
		return nil, fmt.Errorf("the number of crops must be at least 1, got %d", o.Crops)
	}
	loss, err := unet.LossFor(o.Loss, m.Config.Classes)
	if err != nil {
		return nil, err
	}
	d, err := dataset.Open(dir, dataset.Options{Channels: m.Config.InChannels, MaskValues: classes.Values, Ignore: classes.Ignore,
		ValFraction: o.ValSplit, Seed: o.Seed})
	if err != nil {
		return nil, err
	}
	c, err := LoadCrops(d, o.Crops, o.Crop, o.Downsample, o.Seed)
	if err != nil {
		return nil, err
	}
	return &UNet{Model: m, Loss: loss.Func, Crops: c}, nil
}
