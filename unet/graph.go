package unet

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// builder assembles one graph of a model: it walks the steps of the model's Arch, hands
// out the model's tensors as graph inputs and lets each layer add itself.
type builder struct {
	g        *G.ExprGraph
	m        *Model
	training bool
	params   map[string]*G.Node
	err      error // the first error sticks; later calls do nothing
}

// param is the graph node of a model tensor. The node is bound to the model's own tensor,
// so that graphs share the weights and an optimiser's in-place update is seen everywhere.
func (b *builder) param(name string) *G.Node {
	if n, ok := b.params[name]; ok {
		return n
	}
	t, ok := b.m.Tensors[name]
	if !ok {
		b.fail(fmt.Errorf("model has no tensor %s", name))
		return nil
	}
	n := G.NewTensor(b.g, tensor.Float32, t.Dims(), G.WithShape(t.Shape()...), G.WithValue(t), G.WithName(name))
	b.params[name] = n
	return n
}

func (b *builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// apply runs one graph-building step unless an earlier one failed.
func (b *builder) apply(f func() (*G.Node, error)) *G.Node {
	if b.err != nil {
		return nil
	}
	n, err := f()
	if err != nil {
		b.fail(err)
		return nil
	}
	return n
}

// forward is the U-Net itself: x [N, in, H, W] to logits [N, classes, H, W], with H and W
// multiples of 2^depth.
func (b *builder) forward(x *G.Node) *G.Node {
	vals := b.run(b.m.Config.Arch().Steps(), map[string]*G.Node{InputName: x})
	return vals[OutputName]
}

// run adds steps to the graph, reading and adding to vals (tensor name to node). Where a
// run of steps is one of the patterns a fused op computes faster (fuse), that op stands
// for them.
func (b *builder) run(steps []Step, vals map[string]*G.Node) map[string]*G.Node {
	readers := make(map[string]int)
	for _, s := range steps {
		for _, in := range s.In {
			readers[in]++
		}
	}
	for i := 0; i < len(steps) && b.err == nil; {
		s := steps[i]
		in := make([]*G.Node, len(s.In))
		for j, name := range s.In {
			if in[j] = vals[name]; in[j] == nil {
				b.fail(fmt.Errorf("%s reads %s, which no earlier step writes", s.Layer.Name(), name))
				return vals
			}
		}
		n, used := b.fuse(steps[i:], readers, in)
		if used == 0 {
			n, used = s.Layer.graph(b, in), 1
		}
		vals[steps[i+used-1].Out] = n
		i += used
	}
	return vals
}

// fuse adds the fused op for the steps at the head of steps when they form one of these
// patterns, and says how many steps it stands for (0 for none):
//
//   - at inference, a convolution without bias => batch norm [=> ReLU]: ConvBNReLU, the
//     norm a per-channel scale and shift of the running statistics applied, with the ReLU,
//     to each band of the convolution's output while it is in cache;
//   - batch norm while training, or group norm => ReLU: the norm's op with the ReLU in it.
//
// A step's output may be fused away only when the next step is its one reader.
func (b *builder) fuse(steps []Step, readers map[string]int, in []*G.Node) (*G.Node, int) {
	next := func(i int) Layer { // steps[i] when it is the only reader of steps[i-1]
		if i < len(steps) && readers[steps[i-1].Out] == 1 && len(steps[i].In) == 1 && steps[i].In[0] == steps[i-1].Out {
			return steps[i].Layer
		}
		return nil
	}
	switch l := steps[0].Layer.(type) {
	case *Conv:
		norm, ok := next(1).(*NormLayer)
		if b.training || !ok || norm.Kind != NormBatch || l.Bias || l.Stride != 1 {
			return nil, 0
		}
		_, relu := next(2).(*ReLULayer)
		w := b.param(l.Path + ".weight")
		gamma, beta := b.param(norm.Path+".weight"), b.param(norm.Path+".bias")
		mean, variance := b.param(norm.Path+".running_mean"), b.param(norm.Path+".running_var")
		n := b.apply(func() (*G.Node, error) {
			return ConvBNReLU(in[0], w, gamma, beta, mean, variance, l.Pad, norm.Eps, relu)
		})
		if relu {
			return n, 3
		}
		return n, 2
	case *NormLayer:
		if _, relu := next(1).(*ReLULayer); relu && (b.training || l.Kind == NormGroup) {
			return l.norm(b, in[0], true), 2
		}
	}
	return nil, 0
}
