package unet

import (
	"fmt"
	"math"
	"math/rand"
	"strings"

	"gorgonia.org/tensor"
)

// Model is a U-Net's configuration and its tensors: the learned weights and the batch-norm
// running statistics. Graphs built from a Model (for training or inference) share these
// tensors, so an optimiser step on one graph is seen by every other.
type Model struct {
	Config Config
	// Tensors holds every tensor of Config.Params() by name, float32, in PyTorch's layouts.
	Tensors map[string]*tensor.Dense
}

// New makes a model with freshly initialised weights: every tensor is filled by the rule
// its layer names in Params (He-normal convolutions, zero biases and shifts, unit norm
// scales, PyTorch's initial running statistics), drawing from one generator seeded by seed
// in the order of Params.
func New(cfg Config, seed int64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newModel(cfg, cfg.Params(), seed)
}

// newModel makes the tensors ps of a model of cfg by their rules.
func newModel(cfg Config, ps []ParamSpec, seed int64) (*Model, error) {
	rng := rand.New(rand.NewSource(seed))
	m := &Model{Config: cfg, Tensors: make(map[string]*tensor.Dense)}
	for _, p := range ps {
		data := make([]float32, p.Size())
		switch p.Init {
		case InitZero:
		case InitOne:
			for i := range data {
				data[i] = 1
			}
		case InitHe:
			if p.FanIn < 1 {
				return nil, fmt.Errorf("tensor %s: He initialisation with fan-in %d", p.Name, p.FanIn)
			}
			std := math.Sqrt(2 / float64(p.FanIn))
			for i := range data {
				data[i] = float32(rng.NormFloat64() * std)
			}
		default:
			return nil, fmt.Errorf("tensor %s: its layer names no initialisation rule", p.Name)
		}
		m.Tensors[p.Name] = tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(data))
	}
	return m, nil
}

// A ValueError is a tensor value no model can hold: NaN or an infinity anywhere, or a
// negative running variance (batch norm divides by its square root). Such a file is damaged:
// a model loaded from it predicts nonsense (all background, as a rule) without a word.
type ValueError struct {
	Tensor string
	Index  int     // the element, in the tensor's row-major order
	Value  float32 // what it holds
}

// Error says which tensor and element, and why the value is refused.
func (e *ValueError) Error() string {
	why := ""
	if !math.IsNaN(float64(e.Value)) && !math.IsInf(float64(e.Value), 0) {
		why = ", and a running variance cannot be negative"
	}
	return fmt.Sprintf("tensor %s holds %v at element %d%s", e.Tensor, e.Value, e.Index, why)
}

// checkValues refuses, as a *ValueError, the first NaN or infinity of the tensor name, and the
// first negative value of a batch norm's running variance, in one pass over data.
func checkValues(name string, data []float32) error {
	variance := strings.HasSuffix(name, ".running_var") // the name layers.go gives it
	for i, v := range data {
		// v-v is 0 for every finite v and NaN for NaN and both infinities: one test for
		// three cases in the loop that every load runs over every weight.
		if v-v != 0 || (variance && v < 0) {
			return &ValueError{Tensor: name, Index: i, Value: v}
		}
	}
	return nil
}

// FromTensors makes a model of the given configuration from named float32 tensors, checking
// that every tensor the configuration needs is there with its exact shape, and holds only
// values a model can hold (see ValueError). Extra tensors
// are refused too, since they mean the file was made for another configuration; only
// PyTorch's num_batches_tracked counters are allowed and dropped.
func FromTensors(cfg Config, ts map[string]*tensor.Dense) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, Tensors: make(map[string]*tensor.Dense)}
	for _, p := range cfg.Params() {
		t, ok := ts[p.Name]
		if !ok {
			return nil, fmt.Errorf("tensor %s is missing", p.Name)
		}
		if !shapeEq(t.Shape(), p.Shape) {
			return nil, fmt.Errorf("tensor %s has shape %v, the config needs %v", p.Name, []int(t.Shape()), p.Shape)
		}
		if t.Dtype() != tensor.Float32 {
			return nil, fmt.Errorf("tensor %s is %v, want float32", p.Name, t.Dtype())
		}
		if err := checkValues(p.Name, t.Data().([]float32)); err != nil {
			return nil, err
		}
		m.Tensors[p.Name] = t
	}
	for name := range ts {
		if _, ok := m.Tensors[name]; !ok && !strings.HasSuffix(name, ".num_batches_tracked") {
			return nil, fmt.Errorf("tensor %s is not part of a %s model", name, cfg)
		}
	}
	return m, nil
}

// Data gives the float32 elements of the named tensor, or nil if the model has none of that name.
func (m *Model) Data(name string) []float32 {
	t, ok := m.Tensors[name]
	if !ok {
		return nil
	}
	return t.Data().([]float32)
}

// Clone makes a deep copy, so that training one copy leaves the other unchanged.
func (m *Model) Clone() *Model {
	c := &Model{Config: m.Config, Tensors: make(map[string]*tensor.Dense, len(m.Tensors))}
	for k, t := range m.Tensors {
		c.Tensors[k] = t.Clone().(*tensor.Dense)
	}
	return c
}

// NumWeights counts the learned parameters (not the running statistics).
func (m *Model) NumWeights() int {
	n := 0
	for _, p := range m.Config.Params() {
		if p.Kind == Weight {
			n += p.Size()
		}
	}
	return n
}

func shapeEq(a tensor.Shape, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
