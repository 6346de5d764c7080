package unet

import "fmt"

// The boxes of the U-Net diagram, each a short list of layers (layers.go). Their steps give
// the layers in forward order and name the tensors that flow between them: a layer's output
// is called by its path, except that a box's last output takes the name the diagram gives
// it (x1..x5, the decoder level's path, logits).

// DoubleConv is a level's block, encoder or decoder: (3x3 convolution => norm => ReLU) * 2,
// or with residual blocks ResNet's basic block
//
//	ReLU(norm2(conv2(ReLU(norm1(conv1(x))))) + shortcut(x))
//
// where shortcut(x) is x itself, or Proj (a 1x1 convolution with bias and no norm) where the
// block changes the channel count. The sum sits before the last ReLU so that the block's
// output is non-negative like a plain block's, and the shortcut carries the gradient past
// both convolutions untouched wherever the sum is positive. With norm "none" the norms are
// nil and the convolutions have biases.
//
// A dense block (DenseNet's short skip) is instead DenseLayers units of
//
//	y_k = ReLU(norm_k(conv_k(cat(x, y_1, ..., y_{k-1}))))
//
// each a 3x3 convolution to GrowthAt(level) channels reading the level's input and every
// earlier unit's output, then a transition ReLU(norm(conv1x1(cat(x, y_1, ..., y_L)))) to the
// level's width. Each convolution is followed by its norm and ReLU, in the order of the
// rest of the model (conv => norm => ReLU) rather than DenseNet's pre-activation (norm =>
// ReLU => conv): the block's output is then non-negative like a plain block's, the fused
// inference op (ConvBNReLU) covers every unit, and the ablation compares short skips
// without also changing where the norm sits. The first unit reads x itself (no Cat).
type DoubleConv struct {
	Path      string
	In, Out   int
	Conv1     *Conv
	Norm1     *NormLayer
	ReLU1     *ReLULayer
	Conv2     *Conv
	Norm2     *NormLayer
	Proj      *Conv // residual blocks whose In != Out only
	Sum       *Sum  // residual blocks only
	ReLU2     *ReLULayer
	Dense     []*DenseUnit // dense blocks only; Conv1 .. ReLU2 are then nil
	Cat       *Concat      // dense blocks: cat(x, y_1, ..., y_L), the transition's input
	Trans     *Conv        // dense blocks: the 1x1 transition to Out channels
	TransNorm *NormLayer
	TransReLU *ReLULayer
}

// DenseUnit is one 3x3 convolution of a dense block with its norm and ReLU, and the
// concatenation it reads (nil for the first unit, which reads the block's input).
type DenseUnit struct {
	Cat  *Concat
	Conv *Conv
	Norm *NormLayer
	ReLU *ReLULayer
}

// newDoubleConv makes the block at path from in to out channels, as cfg says.
func newDoubleConv(cfg Config, path string, in, out int) *DoubleConv {
	if cfg.Block == BlockDense {
		return newDenseBlock(cfg, path, in, out)
	}
	d := &DoubleConv{Path: path, In: in, Out: out,
		Conv1: newConv3(cfg, path+".conv1", in, out), Norm1: newNorm(cfg, path+".norm1", out), ReLU1: &ReLULayer{path + ".relu1"},
		Conv2: newConv3(cfg, path+".conv2", out, out), Norm2: newNorm(cfg, path+".norm2", out), ReLU2: &ReLULayer{path + ".relu2"}}
	if cfg.Residual() {
		d.Sum = &Sum{path + ".sum"}
		if in != out {
			d.Proj = &Conv{Path: path + ".proj", In: in, Out: out, Kernel: 1, Stride: 1, Bias: true}
		}
	}
	return d
}

// newDenseBlock makes the dense block at path from in to out channels. out is the level's
// width Channels(l), so Growth*out/BaseChannels is GrowthAt(l).
func newDenseBlock(cfg Config, path string, in, out int) *DoubleConv {
	d := &DoubleConv{Path: path, In: in, Out: out}
	g, ch := cfg.Growth*out/cfg.BaseChannels, in
	for k := 1; k <= cfg.DenseLayers; k++ {
		u := &DenseUnit{Conv: newConv3(cfg, fmt.Sprintf("%s.conv%d", path, k), ch, g), Norm: newNorm(cfg, fmt.Sprintf("%s.norm%d", path, k), g),
			ReLU: &ReLULayer{fmt.Sprintf("%s.relu%d", path, k)}}
		if k > 1 {
			u.Cat = &Concat{fmt.Sprintf("%s.cat%d", path, k)}
		}
		d.Dense = append(d.Dense, u)
		ch += g
	}
	d.Cat = &Concat{path + ".cat"}
	d.Trans = &Conv{Path: path + ".transition.conv", In: ch, Out: out, Kernel: 1, Stride: 1, Bias: cfg.Norm == NormNone}
	d.TransNorm = newNorm(cfg, path+".transition.norm", out)
	d.TransReLU = &ReLULayer{path + ".transition.relu"}
	return d
}

// newConv3 is a block's 3x3 same convolution, with a bias only when no norm follows.
func newConv3(cfg Config, path string, in, out int) *Conv {
	return &Conv{Path: path, In: in, Out: out, Kernel: 3, Stride: 1, Pad: 1, Bias: cfg.Norm == NormNone}
}

// newNorm is the configured normalisation of ch channels; nil for NormNone.
func newNorm(cfg Config, path string, ch int) *NormLayer {
	switch cfg.Norm {
	case NormNone:
		return nil
	case NormGroup:
		return &NormLayer{Path: path, Kind: NormGroup, Channels: ch, Groups: cfg.NumGroups(), Eps: GroupNormEps}
	}
	return &NormLayer{Path: path, Kind: NormBatch, Channels: ch, Eps: BatchNormEps, Momentum: BatchNormMomentum}
}

// steps lists the block's layers reading tensor in and writing out, at level (a resolution
// of 1/2^level).
func (d *DoubleConv) steps(in, out string, level int) []Step {
	if d.Dense != nil {
		return d.denseSteps(in, out, level)
	}
	var s stepList
	x := s.add(d.Conv1, d.Out, level, in)
	if d.Norm1 != nil {
		x = s.add(d.Norm1, d.Out, level, x)
	}
	x = s.add(d.ReLU1, d.Out, level, x)
	x = s.add(d.Conv2, d.Out, level, x)
	if d.Norm2 != nil {
		x = s.add(d.Norm2, d.Out, level, x)
	}
	if d.Sum != nil {
		short := in
		if d.Proj != nil {
			short = s.add(d.Proj, d.Out, level, in)
		}
		x = s.add(d.Sum, d.Out, level, x, short)
	}
	s.add(d.ReLU2, d.Out, level, x)
	s[len(s)-1].Out = out
	return s
}

// denseSteps lists a dense block's layers: each unit's concatenation, convolution, norm
// and ReLU, then the transition's.
func (d *DoubleConv) denseSteps(in, out string, level int) []Step {
	var s stepList
	read, ch := []string{in}, d.In
	for _, u := range d.Dense {
		x := in
		if u.Cat != nil {
			x = s.add(u.Cat, ch, level, read...)
		}
		x = s.add(u.Conv, u.Conv.Out, level, x)
		if u.Norm != nil {
			x = s.add(u.Norm, u.Conv.Out, level, x)
		}
		read = append(read, s.add(u.ReLU, u.Conv.Out, level, x))
		ch += u.Conv.Out
	}
	x := s.add(d.Cat, ch, level, read...)
	x = s.add(d.Trans, d.Out, level, x)
	if d.TransNorm != nil {
		x = s.add(d.TransNorm, d.Out, level, x)
	}
	s.add(d.TransReLU, d.Out, level, x)
	s[len(s)-1].Out = out
	return s
}

// Down is an encoder level below the first: a 2x2 max pool, then the level's block.
type Down struct {
	Pool *PoolLayer
	Conv *DoubleConv
}

func newDown(cfg Config, l int) *Down {
	p := fmt.Sprintf("encoder.%d", l)
	return &Down{Pool: &PoolLayer{Path: p + ".pool", Kernel: 2}, Conv: newDoubleConv(cfg, p, cfg.Channels(l-1), cfg.Channels(l))}
}

func (d *Down) steps(in, out string, level int) []Step {
	var s stepList
	x := s.add(d.Pool, d.Conv.In, level, in)
	return append(s, d.Conv.steps(x, out, level)...)
}

// Up is a decoder level: the 2x2 stride-2 transposed convolution of the level below,
// joined to the encoder's tensor of the same size by the long skip (Join is nil for
// SkipNone), then the level's block.
type Up struct {
	Up   *UpConv
	Join *Join
	Conv *DoubleConv
}

func newUp(cfg Config, l int) *Up {
	p := fmt.Sprintf("decoder.%d", l)
	ch := cfg.Channels(l)
	u := &Up{Up: &UpConv{Path: p + ".up", In: cfg.Channels(l + 1), Out: ch, Kernel: 2, Stride: 2}}
	in := ch
	if cfg.Skip != SkipNone {
		u.Join = &Join{Path: p + ".join", Kind: cfg.Skip}
		if cfg.Skip == SkipConcat {
			in = 2 * ch
		}
	}
	u.Conv = newDoubleConv(cfg, p, in, ch)
	return u
}

// steps reads in from the level below and skip from the encoder.
func (u *Up) steps(in, skip, out string, level int) []Step {
	var s stepList
	x := s.add(u.Up, u.Up.Out, level, in)
	if u.Join != nil {
		x = s.add(u.Join, u.Conv.In, level, skip, x)
	}
	return append(s, u.Conv.steps(x, out, level)...)
}

// stepList collects steps.
type stepList []Step

// add appends layer l reading in, writing ch channels at level, and gives its output's name.
func (s *stepList) add(l Layer, ch, level int, in ...string) string {
	*s = append(*s, Step{Layer: l, In: in, Out: l.Name(), Channels: ch, Level: level})
	return l.Name()
}
