package onnx

import (
	"fmt"
	"io"
	"strings"

	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/internal/regular"
	"google.golang.org/protobuf/proto"
)

// WriteFile writes m to path, atomically: on any error no file is left at path, and a file
// that was there stays as it was.
func WriteFile(path string, m *ModelProto) error {
	data, err := proto.Marshal(m)
	if err != nil {
		return fmt.Errorf("onnx: write %s: %w", path, err)
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	return nil
}

// ReadFile reads the ONNX model at path. It refuses, with an error naming the file, one
// that does not decode as a ModelProto (a truncated file, as a rule) or that lacks what
// every model has: an IR version, an operator set, a graph with inputs and outputs.
func ReadFile(path string) (*ModelProto, error) {
	data, err := regular.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	bad := func(problem string) (*ModelProto, error) {
		return nil, fmt.Errorf("onnx: %s: not a valid ONNX model: %s", path, problem)
	}
	var m ModelProto
	if err := proto.Unmarshal(data, &m); err != nil {
		return bad(fmt.Sprintf("%v (is the file truncated?)", err))
	}
	switch {
	case m.GetIrVersion() <= 0:
		return bad("no IR version")
	case m.GetGraph() == nil:
		return bad("no graph")
	case len(m.GetOpsetImport()) == 0:
		return bad("no operator set")
	case len(m.GetGraph().GetInput()) == 0 || len(m.GetGraph().GetOutput()) == 0:
		return bad("the graph has no inputs or no outputs")
	}
	return &m, nil
}

// Describe prints what a user of the model needs to call it: the IR version and operator
// sets, the producer, the graph's inputs and outputs with their element types and dims
// (symbolic ones by name), and the metadata props.
func Describe(w io.Writer, m *ModelProto) {
	var opsets []string
	for _, o := range m.GetOpsetImport() {
		d := o.GetDomain()
		if d == "" {
			d = "ai.onnx"
		}
		opsets = append(opsets, fmt.Sprintf("%s %d", d, o.GetVersion()))
	}
	fmt.Fprintf(w, "  ONNX: IR version %d, opset %s\n", m.GetIrVersion(), strings.Join(opsets, ", "))
	if p := m.GetProducerName(); p != "" {
		fmt.Fprintf(w, "  producer: %s %s\n", p, m.GetProducerVersion())
	}
	for _, v := range m.GetGraph().GetInput() {
		fmt.Fprintf(w, "  input %s: %s\n", v.GetName(), valueType(v.GetType()))
	}
	for _, v := range m.GetGraph().GetOutput() {
		fmt.Fprintf(w, "  output %s: %s\n", v.GetName(), valueType(v.GetType()))
	}
	if doc := m.GetDocString(); doc != "" {
		fmt.Fprintf(w, "  doc: %s\n", strings.ReplaceAll(doc, "\n", "\n       "))
	}
	for _, p := range m.GetMetadataProps() {
		fmt.Fprintf(w, "  %s: %s\n", p.GetKey(), p.GetValue())
	}
}

// valueType gives a tensor type as "float32 [batch, 1, height, width]".
func valueType(t *TypeProto) string {
	tt := t.GetTensorType()
	if tt == nil {
		return "not a tensor"
	}
	elem := strings.ToLower(TensorProto_DataType(tt.GetElemType()).String())
	if elem == "float" {
		elem = "float32"
	}
	if tt.GetShape() == nil {
		return elem + " (shape unknown)"
	}
	dims := make([]string, len(tt.GetShape().GetDim()))
	for i, d := range tt.GetShape().GetDim() {
		switch {
		case d.GetDimParam() != "":
			dims[i] = d.GetDimParam()
		case d.GetDimValue() > 0:
			dims[i] = fmt.Sprint(d.GetDimValue())
		default:
			dims[i] = "?"
		}
	}
	return fmt.Sprintf("%s [%s]", elem, strings.Join(dims, ", "))
}
