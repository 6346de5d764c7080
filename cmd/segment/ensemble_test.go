package main

import (
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// saveRandomModel writes a binary 1-channel model of depth and seed with mask values mv.
func saveRandomModel(t *testing.T, path string, depth int, seed int64, mv []int) {
	t.Helper()
	cfg := unet.Config{InChannels: 1, Classes: 1, Depth: depth, BaseChannels: 4, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose}
	m, err := unet.New(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.Save(path, m, weights.Meta{Classes: dataset.Classes{Values: mv}}); err != nil {
		t.Fatal(err)
	}
}

// gray16 reads a 16-bit probability PNG that predict --probs wrote.
func gray16(t *testing.T, path string) []uint16 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray16)
	if !ok {
		t.Fatalf("%s is %T, want 16-bit gray", path, img)
	}
	out := make([]uint16, 0, len(g.Pix)/2)
	for i := 0; i < len(g.Pix); i += 2 {
		out = append(out, uint16(g.Pix[i])<<8|uint16(g.Pix[i+1]))
	}
	return out
}

// TestPredictEnsemble runs predict with one model, the same model as a folder of one (the
// same bytes), and two models of different depths as a list and as a folder: the
// ensemble's probabilities are the mean of the two models' (to the rounding of the 16-bit
// files, one step each) and its mask is the threshold of that mean.
func TestPredictEnsemble(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors")
	saveRandomModel(t, a, 2, 3, []int{0, 255})
	saveRandomModel(t, b, 3, 4, []int{0, 255})
	one := filepath.Join(dir, "one")
	if err := os.MkdirAll(one, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(one, "a.safetensors"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	// Training's side files in a folder are not models of the ensemble.
	if err := os.WriteFile(filepath.Join(one, "a.state.safetensors"), []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	both := filepath.Join(dir, "both")
	if err := os.MkdirAll(both, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{a, b} {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(both, filepath.Base(p)), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img := "../../sample_data/val/images/0000.png"
	run := func(name, model string) (mask []byte, probs []uint16) {
		t.Helper()
		out := filepath.Join(dir, name)
		args := []string{"predict", img, "--model", model, "--out", out, "--probs", "-q"}
		if code, _, errOut := runCmd(args...); code != 0 {
			t.Fatalf("segment %v: exit %d: %s", args, code, errOut)
		}
		mask, err := os.ReadFile(filepath.Join(out, "0000_mask.png"))
		if err != nil {
			t.Fatal(err)
		}
		return mask, gray16(t, filepath.Join(out, "0000_probs.png"))
	}
	maskA, probsA := run("a", a)
	maskOne, probsOne := run("one", one)
	if string(maskA) != string(maskOne) || !slices.Equal(probsA, probsOne) {
		t.Error("an ensemble of one model differs from the model")
	}
	_, probsB := run("b", b)
	maskAB, probsAB := run("ab", a+","+b)
	maskDir, probsDir := run("dir", both)
	if string(maskAB) != string(maskDir) || !slices.Equal(probsAB, probsDir) {
		t.Error("--model a,b and --model DIR (holding a and b) differ")
	}
	if slices.Equal(probsAB, probsA) || slices.Equal(probsAB, probsB) {
		t.Fatal("the ensemble's probabilities are one model's")
	}
	for i := range probsAB {
		// Each file rounds to the nearest of 65535 steps: the mean of two rounded values is
		// within one step of the rounded mean.
		mean := (float64(probsA[i]) + float64(probsB[i])) / 2
		if d := float64(probsAB[i]) - mean; d > 1 || d < -1 {
			t.Fatalf("pixel %d: ensemble probability %d, the models' %d and %d", i, probsAB[i], probsA[i], probsB[i])
		}
	}
	decoded := readGray(t, filepath.Join(dir, "ab", "0000_mask.png"))
	for i, v := range decoded {
		if p := float64(probsAB[i]) / 65535; (p > 0.5+1e-4 && v != 255) || (p < 0.5-1e-4 && v != 0) {
			t.Fatalf("pixel %d: mask %d for the ensemble's probability %.5f", i, v, p)
		}
	}
}

// readGray reads an 8-bit gray PNG's pixels.
func readGray(t *testing.T, path string) []uint8 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("%s is %T, want 8-bit gray", path, img)
	}
	return g.Pix
}

// TestEnsembleMismatch checks that models which disagree on their mask values, classes,
// input channels or resolution are refused with a message naming the file that differs,
// and that a file listed twice is a usage error.
func TestEnsembleMismatch(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors")
	saveRandomModel(t, a, 2, 3, []int{0, 255})
	saveRandomModel(t, b, 2, 4, []int{0, 128})
	c := filepath.Join(dir, "c.safetensors")
	cfg := unet.Config{InChannels: 3, Classes: 1, Depth: 2, BaseChannels: 4, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose}
	m, err := unet.New(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.Save(c, m, weights.Meta{}); err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(dir, "d.safetensors") // a's weights, trained on images shrunk twice
	m, _, err = weights.Load(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.Save(d, m, weights.Meta{Classes: dataset.Classes{Values: []int{0, 255}}, Preprocess: json.RawMessage(`{"downsample":2}`)}); err != nil {
		t.Fatal(err)
	}
	img := "../../sample_data/val/images/0000.png"
	for _, tc := range []struct{ models, want string }{
		{a + "," + b, b + ": mask values [0 128], but " + a + " [0 255]"},
		{a + "," + c, c + ": input channels 3, but " + a + " 1"},
		{a + "," + d, d + ": downsample 2, but " + a + " 1"},
	} {
		for _, cmd := range [][]string{
			{"predict", img, "--model", tc.models, "--out", filepath.Join(dir, "out"), "-q"},
			{"eval", "--model", tc.models, "--data", "../../sample_data/val", "--out", filepath.Join(dir, "eval"), "-q"},
		} {
			code, _, errOut := runCmd(cmd...)
			noStackTrace(t, cmd, errOut)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("segment %v: exit %d, %q; want 1 and %q", cmd, code, errOut, tc.want)
			}
		}
	}
	args := []string{"predict", img, "--model", a + "," + a, "--out", filepath.Join(dir, "out"), "-q"}
	if code, _, errOut := runCmd(args...); code != 2 || !strings.Contains(errOut, "listed twice") {
		t.Errorf("segment %v: exit %d, %q; want 2 and 'listed twice'", args, code, errOut)
	}
}

// TestTrainFolds trains the two folds of a 2-fold split of the sample data briefly: each
// model records its fold, the held-out images of the two are a partition of train/, inspect
// shows the fold, and eval scores their ensemble, naming both files in eval.json.
func TestTrainFolds(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: trains two small models")
	}
	dir := t.TempDir()
	var paths []string
	var held []string
	for k := 0; k < 2; k++ {
		out := filepath.Join(dir, "folds", "fold"+string(rune('0'+k))+".safetensors")
		args := []string{"train", "--data", "../../sample_data", "--fold", string(rune('0'+k)) + "/2", "--seed", "3",
			"--epochs", "1", "--depth", "2", "--base", "4", "--batch", "8", "--crop", "64", "--augment", "none",
			"--class-crops", "0", "--class-weights", "none", "--loss", "bce+dice", "--out", out, "-q"}
		code, stdout, errOut := runCmd(args...)
		if code != 0 {
			t.Fatalf("segment %v: exit %d: %s", args, code, errOut)
		}
		if !strings.Contains(stdout, "fold "+string(rune('0'+k))+"/2 (seed 3): 20 training images, 20 held out") {
			t.Errorf("fold %d: the output does not say what the fold holds: %s", k, stdout)
		}
		_, meta, err := weights.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		f := meta.Fold
		if f == nil || f.Fold != (dataset.Fold{Index: k, Count: 2}) || f.Seed != 3 || len(f.HeldOut) != 20 || !slices.IsSorted(f.HeldOut) {
			t.Fatalf("fold %d: the model records %+v", k, f)
		}
		held = append(held, f.HeldOut...)
		paths = append(paths, out)
		code, stdout, errOut = runCmd("inspect", out)
		if code != 0 || !strings.Contains(stdout, "fold: "+string(rune('0'+k))+" of 2 (--fold "+string(rune('0'+k))+"/2 --seed 3), 20 held out") {
			t.Errorf("inspect %s: exit %d, %s%s", out, code, stdout, errOut)
		}
	}
	entries, err := os.ReadDir("../../sample_data/train/images")
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, e := range entries {
		all = append(all, strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())))
	}
	slices.Sort(held)
	if !slices.Equal(held, all) {
		t.Errorf("the folds hold out %v, want every train image once: %v", held, all)
	}
	evalOut := filepath.Join(dir, "eval")
	args := []string{"eval", "--model", filepath.Join(dir, "folds"), "--data", "../../sample_data/val", "--out", evalOut, "-q"}
	if code, _, errOut := runCmd(args...); code != 0 {
		t.Fatalf("segment %v: exit %d: %s", args, code, errOut)
	}
	var rep struct{ Model string }
	b, err := os.ReadFile(filepath.Join(evalOut, "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil || rep.Model != strings.Join(paths, ",") {
		t.Errorf("eval.json names the model %q (%v), want %q", rep.Model, err, strings.Join(paths, ","))
	}
}

// TestFoldFlagErrors checks that fold specifications that make no sense, and --fold with
// --val-split, are usage errors, as is a K larger than the number of training images.
func TestFoldFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--fold", "3/3"}, {"--fold", "0/1"}, {"--fold", "a/b"}, {"--fold", "-1/3"}, {"--fold", "1"},
		{"--fold", "0/2", "--val-split", "0.2"},
		{"--fold", "0/41", "--epochs", "1", "--depth", "2", "--base", "4", "--crop", "32", "--batch", "2"},
	} {
		args = append([]string{"train", "--data", "../../sample_data", "-q", "--out", filepath.Join(t.TempDir(), "m.safetensors")}, args...)
		code, _, errOut := runCmd(args...)
		noStackTrace(t, args, errOut)
		if code != 2 || !strings.Contains(errOut, "--fold") {
			t.Errorf("segment %v: exit %d, %q; want 2 and a message about --fold", args, code, errOut)
		}
	}
}

// TestTTAMirrorsOfTraining runs predict --tta with a model whose training record says
// augment light: its probabilities are the mean of the image's and its left-right mirror's
// alone, computed here with two plain predictions, and not the four views a model of
// unknown training gets; an ensemble of it and a model trained with all mirrors uses the
// one both learned; and a model
// trained without flips is refused --tta.
func TestTTAMirrorsOfTraining(t *testing.T) {
	dir := t.TempDir()
	save := func(name, train string) string {
		path := filepath.Join(dir, name+".safetensors")
		cfg := unet.Config{InChannels: 1, Classes: 1, Depth: 2, BaseChannels: 4, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose}
		m, err := unet.New(cfg, 5)
		if err != nil {
			t.Fatal(err)
		}
		if err := weights.Save(path, m, weights.Meta{Classes: dataset.Classes{Values: []int{0, 255}}, Train: json.RawMessage(train)}); err != nil {
			t.Fatal(err)
		}
		return path
	}
	light, unknown, none := save("light", `{"augment":"light"}`), save("unknown", ``), save("none", `{"augment":"none"}`)
	deflt := save("default", `{"augment":"default"}`)

	img := "../../sample_data/val/images/0000.png"
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	src, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	b := src.Bounds()
	mirrored := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			mirrored.Set(b.Max.X-1-(x-b.Min.X), y, src.At(x, y))
		}
	}
	mirror := filepath.Join(dir, "0000.png")
	mf, err := os.Create(mirror)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(mf, mirrored); err != nil {
		t.Fatal(err)
	}
	mf.Close()

	probs := func(name, input, model string, tta bool) []uint16 {
		t.Helper()
		out := filepath.Join(dir, name)
		args := []string{"predict", input, "--model", model, "--out", out, "--probs", "-q"}
		if tta {
			args = append(args, "--tta")
		}
		if code, _, errOut := runCmd(args...); code != 0 {
			t.Fatalf("segment %v: exit %d: %s", args, code, errOut)
		}
		return gray16(t, filepath.Join(out, "0000_probs.png"))
	}
	plain, flipped := probs("plain", img, light, false), probs("flipped", mirror, light, false)
	tta, all, ensemble := probs("tta", img, light, true), probs("all", img, unknown, true), probs("ensemble", img, light+","+deflt, true)
	w := b.Dx()
	for i := range tta {
		x, y := i%w, i/w
		mean := (float64(plain[i]) + float64(flipped[y*w+w-1-x])) / 2
		if d := float64(tta[i]) - mean; d > 1 || d < -1 {
			t.Fatalf("pixel %d: --tta of the light model gave %d; the mean of the image's and its mirror's is %.1f", i, tta[i], mean)
		}
		if d := int(ensemble[i]) - int(tta[i]); d > 1 || d < -1 {
			t.Fatalf("pixel %d: the ensemble of the light and the default model (the same weights) gave %d, the light model %d", i, ensemble[i], tta[i])
		}
	}
	if slices.Equal(tta, all) {
		t.Error("the light model's --tta equals the four views of the model of unknown training")
	}
	if code, _, errOut := runCmd("predict", img, "--model", none, "--out", filepath.Join(dir, "none"), "--tta", "-q"); code != exitUsage || !strings.Contains(errOut, "augment none") {
		t.Errorf("--tta with a model trained without flips: exit %d, %s", code, errOut)
	}
}
