package weights

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/segment-dev/segment/augment"
	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/unet"
	"gorgonia.org/tensor"
)

// FormatName is the metadata "format" of a segment model file.
const FormatName = "segment-unet"

// FormatVersion is the metadata "format_version" this package reads and writes.
const FormatVersion = "1"

// The metadata keys of a model file.
const (
	keyFormat      = "format"
	keyVersion     = "format_version"
	keyConfig      = "config"
	keyPreprocess  = "preprocess"
	keyTrain       = "train"
	keyMaskValues  = "mask_values"
	keyIgnoreValue = "ignore_value"
	keyMaskColour  = "mask_colour"
	keyClassNames  = "class_names"
	keyFold        = "fold"
)

// reservedKeys are the metadata keys that Save writes itself; Meta.Extra may not use them.
var reservedKeys = []string{keyFormat, keyVersion, keyConfig, keyPreprocess, keyTrain, keyMaskValues, keyIgnoreValue, keyMaskColour, keyClassNames, keyFold}

// MaxMaskValue is the largest mask pixel value a Meta may name: a 16-bit gray level, or with
// Classes.Colour an RGB colour 0xRRGGBB.
const MaxMaskValue = 0xFFFFFF

// maxGrayValue is the largest value of a gray mask (16 bits).
const maxGrayValue = 65535

// Meta is what a model file's metadata holds beside the format and the configuration.
type Meta struct {
	// Preprocess (key "preprocess") is JSON saying how pixels become the input tensor, for
	// example {"scale":"1/255"}, and how sizes not divisible by 2^depth are handled.
	Preprocess json.RawMessage
	// Train (key "train") is JSON recording what training produced the model.
	Train json.RawMessage
	// Classes is how the model's classes are stored in mask images. Values (key
	// "mask_values", a JSON list) gives the mask pixel value of each class in class order:
	// background then foreground when the config's Classes is 1, one per class otherwise;
	// empty means the default (see ClassesFor). Ignore (key "ignore_value"), if not nil, is a
	// mask pixel value that belongs to no class: such pixels are left out of losses and
	// scores. Colour (key "mask_colour", "true" when set) says the masks are RGB images and
	// the values colours 0xRRGGBB, so that predictions are written back in colour. Names
	// (key "class_names", a JSON list of strings) names the classes in class order, when
	// training was given names.
	Classes dataset.Classes
	// Fold (key "fold", JSON) is the cross-validation fold the model was trained on, nil
	// for a model trained without one.
	Fold *FoldRecord
	// Extra holds every other metadata key, kept unchanged from Load to Save.
	Extra map[string]string
}

// FoldRecord is what a model file records of the fold it was trained on: which fold of how
// many, the seed of the split, and the names of the held-out samples (sorted), so that the
// models of a cross-validation can be checked to have held out a partition of the data.
type FoldRecord struct {
	dataset.Fold
	Seed    uint64   `json:"seed"`
	HeldOut []string `json:"held_out"`
}

// ClassesFor gives the classes of a model of configuration cfg: m.Classes, with the mask
// values [0, 255] for a binary model (Classes 1) and 0..Classes-1 otherwise when the file
// names none.
func (m Meta) ClassesFor(cfg unet.Config) dataset.Classes {
	c := m.Classes
	if len(c.Values) > 0 {
		c.Values = slices.Clone(c.Values)
		return c
	}
	if cfg.Classes == 1 {
		c.Values = []int{0, 255}
		return c
	}
	c.Values = make([]int, max(cfg.Classes, 0))
	for i := range c.Values {
		c.Values[i] = i
	}
	return c
}

// maxValue is the largest mask value of gray masks, or of colour masks (Classes.Colour).
func (m Meta) maxValue() int {
	if m.Classes.Colour {
		return MaxMaskValue
	}
	return maxGrayValue
}

// Downsample gives the factor the model's images are shrunk by before the network sees
// them (preprocess's "downsample", written by training with --downsample; see
// augment.Shrink): 1 when Preprocess has none. A factor that is not a whole number from 1
// to augment.MaxShrink is an error, since predicting at the wrong resolution would give
// wrong masks without a word.
func (m Meta) Downsample() (int, error) {
	if len(m.Preprocess) == 0 {
		return 1, nil
	}
	var p struct {
		Downsample json.RawMessage `json:"downsample"`
	}
	if err := json.Unmarshal(m.Preprocess, &p); err != nil || p.Downsample == nil {
		return 1, nil // not an object, or no factor: Validate's JSON check says the rest
	}
	f, err := strconv.Atoi(string(p.Downsample)) // a JSON integer, not a string or a fraction
	if err != nil || f < 1 || f > augment.MaxShrink {
		return 0, fmt.Errorf("preprocess downsample %s is not a factor from 1 to %d", p.Downsample, augment.MaxShrink)
	}
	return f, nil
}

// Augment is the name of the augmentation preset the model was trained with (the train
// record's "augment", see augment.Preset), or "" where the file does not say: a model made
// elsewhere, or before the record held it.
func (m Meta) Augment() string {
	var t struct {
		Augment string `json:"augment"`
	}
	if json.Unmarshal(m.Train, &t) != nil {
		return ""
	}
	return t.Augment
}

// Validate reports the first thing that makes m unfit for a model of configuration cfg:
// Preprocess or Train that are not JSON, a preprocess downsample that is not a factor, mask values of the wrong length (2 for a binary
// model, Classes otherwise), out of 0..65535 (0..MaxMaskValue for colour masks) or
// repeated, an ignore value out of range or equal to a class's value, or an Extra key that
// Save writes itself.
func (m Meta) Validate(cfg unet.Config) error {
	if len(m.Preprocess) > 0 && !json.Valid(m.Preprocess) {
		return errors.New("preprocess is not valid JSON")
	}
	if len(m.Train) > 0 && !json.Valid(m.Train) {
		return errors.New("train is not valid JSON")
	}
	if _, err := m.Downsample(); err != nil {
		return err
	}
	mv := m.Classes.Values
	if len(mv) > 0 {
		want := cfg.Classes
		if want == 1 {
			want = 2
		}
		if len(mv) != want {
			return fmt.Errorf("mask_values %v has %d values, a model of %d classes needs %d", mv, len(mv), cfg.Classes, want)
		}
		for i, v := range mv {
			if v < 0 || v > m.maxValue() {
				return fmt.Errorf("mask_values %v: %d is out of 0..%d", mv, v, m.maxValue())
			}
			if slices.Contains(mv[:i], v) {
				return fmt.Errorf("mask_values %v: %d appears twice", mv, v)
			}
		}
	}
	if names := m.Classes.Names; len(names) > 0 {
		if err := dataset.CheckNames(names, len(m.ClassesFor(cfg).Values)); err != nil {
			return fmt.Errorf("class_names: %v", err)
		}
	}
	if m.Classes.Ignore != nil {
		v := *m.Classes.Ignore
		if v < 0 || v > m.maxValue() {
			return fmt.Errorf("ignore_value %d is out of 0..%d", v, m.maxValue())
		}
		if slices.Contains(m.ClassesFor(cfg).Values, v) {
			return fmt.Errorf("ignore_value %d is also the mask value of a class", v)
		}
	}
	if f := m.Fold; f != nil && (f.Count < 2 || f.Index < 0 || f.Index >= f.Count) {
		return fmt.Errorf("fold %v: want k/K with 0 <= k < K and K >= 2", f.Fold)
	}
	for k := range m.Extra {
		if slices.Contains(reservedKeys, k) {
			return fmt.Errorf("extra metadata key %q is reserved", k)
		}
	}
	return nil
}

// Save writes m to path as a segment model file: the format, its version, the configuration
// as JSON, the keys of meta and every tensor that m.Config.Params() names (other entries of
// m.Tensors are not written). The write is atomic, as for WriteFile. Save refuses an invalid
// configuration or meta, and a tensor that is missing, of the wrong shape or not float32.
func Save(path string, m *unet.Model, meta Meta) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("weights: save %s: %s", path, fmt.Sprintf(format, args...))
	}
	if m == nil {
		return fail("nil model")
	}
	if err := m.Config.Validate(); err != nil {
		return fail("config: %v", err)
	}
	if err := meta.Validate(m.Config); err != nil {
		return fail("%v", err)
	}
	cfg, err := json.Marshal(m.Config)
	if err != nil {
		return fail("config: %v", err)
	}
	md := make(map[string]string, len(meta.Extra)+len(reservedKeys))
	for k, v := range meta.Extra {
		md[k] = v
	}
	md[keyFormat] = FormatName
	md[keyVersion] = FormatVersion
	md[keyConfig] = string(cfg)
	if len(meta.Preprocess) > 0 {
		md[keyPreprocess] = string(meta.Preprocess)
	}
	if len(meta.Train) > 0 {
		md[keyTrain] = string(meta.Train)
	}
	if len(meta.Classes.Values) > 0 {
		b, _ := json.Marshal(meta.Classes.Values)
		md[keyMaskValues] = string(b)
	}
	if meta.Classes.Colour {
		md[keyMaskColour] = "true"
	}
	if len(meta.Classes.Names) > 0 {
		b, _ := json.Marshal(meta.Classes.Names)
		md[keyClassNames] = string(b)
	}
	if meta.Classes.Ignore != nil {
		md[keyIgnoreValue] = strconv.Itoa(*meta.Classes.Ignore)
	}
	if meta.Fold != nil {
		b, _ := json.Marshal(meta.Fold)
		md[keyFold] = string(b)
	}
	f := &File{Metadata: md, Tensors: make(map[string]Tensor)}
	for _, p := range m.Config.Params() {
		t, ok := m.Tensors[p.Name]
		if !ok || t == nil {
			return fail("tensor %s is missing", p.Name)
		}
		if !slices.Equal([]int(t.Shape()), p.Shape) {
			return fail("tensor %s has shape %v, the config needs %v", p.Name, []int(t.Shape()), p.Shape)
		}
		if t.IsMaterializable() {
			t = t.Materialize().(*tensor.Dense)
		}
		data, ok := t.Data().([]float32)
		if !ok {
			return fail("tensor %s is %v, want float32", p.Name, t.Dtype())
		}
		if len(data) != p.Size() {
			return fail("tensor %s holds %d values, its shape %v needs %d", p.Name, len(data), p.Shape, p.Size())
		}
		f.Tensors[p.Name] = NewFloat32(p.Shape, data)
	}
	return WriteFile(path, f)
}

// Load reads the segment model file at path: its configuration, its tensors (as float32)
// and its Meta. It refuses, with a *FormatError naming the file and the problem, a file that
// is not valid safetensors, that is not a segment model (no or another "format"), whose
// format_version it does not know, whose configuration is not JSON or not valid, whose meta
// keys are malformed, or whose tensors are missing, extra, of the wrong shape or of a dtype
// that does not convert to float32; and, as damaged, one holding a value no model can hold
// (NaN, an infinity, a negative running variance: see unet.ValueError). PyTorch's num_batches_tracked counters are ignored.
func Load(path string) (*unet.Model, Meta, error) {
	f, err := ReadFile(path)
	if err != nil {
		return nil, Meta{}, err
	}
	return fromFile(f, path)
}

// LoadBytes reads a segment model file held in memory (an embedded model, say); name stands
// for the file in errors.
func LoadBytes(data []byte, name string) (*unet.Model, Meta, error) {
	f, err := Decode(bytes.NewReader(data), int64(len(data)), name)
	if err != nil {
		return nil, Meta{}, err
	}
	return fromFile(f, name)
}

// fromFile makes a model and its Meta from a decoded file; path names it in errors.
func fromFile(f *File, path string) (*unet.Model, Meta, error) {
	bad := func(err error, format string, args ...any) (*unet.Model, Meta, error) {
		return nil, Meta{}, &FormatError{Path: path, Msg: fmt.Sprintf(format, args...), Err: err}
	}
	md := f.Metadata
	format, ok := md[keyFormat]
	if !ok {
		return bad(nil, "not a segment model: no %q in the metadata", keyFormat)
	}
	if format != FormatName {
		return bad(nil, "not a segment model: format is %q, want %q", format, FormatName)
	}
	version, ok := md[keyVersion]
	if !ok {
		return bad(nil, "no %q in the metadata", keyVersion)
	}
	if version != FormatVersion {
		return bad(nil, "unknown format_version %q (this program reads %q)", version, FormatVersion)
	}
	cfgJSON, ok := md[keyConfig]
	if !ok {
		return bad(nil, "no %q in the metadata", keyConfig)
	}
	var cfg unet.Config
	if err := strictUnmarshal(cfgJSON, &cfg); err != nil {
		return bad(err, "config is not valid JSON for a U-Net configuration")
	}
	if err := cfg.Validate(); err != nil {
		return bad(err, "invalid config")
	}
	meta, err := parseMeta(md)
	if err != nil {
		return bad(err, "bad metadata")
	}
	if err := meta.Validate(cfg); err != nil {
		return bad(err, "bad metadata")
	}
	ts := make(map[string]*tensor.Dense, len(f.Tensors))
	for _, name := range f.Names() {
		if strings.HasSuffix(name, ".num_batches_tracked") {
			continue // PyTorch's batch counters, often I64: no use at inference or for training here
		}
		t := f.Tensors[name]
		data, err := t.Float32()
		if err != nil {
			return bad(err, "tensor %s", name)
		}
		ts[name] = tensor.New(tensor.WithShape(t.Shape...), tensor.WithBacking(data))
	}
	m, err := unet.FromTensors(cfg, ts)
	var ve *unet.ValueError
	if errors.As(err, &ve) {
		return bad(err, "damaged")
	}
	if err != nil {
		return bad(err, "tensors do not fit the config %s", cfg)
	}
	return m, meta, nil
}

// strictUnmarshal decodes one JSON value into v, refusing unknown fields and trailing data.
func strictUnmarshal(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// jsonList reads s as a non-empty JSON list of T, refusing null elements (which would read
// as T's zero value) and anything after the list.
func jsonList[T any](s string) ([]T, error) {
	var ps []*T
	if err := strictUnmarshal(s, &ps); err != nil {
		return nil, err
	}
	if len(ps) == 0 || slices.Contains(ps, nil) {
		return nil, errors.New("an empty list, or a null in it")
	}
	out := make([]T, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out, nil
}

// parseMeta reads a Meta out of a model file's metadata.
func parseMeta(md map[string]string) (Meta, error) {
	var (
		m   Meta
		err error
	)
	for k, v := range md {
		switch k {
		case keyFormat, keyVersion, keyConfig:
		case keyPreprocess:
			if !json.Valid([]byte(v)) {
				return Meta{}, errors.New("preprocess is not valid JSON")
			}
			m.Preprocess = json.RawMessage(v)
		case keyTrain:
			if !json.Valid([]byte(v)) {
				return Meta{}, errors.New("train is not valid JSON")
			}
			m.Train = json.RawMessage(v)
		case keyMaskValues:
			if m.Classes.Values, err = jsonList[int](v); err != nil {
				return Meta{}, fmt.Errorf("mask_values %q is not a non-empty JSON list of integers", v)
			}
		case keyClassNames:
			if m.Classes.Names, err = jsonList[string](v); err != nil {
				return Meta{}, fmt.Errorf("class_names %q is not a non-empty JSON list of strings", v)
			}
		case keyMaskColour:
			if v != "true" && v != "false" {
				return Meta{}, fmt.Errorf("mask_colour %q is not true or false", v)
			}
			m.Classes.Colour = v == "true"
		case keyIgnoreValue:
			var iv *int
			if err := strictUnmarshal(v, &iv); err != nil || iv == nil {
				return Meta{}, fmt.Errorf("ignore_value %q is not an integer", v)
			}
			m.Classes.Ignore = iv
		case keyFold:
			var f FoldRecord
			if err := strictUnmarshal(v, &f); err != nil {
				return Meta{}, fmt.Errorf("fold %q is not the JSON of a fold record: %v", v, err)
			}
			m.Fold = &f
		default:
			if m.Extra == nil {
				m.Extra = make(map[string]string)
			}
			m.Extra[k] = v
		}
	}
	return m, nil
}
