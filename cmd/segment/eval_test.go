package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/segment-dev/segment/internal/sharedtest"
)

// evalJSON is the part of eval.json the tests read.
type evalJSON struct {
	Images      int    `json:"images"`
	EmptyPolicy string `json:"empty_policy"`
	Pred, GT    string
	Failed      int `json:"failed"`
	Classes     []struct {
		Value int    `json:"value"`
		Name  string `json:"name"`
		Dice  struct {
			Mean     *float64 `json:"mean"`
			Std      *float64 `json:"std"`
			Dataset  *float64 `json:"dataset"`
			N        int      `json:"n"`
			Excluded int      `json:"excluded"`
		} `json:"dice"`
		IoU struct {
			Mean *float64 `json:"mean"`
		} `json:"iou"`
	} `json:"classes"`
	ForegroundMean struct {
		Dice *float64 `json:"dice"`
		IoU  *float64 `json:"iou"`
	} `json:"foreground_mean"`
}

func readEvalJSON(t *testing.T, data []byte) evalJSON {
	t.Helper()
	var r evalJSON
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("eval.json: %v\n%s", err, data)
	}
	return r
}

func near(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil || math.Abs(*got-want) > 1e-9 {
		t.Errorf("%s: %v, want %g", what, got, want)
	}
}

// handMasks writes two pairs of 4x4 masks whose scores are worked out by hand: image a
// with foreground TP 2, FP 2, FN 2 (Dice 0.5; background Dice 20/24), image b with no
// foreground on either side (empty: NaN or 1 by the policy; background Dice 1).
func handMasks(t *testing.T) (pred, gt string) {
	dir := t.TempDir()
	pred, gt = filepath.Join(dir, "pred"), filepath.Join(dir, "gt")
	writeGrayPNG(t, filepath.Join(gt, "a.png"), 4, 4, []uint8{255, 255, 0, 0, 255, 255})
	writeGrayPNG(t, filepath.Join(pred, "a_mask.png"), 4, 4, []uint8{255, 255, 255, 255})
	writeGrayPNG(t, filepath.Join(gt, "b.png"), 4, 4, nil)
	writeGrayPNG(t, filepath.Join(pred, "b_mask.png"), 4, 4, nil)
	return pred, gt
}

// TestEvalMasks scores existing masks and checks the CSV, the JSON file and --json.
func TestEvalMasks(t *testing.T) {
	pred, gt := handMasks(t)
	out := t.TempDir()
	args := []string{"eval", "--pred", pred, "--gt", gt, "--out", out, "-q", "--mask-values", "0,255"}
	code, stdout, errOut := runCmd(args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"background", "foreground", "0.5000", "foreground mean: Dice 0.5000"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	f, err := os.Open(filepath.Join(out, "eval.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[0][0] != "image" || rows[0][8] != "dice" {
		t.Fatalf("eval.csv has %d rows, header %v; want a header and 2 images x 2 classes", len(rows), rows[0])
	}
	dice := map[string]string{}
	for _, r := range rows[1:] {
		dice[r[0]+"/"+r[2]] = r[8]
	}
	if dice["a/255"] != "0.5" || dice["b/255"] != "nan" || dice["b/0"] != "1" {
		t.Errorf("Dice by image/value %v, want a/255 0.5, b/255 nan, b/0 1", dice)
	}
	if d, _ := strconv.ParseFloat(dice["a/0"], 64); math.Abs(d-20.0/24) > 1e-12 {
		t.Errorf("background Dice of a %s, want 20/24", dice["a/0"])
	}
	data, err := os.ReadFile(filepath.Join(out, "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := readEvalJSON(t, data)
	if r.Images != 2 || r.EmptyPolicy != "nan" || len(r.Classes) != 2 || r.Classes[1].Value != 255 || r.Pred != pred {
		t.Fatalf("eval.json: %+v", r)
	}
	fg, bg := r.Classes[1].Dice, r.Classes[0].Dice
	near(t, "foreground mean Dice (b left out)", fg.Mean, 0.5)
	if fg.N != 1 || fg.Excluded != 1 {
		t.Errorf("foreground Dice over %d images, %d excluded; want 1, 1", fg.N, fg.Excluded)
	}
	near(t, "foreground data-set Dice", fg.Dataset, 0.5)
	near(t, "background mean Dice", bg.Mean, (20.0/24+1)/2)
	near(t, "background data-set Dice", bg.Dataset, 2*26.0/(2*26+2+2))
	near(t, "foreground_mean Dice", r.ForegroundMean.Dice, 0.5)

	// --empty one scores image b's absent foreground 1; --json prints the same JSON.
	args = []string{"eval", "--pred", pred, "--gt", gt, "--out", out, "-q", "--empty", "one", "--json"}
	code, stdout, errOut = runCmd(args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r = readEvalJSON(t, []byte(stdout))
	near(t, "foreground mean Dice, empty one", r.Classes[1].Dice.Mean, 0.75)
	if r.EmptyPolicy != "one" {
		t.Errorf("empty_policy %q", r.EmptyPolicy)
	}
	saved, _ := os.ReadFile(filepath.Join(out, "eval.json"))
	if string(saved) != stdout {
		t.Errorf("--json printed other JSON than eval.json holds")
	}
}

// TestEvalMasksMissing: a prediction without truth is reported, the rest scored, exit 1.
func TestEvalMasksMissing(t *testing.T) {
	pred, gt := handMasks(t)
	writeGrayPNG(t, filepath.Join(pred, "c_mask.png"), 4, 4, nil)
	writeGrayPNG(t, filepath.Join(pred, "d_mask.png"), 3, 3, nil)
	writeGrayPNG(t, filepath.Join(gt, "d.png"), 4, 4, nil)
	out := t.TempDir()
	args := []string{"eval", "--pred", pred, "--gt", gt, "--out", out, "-q"}
	code, _, errOut := runCmd(args...)
	noStackTrace(t, args, errOut)
	if code != exitFailure || !strings.Contains(errOut, "c_mask.png: no ground-truth mask") || !strings.Contains(errOut, "d_mask.png: prediction is 3x3") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	data, err := os.ReadFile(filepath.Join(out, "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r := readEvalJSON(t, data); r.Images != 2 || r.Failed != 2 {
		t.Errorf("%d images scored, %d failed; want 2 and 2", r.Images, r.Failed)
	}
}

func TestEvalUsage(t *testing.T) {
	for _, c := range []struct {
		args    []string
		code    int
		errWant string
	}{
		{[]string{"eval"}, exitUsage, "want --data"},
		{[]string{"eval", "--pred", "x"}, exitUsage, "--pred and --gt go together"},
		{[]string{"eval", "--pred", "x", "--gt", "y", "--data", "z"}, exitUsage, "one or the other"},
		{[]string{"eval", "--data", "z", "--empty", "zero"}, exitUsage, "--empty"},
		{[]string{"eval", "--data", filepath.Join(t.TempDir(), "nowhere")}, exitFailure, "nowhere"},
		{[]string{"eval", "--data", t.TempDir(), "--out", t.TempDir()}, exitFailure, "no test/ split"},
	} {
		code, _, errOut := runCmd(c.args...)
		noStackTrace(t, c.args, errOut)
		if code != c.code || !strings.Contains(errOut, c.errWant) {
			t.Errorf("segment %v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, errOut, c.code, c.errWant)
		}
	}
}

// TestEvalSampleData scores the embedded sample model on the sample data's validation split
// (the data set root has no test/, so the split's folder is given).
func TestEvalSampleData(t *testing.T) {
	out := t.TempDir()
	code, stdout, errOut := runCmd("eval", "--data", "../../sample_data/val", "--out", out, "-q", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := readEvalJSON(t, []byte(stdout))
	if r.Images != 8 || r.ForegroundMean.Dice == nil || *r.ForegroundMean.Dice < 0.95 {
		t.Errorf("sample model on sample_data/val: %d images, foreground Dice %v; want 8, above 0.95", r.Images, r.ForegroundMean.Dice)
	}
}

// TestEvalISBI scores the PyTorch-trained ISBI model through eval and requires PyTorch's
// own mean Dice (../shared/models/README.md): 0.9514 for value 255, 0.7988 for value 0.
func TestEvalISBI(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: six 512x512 predictions with a base-32 model")
	}
	model := sharedtest.Path(t, "models/isbi-unet-b32-torch.safetensors")
	data := sharedtest.Path(t, "data/isbi2012-em-membranes/test")
	out := t.TempDir()
	code, stdout, errOut := runCmd("eval", "--model", model, "--data", data, "--out", out, "-q")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	t.Logf("\n%s", stdout)
	raw, err := os.ReadFile(filepath.Join(out, "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := readEvalJSON(t, raw)
	want := map[int]float64{255: 0.9514, 0: 0.7988}
	if r.Images != 6 || len(r.Classes) != 2 {
		t.Fatalf("%d images, %d classes; want 6 and 2", r.Images, len(r.Classes))
	}
	for _, c := range r.Classes {
		if c.Dice.Mean == nil || math.Abs(*c.Dice.Mean-want[c.Value]) > 1e-3 {
			t.Errorf("value %d: mean Dice %v, PyTorch gives %.4f", c.Value, c.Dice.Mean, want[c.Value])
		}
	}
}

// TestEvalMasksIgnore: pixels holding the ignore value count for nothing, and the JSON says
// which value and index they had.
func TestEvalMasksIgnore(t *testing.T) {
	dir := t.TempDir()
	pred, gt := filepath.Join(dir, "p.png"), filepath.Join(dir, "g.png")
	writeGrayPNG(t, gt, 2, 2, []uint8{255, 7, 0, 0})
	writeGrayPNG(t, pred, 2, 2, []uint8{255, 255, 0, 0}) // wrong only where the truth is void
	code, stdout, errOut := runCmd("eval", "--pred", pred, "--gt", gt, "--ignore", "7", "--out", dir, "--json", "-q")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := readEvalJSON(t, []byte(stdout))
	near(t, "foreground Dice with the void pixel ignored", r.Classes[1].Dice.Mean, 1)
	var raw map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatal(err)
	}
	if raw["ignore"] != 2.0 || raw["ignore_value"] != 7.0 {
		t.Errorf("ignore %v, ignore_value %v; want 2 (the index past the classes) and 7", raw["ignore"], raw["ignore_value"])
	}
}
