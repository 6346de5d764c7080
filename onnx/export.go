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

// exporter emits the nodes of one model into its graph: one or a few ONNX nodes for each
// layer of the model's module tree (unet.Arch), in the tree's forward order.
type exporter struct {
	g *Graph
	m *unet.Model
}

// forward walks the model's layers in forward order (unet.Arch.Steps), each read from the
// tensors the walk names and written under its output's name: the input is x, the skips
// x1..x{depth+1}, the head's output OutputLogits. The probabilities follow the head.
func (e *exporter) forward(x string) {
	names := map[string]string{unet.InputName: x}
	for _, s := range e.m.Config.Arch().Steps() {
		in := make([]string, len(s.In))
		for i, n := range s.In {
			in[i] = names[n]
		}
		names[s.Out] = e.layer(s.Layer, in, s.Out)
	}
	logits := names[unet.OutputName]
	if e.m.Config.Classes == 1 {
		e.g.Node("Sigmoid", OutputProbabilities, []string{logits})
	} else {
		e.g.Node("Softmax", OutputProbabilities, []string{logits}, Int("axis", 1))
	}
}

// layer writes the nodes of one layer reading in, its output called out.
func (e *exporter) layer(l unet.Layer, in []string, out string) string {
	switch l := l.(type) {
	case *unet.Conv:
		k, p, st := int64(l.Kernel), int64(l.Pad), int64(l.Stride)
		inputs := []string{in[0], e.param(l.Path + ".weight")}
		if l.Bias {
			inputs = append(inputs, e.param(l.Path+".bias"))
		}
		return e.g.Node("Conv", out, inputs, Ints("kernel_shape", k, k), Ints("pads", p, p, p, p), Ints("strides", st, st))
	case *unet.NormLayer:
		if l.Kind == unet.NormGroup {
			return e.groupNorm(in[0], l, out)
		}
		return e.batchNorm(in[0], l, out)
	case *unet.ReLULayer:
		return e.g.Node("Relu", out, in)
	case *unet.PoolLayer:
		k := int64(l.Kernel)
		return e.g.Node("MaxPool", out, in, Ints("kernel_shape", k, k), Ints("strides", k, k))
	case *unet.UpConv:
		k, st := int64(l.Kernel), int64(l.Stride)
		return e.g.Node("ConvTranspose", out, []string{in[0], e.param(l.Path + ".weight"), e.param(l.Path + ".bias")},
			Ints("kernel_shape", k, k), Ints("strides", st, st))
	case *unet.Join:
		if l.Kind == unet.SkipConcat {
			return e.g.Node("Concat", out, in, Int("axis", 1))
		}
		return e.g.Node("Add", out, in)
	case *unet.Sum:
		return e.g.Node("Add", out, in)
	case *unet.Concat:
		return e.g.Node("Concat", out, in, Int("axis", 1))
	}
	e.g.failf("layer %s: no ONNX form for %T", l.Name(), l)
	return out
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

// batchNorm is batch norm at inference: the running statistics, PyTorch's epsilon.
func (e *exporter) batchNorm(x string, l *unet.NormLayer, out string) string {
	return e.g.Node("BatchNormalization", out, []string{x, e.param(l.Path + ".weight"), e.param(l.Path + ".bias"),
		e.param(l.Path + ".running_mean"), e.param(l.Path + ".running_var")}, FloatAttr("epsilon", float32(l.Eps)))
}

// groupNorm is group norm decomposed into operators of Opset: x [N, C, H, W] reshaped to
// [N, groups, C/groups*H*W], normalised by InstanceNormalization (mean and biased variance
// over the last axis, as group norm takes them), reshaped back, then scaled and shifted per
// channel. The scale and shift are stored as [C, 1, 1] so that they broadcast over H and W.
func (e *exporter) groupNorm(x string, l *unet.NormLayer, out string) string {
	groups := l.Groups
	if !e.g.Has("group_norm.shape") {
		ones, zeros := make([]float32, groups), make([]float32, groups)
		for i := range ones {
			ones[i] = 1
		}
		e.g.Int64("group_norm.shape", 0, int64(groups), -1)
		e.g.Float("group_norm.ones", []int{groups}, ones)
		e.g.Float("group_norm.zeros", []int{groups}, zeros)
	}
	r := e.g.Node("Reshape", out+".grouped", []string{x, "group_norm.shape"})
	r = e.g.Node("InstanceNormalization", out+".normalised", []string{r, "group_norm.ones", "group_norm.zeros"},
		FloatAttr("epsilon", float32(l.Eps)))
	r = e.g.Node("Reshape", out+".ungrouped", []string{r, e.g.Node("Shape", out+".shape", []string{x})})
	r = e.g.Node("Mul", out+".scaled", []string{r, e.channelParam(l.Path + ".weight")})
	return e.g.Node("Add", out, []string{r, e.channelParam(l.Path + ".bias")})
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
	names := make([]string, len(classes.Values))
	for i := range names {
		names[i] = classes.Name(i)
	}
	props = append(props, [2]string{"class_names", jsonOf(names)})
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
