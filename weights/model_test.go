package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/sharedtest"
	"github.com/segment-dev/segment/unet"
	"gorgonia.org/tensor"
)

// TestLoadReference loads the PyTorch reference fixtures and the trained ISBI model and checks
// their configurations, some shapes, some values (read independently from the files with
// Python's struct module) and the parameter count.
func TestLoadReference(t *testing.T) {
	type value struct {
		name string
		i    int
		bits uint32
	}
	tests := []struct {
		rel        string
		cfg        unet.Config
		shapes     map[string][]int
		values     []value
		numWeights int
		masks      []int
		preprocess string
	}{
		{
			rel: "fixtures/torch-reference/binary-concat/model.safetensors",
			cfg: unet.Config{InChannels: 1, Classes: 1, Depth: 3, BaseChannels: 8, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose},
			shapes: map[string][]int{
				"encoder.0.conv1.weight": {8, 1, 3, 3}, "encoder.3.conv2.weight": {64, 64, 3, 3},
				"decoder.2.up.weight": {64, 32, 2, 2}, "decoder.0.conv1.weight": {8, 16, 3, 3}, "head.weight": {1, 8, 1, 1},
			},
			values: []value{{"head.bias", 0, 0x3eb4d705}, {"encoder.0.norm1.running_var", 0, 0x3f3c1c26}, {"encoder.0.norm1.running_var", 1, 0x3f3ae52a}},
			masks:  []int{0, 255}, preprocess: `{"scale": "1/255"}`,
		},
		{
			rel: "fixtures/torch-reference/rgb-4class-concat/model.safetensors",
			cfg: unet.Config{InChannels: 3, Classes: 4, Depth: 2, BaseChannels: 4, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose},
			shapes: map[string][]int{
				"encoder.0.conv1.weight": {4, 3, 3, 3}, "decoder.0.conv1.weight": {4, 8, 3, 3}, "head.weight": {4, 4, 1, 1}, "head.bias": {4},
			},
			values: []value{{"head.bias", 0, 0x3e96d3c4}, {"head.bias", 1, 0x3dad1750}, {"encoder.0.norm1.running_var", 1, 0x3f3c549a}},
			masks:  []int{0, 1, 2, 3}, preprocess: `{"scale": "1/255"}`,
		},
		{
			rel: "fixtures/torch-reference/binary-add/model.safetensors",
			cfg: unet.Config{InChannels: 1, Classes: 1, Depth: 2, BaseChannels: 4, Skip: unet.SkipAdd, Norm: unet.NormBatch, Up: unet.UpTranspose},
			shapes: map[string][]int{
				"decoder.0.conv1.weight": {4, 4, 3, 3}, "decoder.1.up.weight": {16, 8, 2, 2}, "encoder.2.conv1.weight": {16, 8, 3, 3},
			},
			values: []value{{"head.bias", 0, 0xbeb31cce}, {"encoder.0.norm1.running_var", 0, 0x3f3de59b}, {"encoder.0.norm1.running_var", 1, 0x3f3cf685}},
			masks:  []int{0, 255}, preprocess: `{"scale": "1/255"}`,
		},
		{
			rel: "fixtures/torch-reference/binary-none/model.safetensors",
			cfg: unet.Config{InChannels: 1, Classes: 1, Depth: 2, BaseChannels: 4, Skip: unet.SkipNone, Norm: unet.NormBatch, Up: unet.UpTranspose},
			shapes: map[string][]int{
				"decoder.0.conv1.weight": {4, 4, 3, 3}, "decoder.1.conv2.weight": {8, 8, 3, 3},
			},
			values: []value{{"head.bias", 0, 0x3ed20d2e}, {"encoder.0.norm1.running_var", 0, 0x3f3e2f9a}, {"encoder.0.norm1.running_var", 1, 0x3f3cd20a}},
			masks:  []int{0, 255}, preprocess: `{"scale": "1/255"}`,
		},
		{
			rel: "models/isbi-unet-b32-torch.safetensors",
			cfg: unet.Config{InChannels: 1, Classes: 1, Depth: 4, BaseChannels: 32, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose},
			shapes: map[string][]int{
				"encoder.0.conv1.weight": {32, 1, 3, 3}, "encoder.4.conv2.weight": {512, 512, 3, 3}, "decoder.3.up.weight": {512, 256, 2, 2},
				"decoder.0.conv1.weight": {32, 64, 3, 3}, "head.weight": {1, 32, 1, 1}, "encoder.4.norm2.running_mean": {512},
			},
			values:     []value{{"head.bias", 0, 0x3e9fc801}, {"encoder.0.norm1.running_var", 0, 0x3abd7111}, {"encoder.0.norm1.running_var", 1, 0x3b4f323d}},
			numWeights: 7762465, // per ../shared/models/README.md
			masks:      []int{0, 255},
		},
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			p := sharedtest.Path(t, tt.rel)
			m, meta, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			if m.Config != tt.cfg {
				t.Errorf("config = %s, want %s", m.Config, tt.cfg)
			}
			if got, want := len(m.Tensors), len(tt.cfg.Params()); got != want {
				t.Errorf("%d tensors, the config names %d", got, want)
			}
			for name, shape := range tt.shapes {
				tn, ok := m.Tensors[name]
				if !ok {
					t.Errorf("no tensor %s", name)
					continue
				}
				if !slices.Equal([]int(tn.Shape()), shape) || tn.Dtype() != tensor.Float32 {
					t.Errorf("tensor %s: %v %v, want float32 %v", name, tn.Dtype(), tn.Shape(), shape)
				}
			}
			for _, v := range tt.values {
				if got := math.Float32bits(m.Data(v.name)[v.i]); got != v.bits {
					t.Errorf("%s[%d] = %#08x (%g), want %#08x (%g)", v.name, v.i, got, m.Data(v.name)[v.i], v.bits, math.Float32frombits(v.bits))
				}
			}
			if tt.numWeights != 0 && m.NumWeights() != tt.numWeights {
				t.Errorf("NumWeights() = %d, want %d", m.NumWeights(), tt.numWeights)
			}
			if got := meta.ClassesFor(m.Config).Values; !slices.Equal(got, tt.masks) {
				t.Errorf("mask values %v, want %v", got, tt.masks)
			}
			if meta.Classes.Values != nil || meta.Classes.Ignore != nil || meta.Classes.Colour || meta.Extra != nil {
				t.Errorf("meta %+v: the reference files have no mask_values, ignore_value or other keys", meta)
			}
			if tt.preprocess != "" && string(meta.Preprocess) != tt.preprocess {
				t.Errorf("preprocess = %s, want %s", meta.Preprocess, tt.preprocess)
			}
			if !json.Valid(meta.Preprocess) || !json.Valid(meta.Train) {
				t.Errorf("preprocess %q or train %q is not JSON", meta.Preprocess, meta.Train)
			}
		})
	}
}

func intPtr(v int) *int { return &v }

// TestSaveLoadRoundTrip saves fresh models of several configurations and loads them back:
// the same configuration, the same tensors bit for bit, the same Meta.
func TestSaveLoadRoundTrip(t *testing.T) {
	cfg := func(in, classes, depth, base int, skip unet.Skip, norm unet.Norm, groups int) unet.Config {
		return unet.Config{InChannels: in, Classes: classes, Depth: depth, BaseChannels: base, Skip: skip, Norm: norm, Up: unet.UpTranspose, Groups: groups}
	}
	full := Meta{
		Preprocess: json.RawMessage(`{"scale": "1/255", "pad": "reflect"}`),
		Train:      json.RawMessage(`{"epochs":3,"dice":0.5,"note":"<&>"}`),
		Classes:    dataset.Classes{Ignore: intPtr(254)},
		Extra:      map[string]string{"author": "test", "notes": "çà ✓", "empty": ""},
	}
	tests := []struct {
		name string
		cfg  unet.Config
		meta Meta
	}{
		{"batch concat", cfg(1, 1, 2, 4, unet.SkipConcat, unet.NormBatch, 0), full},
		{"batch concat, no meta", cfg(1, 1, 2, 4, unet.SkipConcat, unet.NormBatch, 0), Meta{}},
		{"group add", cfg(3, 2, 3, 8, unet.SkipAdd, unet.NormGroup, 0), Meta{Classes: dataset.Classes{Values: []int{0, 255}}}},
		{"group none, 2 groups", cfg(1, 3, 2, 4, unet.SkipNone, unet.NormGroup, 2), Meta{Classes: dataset.Classes{Values: []int{10, 20, 30}, Ignore: intPtr(0)}}},
		{"colour masks", cfg(3, 3, 2, 4, unet.SkipConcat, unet.NormBatch, 0), Meta{Classes: dataset.Classes{Values: []int{0x000000, 0x808000, 0xFFFFFF}, Colour: true}}},
		{"no norm, concat", cfg(3, 4, 1, 2, unet.SkipConcat, unet.NormNone, 0), full},
		{"no norm, add", cfg(1, 1, 3, 2, unet.SkipAdd, unet.NormNone, 0), Meta{Train: json.RawMessage(`null`)}},
		{"fold", cfg(1, 1, 2, 4, unet.SkipConcat, unet.NormBatch, 0), Meta{Fold: &FoldRecord{Fold: dataset.Fold{Index: 2, Count: 5}, Seed: 9, HeldOut: []string{"a", "vol"}}}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newModel(t, tt.cfg, int64(i+1))
			// Values whose bits a careless conversion would lose (NaN and the infinities, which
			// Load refuses, are in TestSaveKeepsBitsLoadRefuses).
			special := []float32{float32(math.Copysign(0, -1)), math.Float32frombits(0x00800000), math.Float32frombits(0x807fffff), math.Float32frombits(1), math.MaxFloat32}
			copy(m.Data("encoder.0.conv1.weight"), special)
			p := filepath.Join(t.TempDir(), "model.safetensors")
			if err := Save(p, m, tt.meta); err != nil {
				t.Fatal(err)
			}
			got, meta, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			if got.Config != m.Config {
				t.Errorf("config %s, want %s", got.Config, m.Config)
			}
			if len(got.Tensors) != len(m.Tensors) {
				t.Errorf("%d tensors, want %d", len(got.Tensors), len(m.Tensors))
			}
			for name := range m.Tensors {
				a, b := m.Data(name), got.Data(name)
				if len(a) != len(b) || !slices.Equal([]int(m.Tensors[name].Shape()), []int(got.Tensors[name].Shape())) {
					t.Fatalf("tensor %s: shape %v, want %v", name, got.Tensors[name].Shape(), m.Tensors[name].Shape())
				}
				for j := range a {
					if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
						t.Fatalf("tensor %s[%d] = %#x, want %#x", name, j, math.Float32bits(b[j]), math.Float32bits(a[j]))
					}
				}
			}
			if !reflect.DeepEqual(meta, tt.meta) {
				t.Errorf("meta = %+v, want %+v", meta, tt.meta)
			}
			// The metadata hold what the format says.
			f, err := ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if f.Metadata["format"] != "segment-unet" || f.Metadata["format_version"] != "1" || f.Metadata["config"] != m.Config.String() {
				t.Errorf("metadata %q", f.Metadata)
			}
			// Saving what was loaded gives the same bytes.
			p2 := filepath.Join(t.TempDir(), "again.safetensors")
			if err := Save(p2, got, meta); err != nil {
				t.Fatal(err)
			}
			b1, _ := os.ReadFile(p)
			b2, _ := os.ReadFile(p2)
			if !bytes.Equal(b1, b2) {
				t.Error("saving a loaded model gives different bytes")
			}
		})
	}
}

// encodeFile decodes a valid file, changes it with edit and encodes it again.
func encodeFile(t *testing.T, base []byte, edit func(f *File)) []byte {
	t.Helper()
	f, err := Decode(bytes.NewReader(base), int64(len(base)), "base")
	if err != nil {
		t.Fatal(err)
	}
	edit(f)
	var buf bytes.Buffer
	if err := Encode(&buf, f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// toDType re-encodes an F32 tensor as F64, F16 (values must be representable) or BF16 (truncating).
func toDType(t *testing.T, tn Tensor, d DType) Tensor {
	vs, err := tn.Float32()
	if err != nil {
		t.Fatal(err)
	}
	out := Tensor{DType: d, Shape: tn.Shape}
	switch d {
	case F64:
		f64 := make([]float64, len(vs))
		for i, v := range vs {
			f64[i] = float64(v)
		}
		out.Data = le64f(f64...)
	case BF16:
		hs := make([]uint16, len(vs))
		for i, v := range vs {
			hs[i] = uint16(math.Float32bits(v) >> 16)
		}
		out.Data = le16(hs...)
	case I64:
		out.Data = make([]byte, 8*len(vs))
	default:
		t.Fatalf("toDType %s", d)
	}
	return out
}

// TestSaveKeepsBitsLoadRefuses saves a model holding an infinity and a NaN with a payload:
// the file keeps their bits exactly, and Load refuses it as damaged, naming the tensor.
func TestSaveKeepsBitsLoadRefuses(t *testing.T) {
	m := newModel(t, tinyConfig(), 1)
	special := []float32{float32(math.Inf(1)), math.Float32frombits(0x7fc0beef), float32(math.Inf(-1))}
	copy(m.Data("encoder.0.conv1.weight"), special)
	p := filepath.Join(t.TempDir(), "model.safetensors")
	if err := Save(p, m, Meta{}); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Tensors["encoder.0.conv1.weight"].Float32()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range special {
		if math.Float32bits(got[i]) != math.Float32bits(v) {
			t.Errorf("element %d = %#x in the file, want %#x", i, math.Float32bits(got[i]), math.Float32bits(v))
		}
	}
	_, _, err = Load(p)
	var ve *unet.ValueError
	if !errors.As(err, &ve) || ve.Tensor != "encoder.0.conv1.weight" || ve.Index != 0 || !strings.Contains(err.Error(), p+": damaged: ") {
		t.Errorf("Load: %v, want the file damaged at encoder.0.conv1.weight element 0", err)
	}
}

func TestLoadAccepts(t *testing.T) {
	m := newModel(t, tinyConfig(), 3)
	base := savedBytes(t, m, Meta{})
	tests := []struct {
		name  string
		file  []byte
		check func(t *testing.T, got *unet.Model)
	}{
		{"num_batches_tracked (I64) ignored", encodeFile(t, base, func(f *File) {
			for _, p := range tinyConfig().Params() {
				if prefix, ok := strings.CutSuffix(p.Name, ".running_mean"); ok {
					f.Tensors[prefix+".num_batches_tracked"] = Tensor{I64, nil, []byte{7, 0, 0, 0, 0, 0, 0, 0}}
				}
			}
		}), func(t *testing.T, got *unet.Model) {
			for name := range got.Tensors {
				if strings.HasSuffix(name, "num_batches_tracked") {
					t.Errorf("loaded model holds %s", name)
				}
			}
		}},
		{"F64 weights", encodeFile(t, base, func(f *File) {
			for name, tn := range f.Tensors {
				f.Tensors[name] = toDType(t, tn, F64)
			}
		}), func(t *testing.T, got *unet.Model) {
			for name := range m.Tensors {
				if !slices.Equal(got.Data(name), m.Data(name)) {
					t.Errorf("tensor %s differs after F64", name)
				}
			}
		}},
		{"BF16 weights", encodeFile(t, base, func(f *File) {
			f.Tensors["head.weight"] = toDType(t, f.Tensors["head.weight"], BF16)
		}), func(t *testing.T, got *unet.Model) {
			for i, v := range m.Data("head.weight") {
				want := math.Float32frombits(math.Float32bits(v) &^ 0xffff)
				if got.Data("head.weight")[i] != want {
					t.Errorf("head.weight[%d] = %g, want %g", i, got.Data("head.weight")[i], want)
				}
			}
		}},
		{"PyTorch-style config JSON", encodeFile(t, base, func(f *File) {
			f.Metadata["config"] = ` { "up" : "transpose", "norm": "batch", "skip": "concat",
				"base_channels": 4, "depth": 2, "classes": 1, "in_channels": 1 } `
		}), func(t *testing.T, got *unet.Model) {
			if got.Config != tinyConfig() {
				t.Errorf("config %s", got.Config)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := Load(writeTemp(t, "ok.safetensors", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}

func TestLoadRejects(t *testing.T) {
	base := savedBytes(t, newModel(t, tinyConfig(), 2), Meta{Classes: dataset.Classes{Values: []int{0, 1}}})
	md := func(key, value string) []byte {
		return encodeFile(t, base, func(f *File) {
			if value == "<delete>" {
				delete(f.Metadata, key)
			} else {
				f.Metadata[key] = value
			}
		})
	}
	other := tinyConfig()
	other.BaseChannels = 8
	tests := []brokenCase{
		{"no format", md("format", "<delete>"), `not a segment model: no "format"`},
		{"other format", md("format", "pytorch"), `not a segment model: format is "pytorch"`},
		{"no format_version", md("format_version", "<delete>"), `no "format_version"`},
		{"unknown format_version", md("format_version", "2"), `unknown format_version "2"`},
		{"no config", md("config", "<delete>"), `no "config"`},
		{"config not JSON", md("config", `{"in_channels": 1,`), "config is not valid JSON"},
		{"config with an unknown field", md("config", `{"in_channels":1,"classes":1,"depth":2,"base_channels":4,"skip":"concat","norm":"batch","up":"transpose","attention":true}`), `unknown field "attention"`},
		{"config with trailing data", md("config", tinyConfig().String()+" {}"), "data after the JSON value"},
		{"config fails Validate", md("config", `{"in_channels":1,"classes":1,"depth":0,"base_channels":4,"skip":"concat","norm":"batch","up":"transpose"}`), "invalid config: depth must be between 1 and 8"},
		{"config of another model", md("config", other.String()), "encoder.0.conv1.weight has shape [4 1 3 3], the config needs [8 1 3 3]"},
		{"tensor missing", encodeFile(t, base, func(f *File) { delete(f.Tensors, "head.bias") }), "tensor head.bias is missing"},
		{"tensor mis-shaped", encodeFile(t, base, func(f *File) {
			tn := f.Tensors["head.weight"]
			tn.Shape = []int{4, 1, 1, 1}
			f.Tensors["head.weight"] = tn
		}), "tensor head.weight has shape [4 1 1 1], the config needs [1 4 1 1]"},
		{"extra tensor", encodeFile(t, base, func(f *File) { f.Tensors["encoder.9.conv1.weight"] = NewFloat32([]int{1}, []float32{1}) }), "tensor encoder.9.conv1.weight is not part of"},
		{"integer weights", encodeFile(t, base, func(f *File) { f.Tensors["head.bias"] = toDType(t, f.Tensors["head.bias"], I64) }), "tensor head.bias: dtype I64 does not convert to float32"},
		{"preprocess not JSON", md("preprocess", "scale 1/255"), "preprocess is not valid JSON"},
		{"downsample 0", md("preprocess", `{"downsample": 0}`), "preprocess downsample 0 is not a factor from 1 to 8"},
		{"downsample 9", md("preprocess", `{"downsample": 9}`), "preprocess downsample 9 is not a factor"},
		{"downsample 1.5", md("preprocess", `{"downsample": 1.5}`), "preprocess downsample 1.5 is not a factor"},
		{"train not JSON", md("train", "{"), "train is not valid JSON"},
		{"mask_values not JSON", md("mask_values", "[0,"), "mask_values"},
		{"mask_values empty", md("mask_values", "[]"), "non-empty JSON list of integers"},
		{"mask_values with null", md("mask_values", "[0,null]"), "non-empty JSON list of integers"},
		{"mask_values wrong length", md("mask_values", "[0,1,2]"), "has 3 values, a model of 1 classes needs 2"},
		{"mask_values repeated", md("mask_values", "[5,5]"), "5 appears twice"},
		{"mask_values out of range", md("mask_values", "[0,70000]"), "out of 0..65535"},
		{"ignore_value not an integer", md("ignore_value", "1.5"), "ignore_value"},
		{"ignore_value null", md("ignore_value", "null"), "ignore_value"},
		{"ignore_value a class value", md("ignore_value", "1"), "ignore_value 1 is also the mask value of a class"},
		{"class_names not JSON", md("class_names", `["a",`), "class_names"},
		{"class_names not strings", md("class_names", `[1,2]`), "non-empty JSON list of strings"},
		{"class_names with null", md("class_names", `["a",null]`), "non-empty JSON list of strings"},
		{"class_names too few", md("class_names", `["membrane"]`), "1 class names for 2 classes"},
		{"class_names twice", md("class_names", `["Cell","cell"]`), `class names "Cell" and "cell" are the same name`},
		// Values no model holds (issue 18, finding 8): the file is damaged, and the message
		// names the tensor and the element.
		{"NaN weight", setValue(t, base, "encoder.1.conv2.weight", 7, float32(math.NaN())), "damaged: tensor encoder.1.conv2.weight holds NaN at element 7"},
		{"infinite bias", setValue(t, base, "head.bias", 0, float32(math.Inf(1))), "damaged: tensor head.bias holds +Inf at element 0"},
		{"minus infinity in a running mean", setValue(t, base, "encoder.0.norm1.running_mean", 3, float32(math.Inf(-1))), "damaged: tensor encoder.0.norm1.running_mean holds -Inf at element 3"},
		{"negative running variance", setValue(t, base, "encoder.0.norm1.running_var", 2, -0.25), "damaged: tensor encoder.0.norm1.running_var holds -0.25 at element 2, and a running variance cannot be negative"},
		{"fold not JSON", md("fold", "2/5"), "fold \"2/5\" is not the JSON of a fold record"},
		{"fold with an unknown field", md("fold", `{"index":0,"count":2,"seed":1,"held_out":[],"k":1}`), "unknown field"},
		{"fold index out of range", md("fold", `{"index":5,"count":5,"seed":1,"held_out":["a"]}`), "fold 5/5: want k/K"},
		{"fold of one", md("fold", `{"index":0,"count":1,"seed":1,"held_out":["a"]}`), "fold 0/1: want k/K"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeTemp(t, "bad.safetensors", tc.file)
			_, _, err := Load(p)
			if err == nil {
				t.Fatal("Load accepted the file")
			}
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Path != p {
				t.Fatalf("error %v (%T) is not a *FormatError for %s", err, err, p)
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name the file or contain %q", err, tc.want)
			}
		})
	}
}

func TestSaveRefuses(t *testing.T) {
	good := func() *unet.Model { return newModel(t, tinyConfig(), 4) }
	tests := []struct {
		name string
		m    *unet.Model
		meta Meta
		want string
	}{
		{"nil model", nil, Meta{}, "nil model"},
		{"invalid config", func() *unet.Model { m := good(); m.Config.Depth = 0; return m }(), Meta{}, "depth must be"},
		{"missing tensor", func() *unet.Model { m := good(); delete(m.Tensors, "head.bias"); return m }(), Meta{}, "tensor head.bias is missing"},
		{"mis-shaped tensor", func() *unet.Model {
			m := good()
			m.Tensors["head.bias"] = tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{1, 2}))
			return m
		}(), Meta{}, "tensor head.bias has shape [2]"},
		{"float64 tensor", func() *unet.Model {
			m := good()
			m.Tensors["head.bias"] = tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{1}))
			return m
		}(), Meta{}, "want float32"},
		{"reserved extra key", good(), Meta{Extra: map[string]string{"format": "x"}}, `extra metadata key "format" is reserved`},
		{"preprocess not JSON", good(), Meta{Preprocess: json.RawMessage("{")}, "preprocess is not valid JSON"},
		{"mask values wrong length", good(), Meta{Classes: dataset.Classes{Values: []int{1}}}, "mask_values [1] has 1 values"},
		{"ignore value in mask values", good(), Meta{Classes: dataset.Classes{Ignore: intPtr(255)}}, "ignore_value 255 is also"},
		{"ignore value out of range", good(), Meta{Classes: dataset.Classes{Ignore: intPtr(-1)}}, "ignore_value -1 is out of"},
		{"colour value without mask_colour", good(), Meta{Classes: dataset.Classes{Values: []int{0, 0xFF0000}}}, "out of 0..65535"},
		{"a class name for each class", good(), Meta{Classes: dataset.Classes{Names: []string{"a", "b", "c"}}}, "3 class names for 2 classes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "m.safetensors")
			err := Save(p, tt.m, tt.meta)
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Save error = %v, want one naming %s and containing %q", err, p, tt.want)
			}
			if names := listDir(t, dir); len(names) != 0 {
				t.Errorf("Save left %q", names)
			}
		})
	}
}

func TestSaveView(t *testing.T) {
	// A tensor that is a view (a slice of a bigger tensor) is saved with its own elements.
	m := newModel(t, tinyConfig(), 5)
	big := tensor.New(tensor.WithShape(2, 4), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6, 7, 8}))
	row, err := big.Slice(tensor.S(1))
	if err != nil {
		t.Fatal(err)
	}
	m.Tensors["encoder.0.norm1.bias"] = row.(*tensor.Dense)
	p := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Save(p, m, Meta{}); err != nil {
		t.Fatal(err)
	}
	got, _, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if d := got.Data("encoder.0.norm1.bias"); !slices.Equal(d, []float32{5, 6, 7, 8}) {
		t.Errorf("saved view = %v, want [5 6 7 8]", d)
	}
}

func TestClassesFor(t *testing.T) {
	c := func(classes int) unet.Config { cfg := tinyConfig(); cfg.Classes = classes; return cfg }
	tests := []struct {
		meta Meta
		cfg  unet.Config
		want []int
	}{
		{Meta{}, c(1), []int{0, 255}},
		{Meta{}, c(2), []int{0, 1}},
		{Meta{}, c(5), []int{0, 1, 2, 3, 4}},
		{Meta{Classes: dataset.Classes{Values: []int{0, 1}}}, c(1), []int{0, 1}},
		{Meta{Classes: dataset.Classes{Values: []int{7, 3, 9}, Ignore: intPtr(4), Colour: true}}, c(3), []int{7, 3, 9}},
		{Meta{Classes: dataset.Classes{Ignore: intPtr(4)}}, c(1), []int{0, 255}},
	}
	for _, tt := range tests {
		c := tt.meta.ClassesFor(tt.cfg)
		got := c.Values
		if !slices.Equal(got, tt.want) || c.Ignore != tt.meta.Classes.Ignore || c.Colour != tt.meta.Classes.Colour {
			t.Errorf("%+v.ClassesFor(classes %d) = %+v, want values %v and the same ignore and colour", tt.meta, tt.cfg.Classes, c, tt.want)
		}
		if len(got) > 0 {
			got[0] = -99 // the result is the caller's own
			if again := tt.meta.ClassesFor(tt.cfg).Values; again[0] == -99 {
				t.Error("ClassesFor gives the Meta's own slice")
			}
		}
	}
}

func TestLoadBytes(t *testing.T) {
	m := newModel(t, tinyConfig(), 3)
	data := savedBytes(t, m, Meta{Classes: dataset.Classes{Values: []int{0, 255}}})
	got, meta, err := LoadBytes(data, "embedded")
	if err != nil {
		t.Fatal(err)
	}
	if got.Config != m.Config || meta.Classes.Values[1] != 255 {
		t.Errorf("LoadBytes gave %v %v", got.Config, meta.Classes)
	}
	if _, _, err := LoadBytes(data[:len(data)-3], "embedded"); err == nil || !strings.Contains(err.Error(), "embedded") {
		t.Errorf("truncated bytes: %v", err)
	}
}

// TestClassesMetadata pins how Meta.Classes is written: the keys mask_values (a JSON list),
// ignore_value and mask_colour of the format, each only when set.
func TestClassesMetadata(t *testing.T) {
	cfg := tinyConfig()
	cfg.Classes = 3
	m := newModel(t, cfg, 1)
	for _, tt := range []struct {
		classes dataset.Classes
		want    map[string]string
	}{
		{dataset.Classes{}, map[string]string{}},
		{dataset.Classes{Values: []int{0, 0x808000, 0xFFFFFF}, Ignore: intPtr(7), Colour: true},
			map[string]string{"mask_values": "[0,8421376,16777215]", "ignore_value": "7", "mask_colour": "true"}},
		{dataset.Classes{Values: []int{10, 20, 30}}, map[string]string{"mask_values": "[10,20,30]"}},
		{dataset.Classes{Values: []int{10, 20, 30}, Names: []string{"sky", "road", "Traffic sign"}},
			map[string]string{"mask_values": "[10,20,30]", "class_names": `["sky","road","Traffic sign"]`}},
	} {
		b := savedBytes(t, m, Meta{Classes: tt.classes})
		f, err := Decode(bytes.NewReader(b), int64(len(b)), "m")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, k := range []string{"mask_values", "ignore_value", "mask_colour", "class_names"} {
			if v, ok := f.Metadata[k]; ok {
				got[k] = v
			}
		}
		if !maps.Equal(got, tt.want) {
			t.Errorf("%+v written as %v, want %v", tt.classes, got, tt.want)
		}
		_, meta, err := LoadBytes(b, "m")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(meta.Classes.Names, tt.classes.Names) {
			t.Errorf("class names %q read back as %q", tt.classes.Names, meta.Classes.Names)
		}
	}
}

// setValue gives the model file base with element i of the F32 tensor name set to v.
func setValue(t *testing.T, base []byte, name string, i int, v float32) []byte {
	t.Helper()
	return encodeFile(t, base, func(f *File) {
		tn, ok := f.Tensors[name]
		if !ok || tn.DType != F32 || 4*i+4 > len(tn.Data) {
			t.Fatalf("no F32 tensor %s with an element %d", name, i)
		}
		tn.Data = slices.Clone(tn.Data)
		binary.LittleEndian.PutUint32(tn.Data[4*i:], math.Float32bits(v))
		f.Tensors[name] = tn
	})
}

// TestMetaDownsample checks the factor read from preprocess: 1 without one, the factor
// written by training after a save and load, and an error for a string.
func TestMetaDownsample(t *testing.T) {
	for _, c := range []struct {
		pre  string
		want int
		err  bool
	}{{"", 1, false}, {`{"scale":"1/255"}`, 1, false}, {`[1,2]`, 1, false}, {`{"downsample":2}`, 2, false}, {`{"downsample":8}`, 8, false}, {`{"downsample":"2"}`, 0, true}} {
		got, err := Meta{Preprocess: json.RawMessage(c.pre)}.Downsample()
		if got != c.want || (err != nil) != c.err {
			t.Errorf("preprocess %s: %d, %v; want %d, error %v", c.pre, got, err, c.want, c.err)
		}
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Save(path, newModel(t, tinyConfig(), 2), Meta{Preprocess: json.RawMessage(`{"downsample":3}`)}); err != nil {
		t.Fatal(err)
	}
	_, meta, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := meta.Downsample(); f != 3 || err != nil {
		t.Fatalf("after a round trip: %d, %v; want 3", f, err)
	}
}

// TestMetaAugment checks the preset read from the train record: its name, or "" where the
// record has none, is not an object or is absent.
func TestMetaAugment(t *testing.T) {
	for train, want := range map[string]string{`{"augment":"light","lr":0.003}`: "light", `{"epochs":3}`: "", `[1]`: "", ``: "", `{"augment":3}`: ""} {
		if got := (Meta{Train: json.RawMessage(train)}).Augment(); got != want {
			t.Errorf("train %s: %q, want %q", train, got, want)
		}
	}
}
