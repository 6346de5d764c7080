package onnx

import (
	"fmt"

	"google.golang.org/protobuf/proto"
)

// Dim is one dimension of a graph input or output: a fixed size, or (with Param set) a
// symbolic one such as "batch" that the runtime takes from the data.
type Dim struct {
	Size  int64
	Param string
}

// Named is a symbolic dimension.
func Named(param string) Dim { return Dim{Param: param} }

// Fixed is a dimension of a fixed size.
func Fixed(n int) Dim { return Dim{Size: int64(n)} }

// Graph builds one ONNX graph: float32 inputs and outputs, initializers and nodes, each
// value named once. The first mistake (a name used twice, a tensor of the wrong size) sticks
// and is returned by Err, so that building code need not check every call.
type Graph struct {
	proto *GraphProto
	names map[string]bool
	err   error
}

// NewGraph starts an empty graph of the given name.
func NewGraph(name string) *Graph {
	return &Graph{proto: &GraphProto{Name: proto.String(name)}, names: make(map[string]bool)}
}

// Err is the first error of the graph's building, or nil.
func (g *Graph) Err() error { return g.err }

func (g *Graph) failf(format string, args ...any) {
	if g.err == nil {
		g.err = fmt.Errorf(format, args...)
	}
}

// claim records a new value name, refusing one in use: ONNX values are single-assignment.
func (g *Graph) claim(name string) {
	if g.names[name] {
		g.failf("value %q is defined twice", name)
	}
	g.names[name] = true
}

// Has reports whether a value (input, initializer or node output) of that name exists.
func (g *Graph) Has(name string) bool { return g.names[name] }

func floatType(dims []Dim) *TypeProto {
	shape := &TensorShapeProto{}
	for _, d := range dims {
		dim := &TensorShapeProto_Dimension{Value: &TensorShapeProto_Dimension_DimValue{DimValue: d.Size}}
		if d.Param != "" {
			dim.Value = &TensorShapeProto_Dimension_DimParam{DimParam: d.Param}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	elem := int32(TensorProto_FLOAT)
	return &TypeProto{Value: &TypeProto_TensorType{TensorType: &TypeProto_Tensor{ElemType: &elem, Shape: shape}}}
}

// Input declares a float32 graph input and returns its name.
func (g *Graph) Input(name string, dims ...Dim) string {
	g.claim(name)
	g.proto.Input = append(g.proto.Input, &ValueInfoProto{Name: proto.String(name), Type: floatType(dims)})
	return name
}

// Output declares the existing value name a float32 graph output.
func (g *Graph) Output(name, doc string, dims ...Dim) {
	if !g.names[name] {
		g.failf("output %q is not a value of the graph", name)
	}
	g.proto.Output = append(g.proto.Output, &ValueInfoProto{Name: proto.String(name), DocString: proto.String(doc), Type: floatType(dims)})
}

// Float adds a float32 initializer (a constant tensor, such as a weight) and returns its name.
func (g *Graph) Float(name string, shape []int, data []float32) string {
	if n := numel(shape); n != len(data) {
		g.failf("initializer %s: shape %v needs %d values, got %d", name, shape, n, len(data))
	}
	g.claim(name)
	g.proto.Initializer = append(g.proto.Initializer, &TensorProto{
		Name: proto.String(name), Dims: dims64(shape), DataType: proto.Int32(int32(TensorProto_FLOAT)),
		FloatData: append([]float32(nil), data...),
	})
	return name
}

// Int64 adds a one-dimensional int64 initializer (a shape, say) and returns its name.
func (g *Graph) Int64(name string, data ...int64) string {
	g.claim(name)
	g.proto.Initializer = append(g.proto.Initializer, &TensorProto{
		Name: proto.String(name), Dims: []int64{int64(len(data))}, DataType: proto.Int32(int32(TensorProto_INT64)),
		Int64Data: append([]int64(nil), data...),
	})
	return name
}

// Node adds a node of the default (ai.onnx) domain with one output, which is also the node's
// name, and returns that output's name. Every input must already be a value of the graph.
func (g *Graph) Node(op, out string, inputs []string, attrs ...*AttributeProto) string {
	for _, in := range inputs {
		if !g.names[in] {
			g.failf("node %s (%s): input %q is not a value of the graph", out, op, in)
		}
	}
	g.claim(out)
	g.proto.Node = append(g.proto.Node, &NodeProto{
		Name: proto.String(out), OpType: proto.String(op), Input: inputs, Output: []string{out}, Attribute: attrs,
	})
	return out
}

// Ints is an attribute holding a list of integers (kernel_shape, pads, strides...).
func Ints(name string, v ...int64) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_INTS.Enum(), Ints: v}
}

// Int is an attribute holding one integer (axis...).
func Int(name string, v int64) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

// FloatAttr is an attribute holding one float (epsilon...).
func FloatAttr(name string, v float32) *AttributeProto {
	return &AttributeProto{Name: proto.String(name), Type: AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

// Opset is the version of the default (ai.onnx) operator set that models are written at:
// 17, the newest that ONNX 1.12 (whose checker the tests run) knows, and that every
// onnxruntime since 1.13 runs.
const Opset = 17

// irVersion is the IR version that came with Opset (ONNX's docs/Versioning.md), the oldest
// that can carry it, so that older runtimes load the model.
const irVersion = 8

// Model wraps the graph into a model of operator set Opset, with the metadata props in the
// order given. It returns the graph's first building error, if any.
func (g *Graph) Model(producer, version, doc string, props [][2]string) (*ModelProto, error) {
	if g.err != nil {
		return nil, g.err
	}
	m := &ModelProto{
		IrVersion:       proto.Int64(irVersion),
		OpsetImport:     []*OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(Opset)}},
		ProducerName:    proto.String(producer),
		ProducerVersion: proto.String(version),
		DocString:       proto.String(doc),
		Graph:           g.proto,
	}
	for _, p := range props {
		m.MetadataProps = append(m.MetadataProps, &StringStringEntryProto{Key: proto.String(p[0]), Value: proto.String(p[1])})
	}
	return m, nil
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func dims64(shape []int) []int64 {
	d := make([]int64, len(shape))
	for i, s := range shape {
		d[i] = int64(s)
	}
	return d
}
