package onnx

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/sharedtest"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
	"google.golang.org/protobuf/proto"
)

// A testModel is one model of the export matrix.
type testModel struct {
	name string
	m    *unet.Model
	meta weights.Meta
}

// exportMatrix is every model the export tests run: the PyTorch fixtures and the trained ISBI
// model where ../shared has them, and a variant made by unet.New of each block, norm and skip.
func exportMatrix(t *testing.T) []testModel {
	t.Helper()
	var ms []testModel
	if sharedtest.Root() == "" {
		t.Log("../shared is missing: only the variants made here are exported")
	} else {
		for _, name := range []string{"binary-concat", "rgb-4class-concat", "binary-add", "binary-none"} {
			dir := sharedtest.Path(t, filepath.Join("fixtures/torch-reference", name))
			m, meta, err := weights.Load(filepath.Join(dir, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, testModel{"torch-" + name, m, meta})
		}
		isbi, _ := filepath.Glob(filepath.Join(sharedtest.Path(t, "models"), "isbi*.safetensors"))
		if len(isbi) == 0 {
			t.Fatal("no ISBI model in ../shared/models")
		}
		for _, path := range isbi {
			m, meta, err := weights.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, testModel{strings.TrimSuffix(filepath.Base(path), ".safetensors"), m, meta})
		}
	}
	base := unet.Config{InChannels: 2, Classes: 3, Depth: 2, BaseChannels: 4, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose}
	variant := func(name string, change func(*unet.Config)) {
		cfg := base
		change(&cfg)
		m, err := unet.New(cfg, int64(len(ms)+1))
		if err != nil {
			t.Fatal(err)
		}
		randomiseNorms(m, int64(len(ms)+100))
		ms = append(ms, testModel{name, m, weights.Meta{Preprocess: json.RawMessage(`{"scale":"1/255"}`)}})
	}
	variant("residual", func(c *unet.Config) { c.Block = unet.BlockResidual })
	variant("residual-group", func(c *unet.Config) { c.Block, c.Norm = unet.BlockResidual, unet.NormGroup })
	variant("residual-nonorm-binary", func(c *unet.Config) { c.Block, c.Norm, c.Classes = unet.BlockResidual, unet.NormNone, 1 })
	variant("dense", func(c *unet.Config) { c.Block, c.Growth, c.DenseLayers = unet.BlockDense, 2, 3 })
	variant("dense-nonorm-add", func(c *unet.Config) {
		c.Block, c.Growth, c.DenseLayers, c.Norm, c.Skip = unet.BlockDense, 3, 2, unet.NormNone, unet.SkipAdd
	})
	variant("group", func(c *unet.Config) { c.Norm, c.Depth, c.BaseChannels = unet.NormGroup, 3, 8 })
	variant("add", func(c *unet.Config) { c.Skip = unet.SkipAdd })
	variant("noskip", func(c *unet.Config) { c.Skip = unet.SkipNone })
	variant("nonorm", func(c *unet.Config) { c.Norm = unet.NormNone })
	return ms
}

// randomiseNorms gives every one-dimensional tensor (norm scales and shifts, running
// statistics, biases) values away from New's 1s and 0s, so that a norm exported wrongly (a
// lost epsilon, mean and variance swapped, the shift forgotten) changes the numbers.
func randomiseNorms(m *unet.Model, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	for name, t := range m.Tensors {
		if t.Dims() != 1 {
			continue
		}
		d := m.Data(name)
		for i := range d {
			switch {
			case strings.HasSuffix(name, ".running_var"):
				d[i] = float32(0.05 + rng.Float64())
			case strings.HasSuffix(name, "norm1.weight"), strings.HasSuffix(name, "norm2.weight"):
				d[i] = float32(0.5 + rng.Float64())
			default:
				d[i] = float32(0.2 * rng.NormFloat64())
			}
		}
	}
}

// testSizes are two input sizes of the model, multiples of 2^depth of different aspect.
func testSizes(cfg unet.Config) [][2]int {
	k := cfg.Multiple()
	return [][2]int{{2 * k, 3 * k}, {4 * k, k}}
}

// relErr is ||a - b|| / ||b||.
func relErr(a, b []float32) float64 {
	var d, n float64
	for i := range b {
		e := float64(a[i]) - float64(b[i])
		d += e * e
		n += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(d) / math.Max(math.Sqrt(n), 1e-30)
}

// ortNode finds node and the onnxruntime-node package, skipping the test where either is
// missing. SEGMENT_ORT_DIR names the folder where npm installed the package.
func ortNode(t *testing.T) (node, modules string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("skipped: node is not installed, so onnxruntime cannot run the exported models")
	}
	dir := os.Getenv("SEGMENT_ORT_DIR")
	if dir == "" {
		t.Skip("skipped: SEGMENT_ORT_DIR is not set; set it to a folder where `npm install --ignore-scripts onnxruntime-node@1.30.0` ran")
	}
	modules = filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "onnxruntime-node", "package.json")); err != nil {
		t.Skipf("skipped: no onnxruntime-node in %s (run `npm install --ignore-scripts onnxruntime-node@1.30.0` there)", dir)
	}
	return node, modules
}

// ortJob is one run of testdata/run.js.
type ortJob struct {
	Model string `json:"model"`
	Input string `json:"input"`
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	Out   string `json:"out"`
}

// runORT runs the jobs in onnxruntime-node and returns each job's outputs by name.
func runORT(t *testing.T, jobs []ortJob) []map[string][]float32 {
	t.Helper()
	node, modules := ortNode(t)
	dir := t.TempDir()
	spec, _ := json.Marshal(jobs)
	jobsPath := filepath.Join(dir, "jobs.json")
	if err := os.WriteFile(jobsPath, spec, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join("testdata", "run.js"), jobsPath)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	stdout, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("onnxruntime: %v\n%s", err, stderr)
	}
	var res struct {
		Version string
		Results []map[string][]int
	}
	if err := json.Unmarshal(stdout, &res); err != nil {
		t.Fatalf("run.js printed %q: %v", stdout, err)
	}
	t.Logf("onnxruntime-node %s", res.Version)
	outs := make([]map[string][]float32, len(jobs))
	for i, job := range jobs {
		outs[i] = make(map[string][]float32)
		for name, dims := range res.Results[i] {
			data := readFloats(t, job.Out+"."+name)
			if len(data) != numel(dims) {
				t.Fatalf("%s: output %s has %d values for dims %v", job.Model, name, len(data), dims)
			}
			outs[i][name] = data
		}
	}
	return outs
}

func writeFloats(t *testing.T, path string, data []float32) {
	t.Helper()
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFloats(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := make([]float32, len(b)/4)
	for i := range d {
		d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return d
}

// probabilities is what the exported model's second output must be: the sigmoid of one
// logit per pixel, or the softmax over the classes.
func probabilities(logits []float32, n, classes, hw int) []float32 {
	p := make([]float32, len(logits))
	for b := 0; b < n; b++ {
		for i := 0; i < hw; i++ {
			at := func(c int) int { return (b*classes+c)*hw + i }
			if classes == 1 {
				p[at(0)] = float32(1 / (1 + math.Exp(-float64(logits[at(0)]))))
				continue
			}
			mx := math.Inf(-1)
			for c := 0; c < classes; c++ {
				mx = math.Max(mx, float64(logits[at(c)]))
			}
			var sum float64
			for c := 0; c < classes; c++ {
				sum += math.Exp(float64(logits[at(c)]) - mx)
			}
			for c := 0; c < classes; c++ {
				p[at(c)] = float32(math.Exp(float64(logits[at(c)])-mx) / sum)
			}
		}
	}
	return p
}

// TestExportRunsInOnnxruntime exports every model of the matrix, runs it in onnxruntime on
// two input sizes at batch 1 and 3, and checks logits and probabilities against segment's own
// inference to 1e-4 relative.
func TestExportRunsInOnnxruntime(t *testing.T) {
	ortNode(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(1))
	type want struct {
		model         string
		logits, probs []float32
	}
	var jobs []ortJob
	var wants []want
	for _, tm := range exportMatrix(t) {
		mp, err := Export(tm.m, tm.meta, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tm.name, err)
		}
		path := filepath.Join(dir, tm.name+".onnx")
		if err := WriteFile(path, mp); err != nil {
			t.Fatal(err)
		}
		cfg := tm.m.Config
		for _, size := range testSizes(cfg) {
			for _, n := range []int{1, 3} {
				shape := []int{n, cfg.InChannels, size[0], size[1]}
				x := make([]float32, numel(shape))
				for i := range x {
					x[i] = rng.Float32()
				}
				logits := inferLogits(t, tm.m, x, n, size[0], size[1])
				run := fmt.Sprintf("%s-%dx%dx%d", tm.name, n, size[0], size[1])
				writeFloats(t, filepath.Join(dir, run+".in"), x)
				jobs = append(jobs, ortJob{Model: path, Input: filepath.Join(dir, run+".in"), Name: "image", Shape: shape, Out: filepath.Join(dir, run)})
				wants = append(wants, want{run, logits, probabilities(logits, n, cfg.Classes, size[0]*size[1])})
			}
		}
	}
	outs := runORT(t, jobs)
	worst := 0.0
	for i, w := range wants {
		for name, ref := range map[string][]float32{OutputLogits: w.logits, OutputProbabilities: w.probs} {
			got := outs[i][name]
			if len(got) != len(ref) {
				t.Errorf("%s: onnxruntime gave %d %s, segment %d", w.model, len(got), name, len(ref))
				continue
			}
			e := relErr(got, ref)
			worst = math.Max(worst, e)
			t.Logf("%s %s: relative error %.3g", w.model, name, e)
			if !(e <= 1e-4) {
				t.Errorf("%s %s: onnxruntime and segment differ by %.3g relative, more than 1e-4", w.model, name, e)
			}
		}
	}
	t.Logf("largest relative error %.3g over %d runs", worst, len(wants))
}

// TestExportPassesChecker runs ONNX's own checker, with full checking, on every model of the
// matrix. It needs a python3 with the onnx module (Debian: python3-onnx); SEGMENT_PYTHON
// names the interpreter, else /usr/bin/python3 is preferred, where Debian's module lives.
func TestExportPassesChecker(t *testing.T) {
	python := os.Getenv("SEGMENT_PYTHON")
	if python == "" {
		python = "/usr/bin/python3"
		if _, err := os.Stat(python); err != nil {
			python = "python3"
		}
	}
	if err := exec.Command(python, "-c", "import onnx").Run(); err != nil {
		t.Skipf("skipped: %s cannot import onnx (Debian: apt-get install python3-onnx; or set SEGMENT_PYTHON)", python)
	}
	dir := t.TempDir()
	args := []string{filepath.Join("testdata", "check.py")}
	for _, tm := range exportMatrix(t) {
		mp, err := Export(tm.m, tm.meta, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tm.name, err)
		}
		path := filepath.Join(dir, tm.name+".onnx")
		if err := WriteFile(path, mp); err != nil {
			t.Fatal(err)
		}
		args = append(args, path)
	}
	if out, err := exec.Command(python, args...).CombinedOutput(); err != nil {
		t.Fatalf("onnx.checker.check_model: %v\n%s", err, out)
	}
}

// TestExportMetadata checks the header of an exported model: opset, symbolic dims, the
// metadata a deployment reads, and that the file reads back as written.
func TestExportMetadata(t *testing.T) {
	cfg := unet.Config{InChannels: 3, Classes: 1, Depth: 3, BaseChannels: 4, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose}
	m, err := unet.New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	ignore := 7
	meta := weights.Meta{Preprocess: json.RawMessage(`{"scale":"1/255"}`), Train: json.RawMessage(`{"epochs":3}`),
		Classes: dataset.Classes{Values: []int{0, 200}, Ignore: &ignore}, Extra: map[string]string{"note": "hello"}}
	mp, err := Export(m, meta, Options{ProducerVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.onnx")
	if err := WriteFile(path, mp); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(back, mp) {
		t.Error("the model read back differs from the one written")
	}
	if o := back.GetOpsetImport(); len(o) != 1 || o[0].GetDomain() != "" || o[0].GetVersion() != Opset {
		t.Errorf("opset imports %v, want ai.onnx %d alone", o, Opset)
	}
	props := make(map[string]string)
	for _, p := range back.GetMetadataProps() {
		props[p.GetKey()] = p.GetValue()
	}
	wantProps := map[string]string{
		"format": "segment-unet", "format_version": "1", "config": cfg.String(),
		"mask_values": "[0,200]", "class_names": `["background","foreground"]`, "ignore_value": "7",
		"mask_colour": "false", "preprocess": `{"scale":"1/255"}`, "train": `{"epochs":3}`, "note": "hello",
	}
	for k, v := range wantProps {
		if props[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, props[k], v)
		}
	}
	if len(props) != len(wantProps) {
		t.Errorf("metadata %v, want exactly the keys of %v", props, wantProps)
	}
	if doc := back.GetDocString(); !strings.Contains(doc, "multiples of 2^depth = 8") {
		t.Errorf("doc string does not say the size rule: %q", doc)
	}
	var sb strings.Builder
	Describe(&sb, back)
	for _, want := range []string{"opset ai.onnx 17", "input image: float32 [batch, 3, height, width]",
		"output logits: float32 [batch, 1, height, width]", "output probabilities: float32 [batch, 1, height, width]", "mask_values: [0,200]"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("Describe lacks %q:\n%s", want, sb.String())
		}
	}
}

// TestReadFileTruncated cuts an exported model at several places: each cut gives an error
// naming the file, never a panic.
func TestReadFileTruncated(t *testing.T) {
	m, err := unet.New(unet.DefaultConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := Export(m, weights.Meta{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, cut := range []int{0, 1, 10, len(data) / 2, len(data) - 1} {
		path := filepath.Join(dir, fmt.Sprintf("cut%d.onnx", cut))
		if err := os.WriteFile(path, data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadFile(path)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("ReadFile of the first %d of %d bytes: error %v, want one naming %s", cut, len(data), err, path)
		}
	}
}

// TestGraphRefusesMistakes checks the builder's sticky errors: a value defined twice, a node
// reading a value that does not exist, an initializer whose data does not fit its shape.
func TestGraphRefusesMistakes(t *testing.T) {
	for name, build := range map[string]func(g *Graph){
		"twice":   func(g *Graph) { g.Node("Relu", "x", []string{"x"}) },
		"missing": func(g *Graph) { g.Node("Relu", "y", []string{"nope"}) },
		"shape":   func(g *Graph) { g.Float("w", []int{2, 2}, []float32{1, 2, 3}) },
	} {
		g := NewGraph("g")
		g.Input("x", Named("n"))
		build(g)
		if _, err := g.Model("test", "", "", nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// inferLogits runs our inference graph on x [n, C, h, w], whose sides are multiples of
// 2^depth, so that no padding stands between it and what the exported model sees.
func inferLogits(t *testing.T, m *unet.Model, x []float32, n, h, w int) []float32 {
	t.Helper()
	net, err := unet.NewInferNet(m, n, h, w)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	if err := net.Forward(x); err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), net.Logits()...)
}

// TestExportAttributes checks the attributes that fix each node's output size, against the
// U-Net's geometry rather than the exporter's code, so that a wrong one fails here even
// where onnxruntime is not installed: every Conv keeps the image size (stride 1, pads of
// (k-1)/2 on all four sides: 1 for the 3x3 convolutions, 0 for the 1x1 head), every
// MaxPool halves it (kernel 2, stride 2), every ConvTranspose doubles it (kernel 2,
// stride 2, no pads).
func TestExportAttributes(t *testing.T) {
	for _, cfg := range []unet.Config{
		{InChannels: 1, Classes: 2, Depth: 2, BaseChannels: 4, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose},
		{InChannels: 3, Classes: 1, Depth: 3, BaseChannels: 4, Skip: unet.SkipAdd, Norm: unet.NormGroup, Up: unet.UpTranspose, Block: unet.BlockResidual},
	} {
		m, err := unet.New(cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		mp, err := Export(m, weights.Meta{}, Options{ProducerVersion: "test"})
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		for _, n := range mp.GetGraph().GetNode() {
			attr := map[string][]int64{}
			for _, a := range n.GetAttribute() {
				attr[a.GetName()] = a.GetInts()
			}
			k := attr["kernel_shape"]
			want := map[string][]int64{}
			switch op := n.GetOpType(); op {
			case "Conv":
				if len(k) != 2 || k[0] != k[1] || k[0]%2 != 1 {
					t.Errorf("%v: Conv %s has kernel %v, want an odd square", cfg, n.GetName(), k)
					continue
				}
				p := (k[0] - 1) / 2
				want["pads"], want["strides"] = []int64{p, p, p, p}, []int64{1, 1}
			case "MaxPool", "ConvTranspose":
				want["kernel_shape"], want["strides"] = []int64{2, 2}, []int64{2, 2}
			default:
				continue
			}
			counts[n.GetOpType()]++
			for name, w := range want {
				got := attr[name]
				if name == "pads" && got == nil {
					got = []int64{0, 0, 0, 0} // ONNX's default
				}
				if !slices.Equal(got, w) {
					t.Errorf("%v: %s %s has %s %v, want %v", cfg, n.GetOpType(), n.GetName(), name, got, w)
				}
			}
			if p := attr["pads"]; n.GetOpType() == "ConvTranspose" && p != nil && slices.ContainsFunc(p, func(v int64) bool { return v != 0 }) {
				t.Errorf("%v: ConvTranspose %s has pads %v", cfg, n.GetName(), p)
			}
		}
		if counts["MaxPool"] != cfg.Depth || counts["ConvTranspose"] != cfg.Depth || counts["Conv"] < 4*cfg.Depth+3 {
			t.Errorf("%v: %v nodes, want %d MaxPool, %d ConvTranspose and at least %d Conv", cfg, counts, cfg.Depth, cfg.Depth, 4*cfg.Depth+3)
		}
	}
}
