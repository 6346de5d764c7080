package unet

import (
	G "gorgonia.org/gorgonia"
)

// Layer is one step of the forward pass: a leaf of the module tree (Arch). Each layer owns
// its tensors (names, shapes, initialisation), its cost and its piece of the gorgonia graph.
// The set of layers is closed (graph is the package's own method), so that a walker outside
// the package can switch on the concrete types below and know it has met every kind:
// *Conv, *NormLayer, *ReLULayer, *PoolLayer, *UpConv, *Join, *Sum and *Concat.
type Layer interface {
	// Name is the layer's module path, as PyTorch's named_modules gives it. Its tensors are
	// called Name + "." + their own name: "encoder.0.conv1" holds "encoder.0.conv1.weight".
	Name() string
	// Params lists the layer's tensors in the model file's order, each with its shape and
	// the rule New initialises it by.
	Params() []ParamSpec
	// MACs counts the multiply-adds of the layer for one image whose output is h x w.
	// Only the convolutions count: normalisation, ReLU, pooling and joins are left out, as
	// speed comparisons do.
	MACs(h, w int) int64
	// graph adds the layer to b's graph, reading in (in the order of Step.In).
	graph(b *builder, in []*G.Node) *G.Node
}

// Conv is a convolution (PyTorch's Conv2d): the 3x3 convolutions of a block, the 1x1
// projection of a residual shortcut and the 1x1 head. Its weight is [Out, In, Kernel,
// Kernel], He-normal; its bias [Out], zero, exists only when Bias is set (a convolution
// followed by a normalisation has none, since the norm's shift takes its place).
type Conv struct {
	Path                string
	In, Out             int
	Kernel, Stride, Pad int
	Bias                bool
}

// Name gives the module path.
func (c *Conv) Name() string { return c.Path }

// Params gives the weight and, with Bias, the bias.
func (c *Conv) Params() []ParamSpec {
	ps := []ParamSpec{{Name: c.Path + ".weight", Shape: []int{c.Out, c.In, c.Kernel, c.Kernel}, Kind: Weight, Init: InitHe, FanIn: c.In * c.Kernel * c.Kernel}}
	if c.Bias {
		ps = append(ps, ParamSpec{Name: c.Path + ".bias", Shape: []int{c.Out}, Kind: Weight, Init: InitZero})
	}
	return ps
}

// MACs counts Kernel*Kernel*In multiply-adds for each of the Out x h x w outputs.
func (c *Conv) MACs(h, w int) int64 {
	return int64(c.Out) * int64(c.In) * int64(c.Kernel*c.Kernel) * int64(h) * int64(w)
}

func (c *Conv) graph(b *builder, in []*G.Node) *G.Node {
	w := b.param(c.Path + ".weight")
	var bias *G.Node
	if c.Bias {
		bias = b.param(c.Path + ".bias")
	}
	return b.apply(func() (*G.Node, error) { return Conv2d(in[0], w, bias, c.Stride, c.Pad) })
}

// UpConv is the decoder's learned 2x upsampling: a transposed convolution (PyTorch's
// ConvTranspose2d) of kernel 2 and stride 2, with a bias. Its weight is [In, Out, Kernel,
// Kernel] (PyTorch's layout for transposed convolutions), He-normal; its bias [Out], zero.
type UpConv struct {
	Path           string
	In, Out        int
	Kernel, Stride int
}

// Name gives the module path.
func (u *UpConv) Name() string { return u.Path }

// Params gives the weight and the bias. Each output sums In*Kernel*Kernel/Stride^2 inputs
// (In for the 2x2 stride-2 kernel): the fan-in of its He initialisation.
func (u *UpConv) Params() []ParamSpec {
	return []ParamSpec{
		{Name: u.Path + ".weight", Shape: []int{u.In, u.Out, u.Kernel, u.Kernel}, Kind: Weight, Init: InitHe, FanIn: u.In * u.Kernel * u.Kernel / (u.Stride * u.Stride)},
		{Name: u.Path + ".bias", Shape: []int{u.Out}, Kind: Weight, Init: InitZero},
	}
}

// MACs counts, for every input pixel ((h/Stride) x (w/Stride) of them), In x Out x
// Kernel x Kernel multiply-adds.
func (u *UpConv) MACs(h, w int) int64 {
	return int64(u.In) * int64(u.Out) * int64(u.Kernel*u.Kernel) * int64(h/u.Stride) * int64(w/u.Stride)
}

func (u *UpConv) graph(b *builder, in []*G.Node) *G.Node {
	w, bias := b.param(u.Path+".weight"), b.param(u.Path+".bias")
	return b.apply(func() (*G.Node, error) { return ConvTranspose2d(in[0], w, bias, u.Stride, 0) })
}

// NormLayer is a normalisation of Channels channels: batch norm (PyTorch's BatchNorm2d:
// batch statistics while training, moving the running ones by Momentum; the running
// statistics at inference) or group norm (GroupNorm of Groups groups, the same in both).
// Its scale (weight) starts at one and its shift (bias) at zero; batch norm's running mean
// and variance start at zero and one, as PyTorch's do.
type NormLayer struct {
	Path     string
	Kind     Norm // NormBatch or NormGroup
	Channels int
	Groups   int // group norm only
	Eps      float64
	Momentum float64 // batch norm only
}

// Name gives the module path.
func (n *NormLayer) Name() string { return n.Path }

// Params gives the scale and shift and, for batch norm, the running statistics.
func (n *NormLayer) Params() []ParamSpec {
	c := []int{n.Channels}
	ps := []ParamSpec{
		{Name: n.Path + ".weight", Shape: c, Kind: Weight, Init: InitOne},
		{Name: n.Path + ".bias", Shape: c, Kind: Weight, Init: InitZero},
	}
	if n.Kind == NormBatch {
		ps = append(ps,
			ParamSpec{Name: n.Path + ".running_mean", Shape: c, Kind: Buffer, Init: InitZero},
			ParamSpec{Name: n.Path + ".running_var", Shape: c, Kind: Buffer, Init: InitOne})
	}
	return ps
}

// MACs is zero: normalisation is not counted.
func (n *NormLayer) MACs(h, w int) int64 { return 0 }

func (n *NormLayer) graph(b *builder, in []*G.Node) *G.Node { return n.norm(b, in[0], false) }

// norm adds the normalisation of x and, with relu, the ReLU after it. Batch norm while
// training and group norm fuse the ReLU into their op; batch norm at inference, when no
// convolution took it in (ConvBNReLU), is a per-channel scale and shift and a separate ReLU.
func (n *NormLayer) norm(b *builder, x *G.Node, relu bool) *G.Node {
	gamma, beta := b.param(n.Path+".weight"), b.param(n.Path+".bias")
	switch {
	case n.Kind == NormGroup:
		return b.apply(func() (*G.Node, error) {
			if relu {
				return GroupNormReLU(x, gamma, beta, n.Groups, n.Eps)
			}
			return GroupNorm(x, gamma, beta, n.Groups, n.Eps)
		})
	case b.training:
		rs := &RunningStats{Mean: b.m.Data(n.Path + ".running_mean"), Var: b.m.Data(n.Path + ".running_var"), Momentum: n.Momentum}
		return b.apply(func() (*G.Node, error) {
			if relu {
				return BatchNormReLU(x, gamma, beta, n.Eps, rs)
			}
			return BatchNorm(x, gamma, beta, n.Eps, rs)
		})
	default:
		mean, variance := b.param(n.Path+".running_mean"), b.param(n.Path+".running_var")
		x = b.apply(func() (*G.Node, error) { return BatchNormInference(x, gamma, beta, mean, variance, n.Eps) })
		if relu {
			x = b.apply(func() (*G.Node, error) { return ReLU(x) })
		}
		return x
	}
}

// ReLULayer is max(x, 0). It has no tensors; the path only names its output.
type ReLULayer struct{ Path string }

// Name gives the module path.
func (r *ReLULayer) Name() string { return r.Path }

// Params is empty.
func (r *ReLULayer) Params() []ParamSpec { return nil }

// MACs is zero.
func (r *ReLULayer) MACs(h, w int) int64 { return 0 }

func (r *ReLULayer) graph(b *builder, in []*G.Node) *G.Node {
	return b.apply(func() (*G.Node, error) { return ReLU(in[0]) })
}

// PoolLayer is a max pool of Kernel x Kernel windows with stride Kernel (PyTorch's
// MaxPool2d(2, 2)): the encoder's 2x downsampling.
type PoolLayer struct {
	Path   string
	Kernel int
}

// Name gives the module path.
func (p *PoolLayer) Name() string { return p.Path }

// Params is empty.
func (p *PoolLayer) Params() []ParamSpec { return nil }

// MACs is zero.
func (p *PoolLayer) MACs(h, w int) int64 { return 0 }

func (p *PoolLayer) graph(b *builder, in []*G.Node) *G.Node {
	return b.apply(func() (*G.Node, error) { return MaxPool(in[0], p.Kernel) })
}

// Join is the long skip's join of the encoder's tensor with the upsampled one, in that
// order (Step.In is [skip, up]): torch.cat([skip, up], 1) for SkipConcat, skip + up for
// SkipAdd. A model with SkipNone has no Join.
type Join struct {
	Path string
	Kind Skip
}

// Name gives the module path.
func (j *Join) Name() string { return j.Path }

// Params is empty.
func (j *Join) Params() []ParamSpec { return nil }

// MACs is zero.
func (j *Join) MACs(h, w int) int64 { return 0 }

func (j *Join) graph(b *builder, in []*G.Node) *G.Node {
	if j.Kind == SkipConcat {
		return b.apply(func() (*G.Node, error) { return ConcatChannels(in[0], in[1]) })
	}
	return b.apply(func() (*G.Node, error) { return G.Add(in[0], in[1]) })
}

// Sum is the residual block's addition of its branch and its shortcut (Step.In is
// [branch, shortcut]).
type Sum struct{ Path string }

// Name gives the module path.
func (s *Sum) Name() string { return s.Path }

// Params is empty.
func (s *Sum) Params() []ParamSpec { return nil }

// MACs is zero.
func (s *Sum) MACs(h, w int) int64 { return 0 }

func (s *Sum) graph(b *builder, in []*G.Node) *G.Node {
	return b.apply(func() (*G.Node, error) { return G.Add(in[0], in[1]) })
}

// Concat is a dense block's concatenation of the block's input and its earlier units'
// outputs along the channels, in Step.In's order: torch.cat(inputs, 1).
type Concat struct{ Path string }

// Name gives the module path.
func (c *Concat) Name() string { return c.Path }

// Params is empty.
func (c *Concat) Params() []ParamSpec { return nil }

// MACs is zero.
func (c *Concat) MACs(h, w int) int64 { return 0 }

// graph joins the inputs two at a time, left to right, with the channel concatenation of
// the long skip: the result is their concatenation in order.
func (c *Concat) graph(b *builder, in []*G.Node) *G.Node {
	x := in[0]
	for _, y := range in[1:] {
		x = b.apply(func() (*G.Node, error) { return ConcatChannels(x, y) })
	}
	return x
}
