package reliability

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/segment-dev/segment/internal/sharedtest"
)

// threadsEnv runs the binary on at least 4 threads, more than this 2-core machine has, so
// that the goroutines of the loader and of the steps interleave in ever new orders: a float
// reduction whose order follows the timing gives other bits from run to run.
func threadsEnv() []string {
	return []string{fmt.Sprintf("GOMAXPROCS=%d", max(4, runtime.NumCPU()))}
}

// trainTwice trains twice with the same seed and flags in two folders and checks that the
// best model, the last model and the checkpoint (weights and optimizer moments) hold the same
// tensors, bit for bit. Under -race the binary is race-built, and a data race fails it.
func trainTwice(t *testing.T, data string, flags ...string) {
	t.Helper()
	var dirs [2]string
	for i := range dirs {
		dirs[i] = t.TempDir()
		args := append(a("train", "--data", data, "--seed", "7", "-q", "--out", "model.safetensors"), flags...)
		r := runBin(dirs[i], threadsEnv(), 3*time.Minute, args...)
		if r.code != 0 || strings.Contains(r.out, "DATA RACE") {
			t.Fatalf("segment %s: exit %d\n%s", strings.Join(args, " "), r.code, r.out)
		}
	}
	for _, f := range []string{"model.safetensors", "model.last.safetensors", "model.state.safetensors"} {
		if err := sameTensors(filepath.Join(dirs[0], f), filepath.Join(dirs[1], f)); err != nil {
			t.Errorf("two runs with --seed 7 %s: %v", strings.Join(flags, " "), err)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dirs[0], "model.log.csv"))
	b, _ := os.ReadFile(filepath.Join(dirs[1], "model.log.csv"))
	if la, lb := lossColumns(a), lossColumns(b); la != lb {
		t.Errorf("two runs with --seed 7: the logs' losses and Dice differ:\n%s\n%s", la, lb)
	}
}

// lossColumns keeps a log's columns that do not depend on the clock: the epoch, its steps,
// loss, validation Dice and IoU.
func lossColumns(csv []byte) string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(csv)), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 6 {
			return string(csv)
		}
		out = append(out, strings.Join([]string{f[0], f[1], f[3], f[4], f[5]}, ","))
	}
	return strings.Join(out, "\n")
}

// TestTrainDeterministic trains on the sample data (always there), with the plain block and
// batch norm, and with the residual block, group norm, class crops and the loader on 3
// goroutines: every variant's two runs must agree bit for bit (finding 10 of issue 18).
func TestTrainDeterministic(t *testing.T) {
	fix := fixtures(t)
	data := filepath.Join(fix, "data")
	small := a("--epochs", "2", "--base", "8", "--depth", "3", "--crop", "48", "--batch", "3")
	for _, v := range [][]string{
		nil,
		a("--block", "residual", "--norm", "group", "--class-crops", "0.5", "--threads", "3"),
		a("--block", "dense", "--optimizer", "adamw", "--schedule", "plateau", "--loss", "focal+dice", "--grad-log", "2"),
	} {
		t.Run(strings.Join(append(a("default"), v...)[min(1, len(v)):], " "), func(t *testing.T) {
			trainTwice(t, data, append(append([]string(nil), small...), v...)...)
		})
	}
}

// TestTrainDeterministicISBI trains on crops of ISBI 2012 slices (real electron microscopy,
// from ../shared): 6 training and 2 validation crops of 128x128 from the first slices.
func TestTrainDeterministicISBI(t *testing.T) {
	src := sharedtest.Path(t, "data/isbi2012-em-membranes/train")
	data := t.TempDir()
	for i, split := range []string{"train", "train", "train", "train", "train", "train", "val", "val"} {
		for _, kind := range []string{"images", "masks"} {
			name := fmt.Sprintf("%02d.png", i)
			if err := cropPNG(filepath.Join(src, kind, name), filepath.Join(data, split, kind, name), 128); err != nil {
				t.Fatal(err)
			}
		}
	}
	trainTwice(t, data, "--epochs", "2", "--base", "8", "--depth", "3", "--crop", "64", "--batch", "2")
}

// TestTrainDeterministicCamVid trains a multi-class model (CamVid street scenes from
// ../shared, 128x128 crops, the void class ignored) with class crops, automatic class weights
// and the per-class Dice loss: the class index, the weighted draw and the per-class sums
// must follow the seed alone.
func TestTrainDeterministicCamVid(t *testing.T) {
	src := sharedtest.Path(t, "data/camvid-segnet-subset/train")
	names, err := filepath.Glob(filepath.Join(src, "images", "*.png"))
	if err != nil || len(names) < 8 {
		t.Fatalf("%s: %d images (%v)", src, len(names), err)
	}
	data := t.TempDir()
	for i, p := range names[:8] {
		split := "train"
		if i >= 6 {
			split = "val"
		}
		for _, kind := range []string{"images", "masks"} {
			name := filepath.Base(p)
			if err := cropPNG(filepath.Join(src, kind, name), filepath.Join(data, split, kind, name), 128); err != nil {
				t.Fatal(err)
			}
		}
	}
	trainTwice(t, data, "--epochs", "2", "--base", "8", "--depth", "3", "--crop", "64", "--batch", "2", "--ignore", "11",
		"--class-crops", "0.33", "--class-weights", "auto", "--loss", "ce+dice-per-class")
}

// cropPNG writes the top-left size x size square of a PNG.
func cropPNG(from, to string, size int) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	im, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("%s: %v", from, err)
	}
	sub, ok := im.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		return fmt.Errorf("%s: %T cannot be cropped", from, im)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, sub.SubImage(image.Rect(0, 0, size, size))); err != nil {
		return err
	}
	return writeFile(to, buf.Bytes())
}
