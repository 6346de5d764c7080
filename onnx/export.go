package onnx

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// Options are the choices of an export that the model file does not make.
type Options struct {
	// InputName names the graph's input; empty means "image". A deployment that already
	// feeds its runtime under another name (onnxruntime benchmarks use "x") sets it.
	InputName string
	// ProducerVersion is the version of the program that exports, for the model's header.
	ProducerVersion string
}

// The names of the exported graph's outputs.
const (
	OutputLogits        = "logits"
	OutputProbabilities = "probabilities"
)

// Export writes the U-Net m as an ONNX model at operator set Opset that computes what
// segment's inference computes: logits [N, classes, H, W] from the input image
// [N, in_channels, H, W] (float32, scaled as meta.Preprocess says), and their probabilities
// (a sigmoid for one class, a softmax over the classes on axis 1 otherwise). N, H and W are
// symbolic; H and W must be multiples of 2^depth, which the model's doc string says.
//
// The model's tensors become initializers under their PyTorch names. Batch norm stays a
// BatchNormalization node with the running statistics rather than being folded into the
// convolution: the file then holds the model's own numbers, and runtimes fold it themselves
// (onnxruntime does at its basic optimisation level). Group norm, which has no operator at
// Opset (GroupNormalization came in 18 and changed in 21), is written as a reshape to
// [N, groups, -1], InstanceNormalization, a reshape back and the per-channel scale and shift.
//
// The metadata props carry what a deployment needs to turn outputs into masks: the format,
// the config JSON, mask values, class names, the ignore value, preprocessing, the training
// summary, and every other key of the model file.
func Export(m *unet.Model, meta weights.Meta, opts Options) (*ModelProto, error) {
	cfg := m.Config
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("onnx: export: %w", err)
	}
	input := opts.InputName
	if input == "" {
		input = "image"
	}
	e := &exporter{g: NewGraph("segment_unet"), m: m}
	x := e.g.Input(input, Named("batch"), Fixed(cfg.InChannels), Named("height"), Named("width"))
	e.forward(x)
	out := []Dim{Named("batch"), Fixed(cfg.Classes), Named("height"), Named("width")}
	e.g.Output(OutputLogits, "class logits", out...)
	e.g.Output(OutputProbabilities, probabilitiesDoc(cfg), out...)
	mp, err := e.g.Model("segment", opts.ProducerVersion, docString(cfg, meta, input), metadataProps(cfg, meta))
	if err != nil {
		return nil, fmt.Errorf("onnx: export: %w", err)
	}
	return mp, nil
}

// exporter emits the nodes of one model into its graph. Its methods each write one kind of
// module (a convolution with its norm, a pooling, an up-convolution, a skip join, a residual
// shortcut, the head); forward alone knows how the U-Net strings them together.
type exporter struct {
	g *Graph
	m *unet.Model
}

// forward is the walk over the model's structure: encoder levels with their poolings, the
// bottleneck, decoder levels from the bottom up with their skip joins, and the head.
func (e *exporter) forward(x string) {
	cfg := e.m.Config
	skips := make([]string, cfg.Depth)
	in := cfg.InChannels
	for l := 0; l <= cfg.Depth; l++ {
		x = e.block(x, fmt.Sprintf("encoder.%d", l), in, cfg.Channels(l))
		in = cfg.Channels(l)
		if l < cfg.Depth {
			skips[l] = x
			x = e.maxPool(x, fmt.Sprintf("encoder.%d.pool", l))
		}
	}
	for l := cfg.Depth - 1; l >= 0; l-- {
		p := fmt.Sprintf("decoder.%d", l)
		x = e.join(skips[l], e.upConv(x, p+".up"), p+".join")
		in := cfg.Channels(l)
		if cfg.Skip == unet.SkipConcat {
			in *= 2
		}
		x = e.block(x, p, in, cfg.Channels(l))
	}
	e.head(x)
}

// param makes the model tensor name an initializer (once) and returns it.
func (e *exporter) param(name string) string {
	if e.g.Has(name) {
		return name
	}
	t, ok := e.m.Tensors[name]
	if !ok {
		e.g.failf("model has no tensor %s", name)
		return name
	}
	return e.g.Float(name, t.Shape(), e.m.Data(name))
}

// block is a level's pair of 3x3 convolutions, plain or residual, from in to out channels;
// see unet's doubleConv for the residual block's form.
func (e *exporter) block(x, prefix string, in, out int) string {
	residual := e.m.Config.Residual()
	y := e.convNorm(x, prefix, 1, true)
	y = e.convNorm(y, prefix, 2, !residual)
	if residual {
		y = e.g.Node("Relu", prefix+".relu2", []string{e.shortcut(y, x, prefix, in, out)})
	}
	return y
}

// convNorm is the i-th 3x3 same convolution of a block, its normalisation and, with relu, a
// ReLU. The convolution has a bias only where no normalisation follows.
func (e *exporter) convNorm(x, prefix string, i int, relu bool) string {
	conv := fmt.Sprintf("%s.conv%d", prefix, i)
	norm := fmt.Sprintf("%s.norm%d", prefix, i)
	inputs := []string{x, e.param(conv + ".weight")}
	if e.m.Config.Norm == unet.NormNone {
		inputs = append(inputs, e.param(conv+".bias"))
	}
	y := e.g.Node("Conv", conv, inputs, Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Ints("strides", 1, 1))
	switch e.m.Config.Norm {
	case unet.NormBatch:
		y = e.batchNorm(y, norm)
	case unet.NormGroup:
		y = e.groupNorm(y, norm)
	}
	if relu {
		y = e.g.Node("Relu", fmt.Sprintf("%s.relu%d", prefix, i), []string{y})
	}
	return y
}

// batchNorm is batch norm at inference: the running statistics, PyTorch's epsilon.
func (e *exporter) batchNorm(x, norm string) string {
	return e.g.Node("BatchNormalization", norm, []string{x, e.param(norm + ".weight"), e.param(norm + ".bias"),
		e.param(norm + ".running_mean"), e.param(norm + ".running_var")}, FloatAttr("epsilon", unet.BatchNormEps))
}

// groupNorm is group norm decomposed into operators of Opset: x [N, C, H, W] reshaped to
// [N, groups, C/groups*H*W], normalised by InstanceNormalization (mean and biased variance
// over the last axis, as group norm takes them), reshaped back, then scaled and shifted per
// channel. The scale and shift are stored as [C, 1, 1] so that they broadcast over H and W.
func (e *exporter) groupNorm(x, norm string) string {
	groups := e.m.Config.NumGroups()
	if !e.g.Has("group_norm.shape") {
		ones, zeros := make([]float32, groups), make([]float32, groups)
		for i := range ones {
			ones[i] = 1
		}
		e.g.Int64("group_norm.shape", 0, int64(groups), -1)
		e.g.Float("group_norm.ones", []int{groups}, ones)
		e.g.Float("group_norm.zeros", []int{groups}, zeros)
	}
	r := e.g.Node("Reshape", norm+".grouped", []string{x, "group_norm.shape"})
	r = e.g.Node("InstanceNormalization", norm+".normalised", []string{r, "group_norm.ones", "group_norm.zeros"},
		FloatAttr("epsilon", unet.GroupNormEps))
	r = e.g.Node("Reshape", norm+".ungrouped", []string{r, e.g.Node("Shape", norm+".shape", []string{x})})
	r = e.g.Node("Mul", norm+".scaled", []string{r, e.channelParam(norm + ".weight")})
	return e.g.Node("Add", norm, []string{r, e.channelParam(norm + ".bias")})
}

// channelParam is the [C] model tensor name as a [C, 1, 1] initializer of the same name.
func (e *exporter) channelParam(name string) string {
	if e.g.Has(name) {
		return name
	}
	data := e.m.Data(name)
	if data == nil {
		e.g.failf("model has no tensor %s", name)
		return name
	}
	return e.g.Float(name, []int{len(data), 1, 1}, data)
}

// maxPool is the encoder's 2x2 stride-2 max pooling.
func (e *exporter) maxPool(x, name string) string {
	return e.g.Node("MaxPool", name, []string{x}, Ints("kernel_shape", 2, 2), Ints("strides", 2, 2))
}

// upConv is the decoder's 2x2 stride-2 transposed convolution with its bias; the weight is
// [in, out, 2, 2] in both PyTorch and ONNX.
func (e *exporter) upConv(x, prefix string) string {
	return e.g.Node("ConvTranspose", prefix, []string{x, e.param(prefix + ".weight"), e.param(prefix + ".bias")},
		Ints("kernel_shape", 2, 2), Ints("strides", 2, 2))
}

// join is the long skip: the encoder's tensor first, then the upsampled one, on the channel
// axis (torch.cat([skip, up], 1)); their sum; or the upsampled tensor alone.
func (e *exporter) join(skip, up, name string) string {
	switch e.m.Config.Skip {
	case unet.SkipConcat:
		return e.g.Node("Concat", name, []string{skip, up}, Int("axis", 1))
	case unet.SkipAdd:
		return e.g.Node("Add", name, []string{skip, up})
	}
	return up
}

// shortcut adds the residual block's input x in to its branch's output y, through the 1x1
// projection with bias where the block changes the channel count from in to out.
func (e *exporter) shortcut(y, x, prefix string, in, out int) string {
	if in != out {
		x = e.g.Node("Conv", prefix+".proj", []string{x, e.param(prefix + ".proj.weight"), e.param(prefix + ".proj.bias")},
			Ints("kernel_shape", 1, 1))
	}
	return e.g.Node("Add", prefix+".add", []string{y, x})
}

// head is the 1x1 convolution to the logits, and the probabilities from them.
func (e *exporter) head(x string) {
	logits := e.g.Node("Conv", OutputLogits, []string{x, e.param("head.weight"), e.param("head.bias")}, Ints("kernel_shape", 1, 1))
	if e.m.Config.Classes == 1 {
		e.g.Node("Sigmoid", OutputProbabilities, []string{logits})
	} else {
		e.g.Node("Softmax", OutputProbabilities, []string{logits}, Int("axis", 1))
	}
}

func probabilitiesDoc(cfg unet.Config) string {
	if cfg.Classes == 1 {
		return "sigmoid of the logits: the probability of the foreground class"
	}
	return "softmax of the logits over the classes (axis 1)"
}

// docString tells a user of the model what to feed it and what comes out.
func docString(cfg unet.Config, meta weights.Meta, input string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "U-Net exported by segment (config %s).\n", cfg)
	fmt.Fprintf(&b, "Input %q: float32 [batch, %d, height, width], the image scaled as metadata \"preprocess\" says", input, cfg.InChannels)
	if len(meta.Preprocess) > 0 {
		fmt.Fprintf(&b, " (%s)", meta.Preprocess)
	}
	fmt.Fprintf(&b, ". Height and width must be multiples of 2^depth = %d: pad other sizes (segment reflect-pads and crops the output back).\n", cfg.Multiple())
	fmt.Fprintf(&b, "Outputs %q and %q: float32 [batch, %d, height, width]. ", OutputLogits, OutputProbabilities, cfg.Classes)
	values := meta.ClassesFor(cfg).Values
	if cfg.Classes == 1 {
		fmt.Fprintf(&b, "One class: a pixel is foreground (mask value %d) where the probability (the sigmoid of the logit) is above 0.5, else background (mask value %d).", values[1], values[0])
	} else {
		fmt.Fprintf(&b, "%d classes: a pixel's class is the argmax over axis 1; class k has mask value mask_values[k] = %v.", cfg.Classes, values)
	}
	return b.String()
}

// metadataProps are the model file's metadata, for deployment: mask values and class names
// in class order, the ignore value, preprocessing, the config and the training summary.
func metadataProps(cfg unet.Config, meta weights.Meta) [][2]string {
	jsonOf := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	classes := meta.ClassesFor(cfg)
	props := [][2]string{
		{"format", weights.FormatName},
		{"format_version", weights.FormatVersion},
		{"config", cfg.String()},
		{"mask_values", jsonOf(classes.Values)},
	}
	if _, ok := meta.Extra["class_names"]; !ok {
		names := make([]string, len(classes.Values))
		for i := range names {
			names[i] = classes.Name(i)
		}
		props = append(props, [2]string{"class_names", jsonOf(names)})
	}
	if classes.Ignore != nil {
		props = append(props, [2]string{"ignore_value", fmt.Sprint(*classes.Ignore)})
	}
	props = append(props, [2]string{"mask_colour", fmt.Sprint(classes.Colour)})
	if len(meta.Preprocess) > 0 {
		props = append(props, [2]string{"preprocess", string(meta.Preprocess)})
	}
	if len(meta.Train) > 0 {
		props = append(props, [2]string{"train", string(meta.Train)})
	}
	for _, k := range slices.Sorted(maps.Keys(meta.Extra)) {
		props = append(props, [2]string{k, meta.Extra[k]})
	}
	return props
}
