package unet

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// builder assembles one graph of a model: it hands out the model's tensors as graph inputs
// and applies the parts of the diagram to them.
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

// conv is a 3x3 (or 1x1) same convolution, with its bias only when no normalisation follows.
func (b *builder) conv(x *G.Node, prefix string, pad int) *G.Node {
	var bias *G.Node
	if b.m.Config.Norm == NormNone {
		bias = b.param(prefix + ".bias")
	}
	w := b.param(prefix + ".weight")
	return b.apply(func() (*G.Node, error) { return Conv2d(x, w, bias, 1, pad) })
}

// norm is the configured normalisation, then a ReLU when relu is set: batch statistics
// (updating the running ones) while training, running statistics at inference, or group
// norm, which is the same in both. Batch and group norm fuse the ReLU into their op.
func (b *builder) norm(x *G.Node, prefix string, relu bool) *G.Node {
	cfg := b.m.Config
	if cfg.Norm == NormNone {
		if relu {
			x = b.relu(x)
		}
		return x
	}
	gamma, beta := b.param(prefix+".weight"), b.param(prefix+".bias")
	switch {
	case cfg.Norm == NormGroup:
		return b.apply(func() (*G.Node, error) {
			if relu {
				return GroupNormReLU(x, gamma, beta, cfg.NumGroups(), GroupNormEps)
			}
			return GroupNorm(x, gamma, beta, cfg.NumGroups(), GroupNormEps)
		})
	case b.training:
		rs := &RunningStats{Mean: b.m.Data(prefix + ".running_mean"), Var: b.m.Data(prefix + ".running_var"), Momentum: BatchNormMomentum}
		return b.apply(func() (*G.Node, error) {
			if relu {
				return BatchNormReLU(x, gamma, beta, BatchNormEps, rs)
			}
			return BatchNorm(x, gamma, beta, BatchNormEps, rs)
		})
	default:
		mean, variance := b.param(prefix+".running_mean"), b.param(prefix+".running_var")
		x = b.apply(func() (*G.Node, error) { return BatchNormInference(x, gamma, beta, mean, variance, BatchNormEps) })
		if relu {
			x = b.relu(x)
		}
		return x
	}
}

func (b *builder) relu(x *G.Node) *G.Node {
	return b.apply(func() (*G.Node, error) { return ReLU(x) })
}

// doubleConv is (3x3 convolution => norm => ReLU) * 2, the plain block. The residual block
// adds a shortcut before the last ReLU, as ResNet's basic block does:
//
//	ReLU(norm2(conv2(ReLU(norm1(conv1(x))))) + shortcut(x))
//
// where shortcut(x) is x itself, or a 1x1 convolution with bias (proj) where the block
// changes the channel count. The add sits before the ReLU so that the block's output is
// non-negative like a plain block's, and the shortcut carries the gradient past both
// convolutions untouched wherever the sum is positive.
func (b *builder) doubleConv(x *G.Node, prefix string) *G.Node {
	in := x
	residual := b.m.Config.Residual()
	x = b.convNormReLU(x, prefix+".conv1", prefix+".norm1", true)
	x = b.convNormReLU(x, prefix+".conv2", prefix+".norm2", !residual)
	if residual {
		x = b.relu(b.shortcut(x, in, prefix))
	}
	return x
}

// convNormReLU is a 3x3 convolution, its norm and (with relu) a ReLU: one fused op at
// inference with batch norm, where the running statistics make the norm a per-channel
// scale and shift; the separate ops otherwise.
func (b *builder) convNormReLU(x *G.Node, conv, norm string, relu bool) *G.Node {
	if !b.training && b.m.Config.Norm == NormBatch {
		w := b.param(conv + ".weight")
		gamma, beta := b.param(norm+".weight"), b.param(norm+".bias")
		mean, variance := b.param(norm+".running_mean"), b.param(norm+".running_var")
		return b.apply(func() (*G.Node, error) {
			return ConvBNReLU(x, w, gamma, beta, mean, variance, 1, BatchNormEps, relu)
		})
	}
	return b.norm(b.conv(x, conv, 1), norm, relu)
}

// shortcut adds the residual block's input in to its branch's output x, through the 1x1
// projection where the channel counts differ (Config.Params names its tensors).
func (b *builder) shortcut(x, in *G.Node, prefix string) *G.Node {
	if b.err != nil {
		return nil
	}
	if in.Shape()[1] != x.Shape()[1] {
		w, bias := b.param(prefix+".proj.weight"), b.param(prefix+".proj.bias")
		in = b.apply(func() (*G.Node, error) { return Conv2d(in, w, bias, 1, 0) })
	}
	return b.apply(func() (*G.Node, error) { return G.Add(x, in) })
}

// down is a 2x2 max pool: half the size, same channels.
func (b *builder) down(x *G.Node) *G.Node {
	return b.apply(func() (*G.Node, error) { return MaxPool(x, 2) })
}

// up is the decoder step of level l: a 2x2 stride-2 transposed convolution of x, joined to
// the encoder's skip tensor of the same size, then a double convolution.
func (b *builder) up(x, skip *G.Node, l int) *G.Node {
	p := fmt.Sprintf("decoder.%d", l)
	w, bias := b.param(p+".up.weight"), b.param(p+".up.bias")
	x = b.apply(func() (*G.Node, error) { return ConvTranspose2d(x, w, bias, 2, 0) })
	switch b.m.Config.Skip {
	case SkipConcat: // skip first, then the upsampled tensor, as torch.cat([skip, up], 1)
		x = b.apply(func() (*G.Node, error) { return ConcatChannels(skip, x) })
	case SkipAdd:
		x = b.apply(func() (*G.Node, error) { return G.Add(skip, x) })
	}
	return b.doubleConv(x, p)
}

// out is the 1x1 convolution to class logits.
func (b *builder) out(x *G.Node) *G.Node {
	w, bias := b.param("head.weight"), b.param("head.bias")
	return b.apply(func() (*G.Node, error) { return Conv2d(x, w, bias, 1, 0) })
}

// forward is the U-Net itself: x [N, in, H, W] to logits [N, classes, H, W], with H and W
// multiples of 2^depth.
func (b *builder) forward(x *G.Node) *G.Node {
	depth := b.m.Config.Depth
	skips := make([]*G.Node, depth)
	for l := 0; l < depth; l++ {
		skips[l] = b.doubleConv(x, fmt.Sprintf("encoder.%d", l))
		x = b.down(skips[l])
	}
	x = b.doubleConv(x, fmt.Sprintf("encoder.%d", depth)) // the bottleneck
	for l := depth - 1; l >= 0; l-- {
		x = b.up(x, skips[l], l)
	}
	return b.out(x)
}
