package unet

import (
	"fmt"
	"sort"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TargetShape is the shape of a training target for a batch of n images of h x w: the 0/1
// mask [n, 1, h, w] of a binary model, the class indices [n, h, w] of a multi-class one.
// Pixels below zero are ignored by the losses.
func (c Config) TargetShape(n, h, w int) tensor.Shape {
	if c.Classes == 1 {
		return tensor.Shape{n, 1, h, w}
	}
	return tensor.Shape{n, h, w}
}

// Net is one compiled graph of a model for one input shape: a training graph (batch norm on
// batch statistics, loss and gradients) or an inference graph (running statistics). Nets
// built from the same Model share its tensors. A Net is not safe for concurrent use.
type Net struct {
	Model    *Model
	Training bool
	N, H, W  int

	graph  *G.ExprGraph
	vm     G.VM
	input  *tensor.Dense
	target *tensor.Dense
	logits *G.Node
	loss   *G.Node
	grads  map[string]*G.Node
	plan   bufferPlan
}

// NewTrainNet builds the training graph for batches of n images of h x w (multiples of
// 2^depth), with the given loss and the gradient of every weight. A nil loss is plain
// cross-entropy (BCE for one class, CE otherwise), the loss of PyTorch's reference fixtures;
// training uses the registry's DefaultLoss instead.
func NewTrainNet(m *Model, n, h, w int, loss LossFunc) (*Net, error) {
	if loss == nil {
		loss = CrossEntropy
		if m.Config.Classes == 1 {
			loss = BCEWithLogits
		}
	}
	return newNet(m, n, h, w, true, loss)
}

// NewInferNet builds the inference graph for batches of n images of h x w (multiples of
// 2^depth). Predictor handles other sizes.
func NewInferNet(m *Model, n, h, w int) (*Net, error) {
	return newNet(m, n, h, w, false, nil)
}

func newNet(m *Model, n, h, w int, training bool, loss LossFunc) (net *Net, err error) {
	cfg := m.Config
	if mul := cfg.Multiple(); n < 1 || h < mul || w < mul || h%mul != 0 || w%mul != 0 {
		return nil, fmt.Errorf("input %dx%dx%d: batch must be positive and height and width positive multiples of %d", n, h, w, mul)
	}
	defer func() {
		if r := recover(); r != nil {
			net, err = nil, fmt.Errorf("building the graph: %v", r)
		}
	}()
	g := G.NewGraph()
	net = &Net{Model: m, Training: training, N: n, H: h, W: w, graph: g}
	net.input = tensor.New(tensor.WithShape(n, cfg.InChannels, h, w), tensor.Of(tensor.Float32))
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(n, cfg.InChannels, h, w), G.WithValue(net.input), G.WithName("input"))
	b := &builder{g: g, m: m, training: training, params: make(map[string]*G.Node)}
	net.logits = b.forward(x)
	if b.err != nil {
		return nil, b.err
	}
	if training {
		ts := cfg.TargetShape(n, h, w)
		net.target = tensor.New(tensor.WithShape(ts...), tensor.Of(tensor.Float32))
		t := G.NewTensor(g, tensor.Float32, ts.Dims(), G.WithShape(ts...), G.WithValue(net.target), G.WithName("target"))
		if net.loss, err = loss(net.logits, t); err != nil {
			return nil, fmt.Errorf("loss: %w", err)
		}
		names := make([]string, 0, len(b.params))
		for name := range b.params {
			names = append(names, name)
		}
		sort.Strings(names)
		wrt := make(G.Nodes, len(names))
		for i, name := range names {
			wrt[i] = b.params[name]
		}
		gs, err := G.Grad(net.loss, wrt...)
		if err != nil {
			return nil, fmt.Errorf("gradients: %w", err)
		}
		net.grads = make(map[string]*G.Node, len(names))
		for i, name := range names {
			net.grads[name] = gs[i]
		}
	}
	keep := G.Nodes{net.logits}
	if net.loss != nil {
		keep = append(keep, net.loss)
	}
	for _, n := range net.grads {
		keep = append(keep, n)
	}
	if net.plan, err = planBuffers(g, keep...); err != nil {
		return nil, err
	}
	net.vm = G.NewTapeMachine(g)
	return net, nil
}

// run executes the graph once on the bound input (and target). Gorgonia reports some
// failures by panicking; they come back as errors here.
func (net *Net) run() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("running the graph: %v", r)
		}
	}()
	net.vm.Reset()
	return net.vm.RunAll()
}

// Forward runs the graph on x [N, in, H, W]; Logits gives the result. On a training net it
// also computes the loss and the gradients, and moves the batch-norm running statistics.
func (net *Net) Forward(x []float32) error {
	in := net.input.Data().([]float32)
	if len(x) != len(in) {
		return fmt.Errorf("input has %d values, the net takes %v", len(x), net.input.Shape())
	}
	copy(in, x)
	return net.run()
}

// Step runs one training pass on the batch x with its target (TargetShape) and returns the
// loss. The gradients are then available from Grad; the weights are not changed.
func (net *Net) Step(x, target []float32) (float64, error) {
	if !net.Training {
		return 0, fmt.Errorf("Step on an inference net")
	}
	t := net.target.Data().([]float32)
	if len(target) != len(t) {
		return 0, fmt.Errorf("target has %d values, the net takes %v", len(target), net.target.Shape())
	}
	copy(t, target)
	if err := net.Forward(x); err != nil {
		return 0, err
	}
	return float64(net.loss.Value().Data().(float32)), nil
}

// Logits gives the last pass's output [N, classes, H, W]. The slice belongs to the graph and
// is overwritten by the next pass.
func (net *Net) Logits() []float32 { return net.logits.Value().Data().([]float32) }

// Grad gives the last training pass's gradient of the loss with respect to the named weight
// (nil for a name that has none). It is overwritten by the next pass.
func (net *Net) Grad(name string) []float32 {
	n, ok := net.grads[name]
	if !ok || n.Value() == nil {
		return nil
	}
	return n.Value().Data().([]float32)
}

// Close releases the graph's machine.
func (net *Net) Close() error { return net.vm.Close() }
