package reliability

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segment-dev/segment/internal/killpoint"
	"github.com/segment-dev/segment/weights"
)

// killFlags is the training the kill tests interrupt: 4 epochs of 4 steps on the fixture data.
func killFlags(fix string) []string {
	return a("train", "--data", filepath.Join(fix, "data"), "--epochs", "4", "--base", "4", "--depth", "2", "--crop", "32",
		"--batch", "2", "--seed", "3", "-q", "--out", "model.safetensors")
}

// trainKillPoints are the 20 places a training is killed: after steps (inside epochs and at
// their ends, before validation), and inside the file writes of an epoch's end (the best
// model, the log, the curves, the last model and the checkpoint, in that order) at their
// three stages: the temporary file created, written but not renamed, renamed. Between the
// last model's rename and the checkpoint's, the two disagree: a resume must still continue
// the run exactly. The last model and the checkpoint are written a fifth time when the run
// ends: a kill right after the fourth epoch's checkpoint must find that epoch's best model
// and log row written.
var trainKillPoints = []string{
	"step:1", "step:4", "step:6", "step:9", "step:16",
	"write-begin:1", "write-rename:1",
	"write-rename:model.safetensors:1", "write-done:model.log.csv:1", "write-rename:model.curves.png:3",
	"write-begin:model.last.safetensors:1", "write-done:model.last.safetensors:1",
	"write-rename:model.state.safetensors:1", "write-done:model.state.safetensors:1",
	"write-done:model.last.safetensors:2", "write-rename:model.state.safetensors:2",
	"write-done:model.last.safetensors:3", "write-done:model.state.safetensors:4",
	"write-done:model.last.safetensors:5", "write-rename:model.state.safetensors:5",
}

// TestKillTraining kills a training with SIGKILL at each of trainKillPoints, checks that
// every model file left loads, and that --resume (or, before the first checkpoint, a fresh
// start) ends with the tensors of an uninterrupted run, bit for bit, and with none of the
// killed run's temporary files left.
func TestKillTraining(t *testing.T) {
	fix := fixtures(t)
	ref := t.TempDir()
	if r := runBin(ref, nil, time.Minute, killFlags(fix)...); r.code != 0 {
		t.Fatalf("the uninterrupted run: exit %d\n%s", r.code, r.out)
	}
	outputs := []string{"model.safetensors", "model.last.safetensors", "model.state.safetensors"}
	var staleTemps atomicCount
	t.Cleanup(func() {
		t.Logf("kill tests of training: %d temporary files left by kill -9, each removed by the rerun", staleTemps.n.Load())
	})
	for _, point := range trainKillPoints {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r := runBin(dir, []string{killpoint.Env + "=" + point}, time.Minute, killFlags(fix)...)
			if r.hung || r.code != -1 {
				t.Fatalf("%s: not killed there (exit %d, hung %v): the point is not reached\n%s", point, r.code, r.hung, r.out)
			}
			for f := range listFiles(dir) {
				if isTemp(f) {
					staleTemps.n.Add(1)
					continue
				}
				if err := loads(filepath.Join(dir, f)); err != nil {
					t.Errorf("after the kill at %s: %v", point, err)
				}
			}
			args := killFlags(fix)
			if _, err := os.Stat(filepath.Join(dir, "model.state.safetensors")); err == nil {
				args = append(args, "--resume")
			}
			if r := runBin(dir, nil, time.Minute, args...); r.code != 0 {
				t.Fatalf("rerun after the kill at %s: exit %d\n%s", point, r.code, r.out)
			}
			for _, f := range outputs {
				if err := sameTensors(filepath.Join(ref, f), filepath.Join(dir, f)); err != nil {
					t.Errorf("after the kill at %s and %s: %v", point, strings.Join(args[len(args)-1:], ""), err)
				}
			}
			for f := range listFiles(dir) {
				if isTemp(f) {
					t.Errorf("after the kill at %s and a rerun: %s, a temporary file of the killed run, is still there", point, f)
				}
			}
			refLog, _ := os.ReadFile(filepath.Join(ref, "model.log.csv"))
			log, err := os.ReadFile(filepath.Join(dir, "model.log.csv"))
			if err != nil || bytes.Count(log, []byte("\n")) != bytes.Count(refLog, []byte("\n")) {
				t.Errorf("after the kill at %s: model.log.csv has %d lines, the uninterrupted run's %d (%v)",
					point, bytes.Count(log, []byte("\n")), bytes.Count(refLog, []byte("\n")), err)
			}
		})
	}
}

// predictKillPoints are the places a prediction of 8 images with overlays is killed: inside
// the writes of the first, middle and last images' files.
var predictKillPoints = []string{"write-begin:1", "write-rename:1", "write-done:2", "write-rename:7", "write-rename:16"}

// TestKillPredict kills a prediction at each of predictKillPoints and checks that the files
// left are whole and that running the same command again completes the set, each output
// identical to an uninterrupted run's.
func TestKillPredict(t *testing.T) {
	killPredict(t, "--overlay", predictKillPoints, 16)
}

// instancesKillPoints are the places a prediction of 8 images with --instances is killed:
// inside the writes of the first and middle images' files (a mask, a label image and an
// image's objects table each), the rename of one's table, and the writes of the run's
// objects table, gathered from the images' at the end.
var instancesKillPoints = []string{"write-rename:1", "write-done:4", "write-rename:11", "write-rename:0003_objects.csv:1",
	"write-begin:objects.csv:1", "write-rename:objects.csv:1"}

// TestKillPredictInstances is TestKillPredict with --instances: a run killed anywhere and run
// again skips the images whose outputs exist and writes objects.csv, the same bytes as an
// uninterrupted run's, every object once.
func TestKillPredictInstances(t *testing.T) {
	killPredict(t, "--instances", instancesKillPoints, 25)
}

// killPredict kills a prediction with the flag at each of points; the uninterrupted run
// writes files files.
func killPredict(t *testing.T, flag string, points []string, files int) {
	fix := fixtures(t)
	args := a("predict", "-q", "--model", filepath.Join(fix, "m/model.safetensors"), flag, "--out", "out",
		filepath.Join(fix, "data/train/images"))
	ref := t.TempDir()
	if r := runBin(ref, nil, time.Minute, args...); r.code != 0 {
		t.Fatalf("the uninterrupted run: exit %d\n%s", r.code, r.out)
	}
	want := listFiles(filepath.Join(ref, "out"))
	if len(want) != files {
		t.Fatalf("the uninterrupted run wrote %d files, want %d for 8 images with %s", len(want), files, flag)
	}
	for _, point := range points {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r := runBin(dir, []string{killpoint.Env + "=" + point}, time.Minute, args...)
			if r.hung || r.code != -1 {
				t.Fatalf("%s: not killed there (exit %d, hung %v)\n%s", point, r.code, r.hung, r.out)
			}
			for f := range listFiles(dir) {
				if !isTemp(f) {
					if err := whole(filepath.Join(dir, f)); err != nil {
						t.Errorf("after the kill at %s: %s: %v", point, f, err)
					}
				}
			}
			if r := runBin(dir, nil, time.Minute, args...); r.code != 0 {
				t.Fatalf("rerun after the kill at %s: exit %d\n%s", point, r.code, r.out)
			}
			got := listFiles(filepath.Join(dir, "out"))
			for f := range want {
				a, _ := os.ReadFile(filepath.Join(ref, "out", f))
				b, err := os.ReadFile(filepath.Join(dir, "out", f))
				if err != nil || !bytes.Equal(a, b) {
					t.Errorf("after the kill at %s and a rerun: out/%s differs from the uninterrupted run's (%v)", point, f, err)
				}
			}
			for f := range got {
				if !want[f] && !isTemp(f) {
					t.Errorf("after the kill at %s and a rerun: out/%s, which the uninterrupted run does not write", point, f)
				}
			}
		})
	}
}

// loads checks a file left by a killed run: model files load as models, the checkpoint as a
// safetensors file, PNG and CSV files are whole.
func loads(path string) error {
	switch {
	case strings.HasSuffix(path, ".state.safetensors"):
		_, err := weights.ReadFile(path)
		return err
	case strings.HasSuffix(path, ".safetensors"):
		_, _, err := weights.Load(path)
		return err
	}
	return whole(path)
}

// sameTensors compares the tensor data of two safetensors files, name by name, bit for bit
// (their metadata holds dates and times, which differ).
func sameTensors(want, got string) error {
	w, err := weights.ReadFile(want)
	if err != nil {
		return err
	}
	g, err := weights.ReadFile(got)
	if err != nil {
		return err
	}
	wn, gn := w.Names(), g.Names()
	if !slices.Equal(wn, gn) {
		return &mismatch{got, "tensor names differ"}
	}
	for _, n := range wn {
		if !bytes.Equal(w.Tensors[n].Data, g.Tensors[n].Data) {
			return &mismatch{got, "tensor " + n + " differs from the uninterrupted run's"}
		}
	}
	return nil
}

type mismatch struct{ file, what string }

func (m *mismatch) Error() string { return filepath.Base(m.file) + ": " + m.what }
