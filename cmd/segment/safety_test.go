package main

// Tests of issue 18's outputs and flags: a run never writes over its inputs, checks its
// output paths before any work, is the only writer of its files, leaves no partial output,
// and refuses numbers out of range before reading any data.

import (
	"bytes"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/internal/outlock"
)

// tinyTrain are the flags of a training run of a second or so on the sample data.
var tinyTrain = []string{"--epochs", "1", "--depth", "2", "--base", "4", "--crop", "32", "--batch", "2", "-q"}

// sampleCopy copies the sample data set into a fresh folder, for tests that must see that
// it is left as it was.
func sampleCopy(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	for _, sub := range []string{"train/images", "train/masks", "val/images", "val/masks"} {
		if err := os.CopyFS(filepath.Join(dir, sub), os.DirFS(filepath.Join("../../sample_data", sub))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// listing names every file and folder under dir with its size, to compare before and after.
func listing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		h := ""
		if fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			h = fmt.Sprintf("%x", data[:min(len(data), 64)])
		}
		fmt.Fprintf(&b, "%s %d %s\n", rel, fi.Size(), h)
		return nil
	})
	return b.String()
}

func trainArgs(data, out string, more ...string) []string {
	return append(append([]string{"train", "--data", data, "--out", out}, tinyTrain...), more...)
}

// TestTrainNeverWritesOverItsData (issue 18, finding 1): --out naming a training image, or
// a link to a mask, is refused before any work, naming the file, and the data set is left
// exactly as it was.
func TestTrainNeverWritesOverItsData(t *testing.T) {
	data := sampleCopy(t)
	link := filepath.Join(t.TempDir(), "link.safetensors")
	if err := os.Symlink(filepath.Join(data, "train", "masks", "0001.png"), link); err != nil {
		t.Fatal(err)
	}
	before := listing(t, data)
	for _, out := range []string{filepath.Join(data, "train", "images", "0000.png"), link} {
		code, _, errOut := runCmd(trainArgs(data, out)...)
		if code != exitFailure || !strings.Contains(errOut, out) || !strings.Contains(errOut, "data set") {
			t.Errorf("train --out %s: exit %d, %q; want exit 1 naming the file as the data set's", out, code, errOut)
		}
	}
	if after := listing(t, data); after != before {
		t.Errorf("the data set changed:\nbefore\n%s\nafter\n%s", before, after)
	}
}

// TestTrainChecksOutputsFirst (issue 18, finding 5): an --out that is a folder, or under a
// file, fails at once with a message that says what is in the way, and leaves no file.
func TestTrainChecksOutputsFirst(t *testing.T) {
	data := sampleCopy(t)
	dir := t.TempDir()
	folder := filepath.Join(dir, "models")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "a.png")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := listing(t, dir)
	for _, c := range []struct{ out, want string }{
		{folder, folder + " is a folder"},
		{filepath.Join(file, "model.safetensors"), file + " is a file, not a folder"},
	} {
		code, stdout, errOut := runCmd(trainArgs(data, c.out)...)
		if code != exitFailure || !strings.Contains(errOut, c.want) {
			t.Errorf("train --out %s: exit %d, %q; want exit 1 saying %q", c.out, code, errOut, c.want)
		}
		if strings.Contains(stdout, "epoch") {
			t.Errorf("train --out %s trained before failing:\n%s", c.out, stdout)
		}
	}
	if after := listing(t, dir); after != before {
		t.Errorf("files left:\nbefore\n%s\nafter\n%s", before, after)
	}

	ro := readOnlyMount(t)
	code, _, errOut := runCmd(trainArgs(data, filepath.Join(ro, "m.safetensors"))...)
	if code != exitFailure || !strings.Contains(errOut, ro) || !strings.Contains(errOut, "read-only") {
		t.Errorf("train --out on a read-only folder: exit %d, %q; want exit 1 naming it", code, errOut)
	}
}

// mount mounts a tmpfs with the options at a new folder, unmounted at the test's end, or
// skips the test where it cannot (not root, no mount in a container).
func mount(t *testing.T, opts string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%s) here, which the test needs: %v %s", opts, err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// readOnlyMount is a read-only folder that even root cannot write.
func readOnlyMount(t *testing.T) string { return mount(t, "ro,size=64k") }

// TestTrainSecondWriterRefused (issue 18, finding 3): while another writer holds the lock of
// an output set, train exits at once with status 1 naming that writer's process; once it is
// released, train runs and leaves no lock behind.
func TestTrainSecondWriterRefused(t *testing.T) {
	data := sampleCopy(t)
	out := filepath.Join(t.TempDir(), "m.safetensors")
	l, err := outlock.Acquire(filepath.Join(filepath.Dir(out), "m.lock"))
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut := runCmd(trainArgs(data, out)...)
	l.Release()
	if pid := strconv.Itoa(os.Getpid()); code != exitFailure || !strings.Contains(errOut, "pid "+pid) {
		t.Errorf("train while its outputs are locked: exit %d, %q; want exit 1 naming pid %s", code, errOut, pid)
	}
	if stdout != "" {
		t.Errorf("the second writer planned or trained before it stopped:\n%s", stdout)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("the second writer wrote %s", out)
	}
	if code, _, errOut := runCmd(trainArgs(data, out)...); code != exitOK {
		t.Fatalf("train once the lock is free: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(out), "m.lock")); !os.IsNotExist(err) {
		t.Errorf("the lock file stayed after the run: %v", err)
	}
}

// TestPredictKeepsGroundTruth (issue 18, finding 2): predicting a folder holding a.png and
// its ground truth a_mask.png (eval's naming) leaves the ground truth alone, says so naming
// both files, and exits 1 after predicting the other images.
func TestPredictKeepsGroundTruth(t *testing.T) {
	dir := t.TempDir()
	src := "../../sample_data/val"
	copyFile(t, filepath.Join(src, "images", "0000.png"), filepath.Join(dir, "a.png"))
	copyFile(t, filepath.Join(src, "masks", "0000.png"), filepath.Join(dir, "a_mask.png"))
	copyFile(t, filepath.Join(src, "images", "0001.png"), filepath.Join(dir, "b.png"))
	truth, _ := os.ReadFile(filepath.Join(dir, "a_mask.png"))
	code, stdout, errOut := runCmd("predict", dir, "-q")
	if code != exitFailure || !strings.Contains(errOut, filepath.Join(dir, "a.png")) || !strings.Contains(errOut, filepath.Join(dir, "a_mask.png")) {
		t.Errorf("predict DIR: exit %d, %q; want exit 1 naming a.png and a_mask.png", code, errOut)
	}
	if !strings.Contains(stdout, "1 of 2 images predicted") {
		t.Errorf("summary %q, want 1 of 2 predicted", stdout)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "a_mask.png")); !bytes.Equal(after, truth) {
		t.Fatal("the ground truth a_mask.png was overwritten")
	}
	if _, err := os.Stat(filepath.Join(dir, "b_mask.png")); err != nil {
		t.Errorf("b.png was not predicted: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPredictFullDisk (issue 18, finding 4): predicting into a small file system that fills
// up leaves, for each image, all of its outputs or none, no temporary file, and a summary
// that counts exactly the images whose outputs are there. A read-only one fails at once.
func TestPredictFullDisk(t *testing.T) {
	in := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	var names []string
	for k := range 6 {
		img := image.NewGray(image.Rect(0, 0, 160, 160))
		for i := range img.Pix {
			img.Pix[i] = uint8(rng.IntN(256))
		}
		name := fmt.Sprintf("n%d", k)
		if err := atomicfile.WritePNG(filepath.Join(in, name+".png"), img); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	out := mount(t, "size=256k")
	code, stdout, errOut := runCmd("predict", in, "--out", out, "--overlay", "--probs", "-q")
	m := regexp.MustCompile(`(\d+) of 6 images predicted`).FindStringSubmatch(stdout)
	if code != exitFailure || m == nil {
		t.Fatalf("predict onto a full disk: exit %d, stdout %q, stderr %q; want exit 1 and a summary", code, stdout, errOut)
	}
	whole := 0
	for _, n := range names {
		have := 0
		for _, suffix := range []string{"_mask.png", "_overlay.png", "_probs.png"} {
			if _, err := os.Stat(filepath.Join(out, n+suffix)); err == nil {
				have++
			}
		}
		switch have {
		case 3:
			whole++
		case 0:
			if !strings.Contains(errOut, filepath.Join(in, n+".png")) {
				t.Errorf("%s has no outputs and no message:\n%s", n, errOut)
			}
		default:
			t.Errorf("%s has %d of its 3 outputs", n, have)
		}
	}
	if strconv.Itoa(whole) != m[1] || whole == len(names) {
		t.Errorf("%d images have their outputs; the summary says %s of 6", whole, m[1])
	}
	t.Logf("%d of 6 images have their outputs on the full disk", whole)
	if left, _ := filepath.Glob(filepath.Join(out, ".*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}

	ro := readOnlyMount(t)
	code, _, errOut = runCmd("predict", in, "--out", ro, "-q")
	if code != exitFailure || !strings.Contains(errOut, ro) || strings.Count(errOut, "\n") > 2 {
		t.Errorf("predict --out a read-only folder: exit %d, %q; want one message naming it", code, errOut)
	}
}

// TestFlagRanges (issue 18, findings 7 and 11): numbers out of range are usage errors
// before any data is read (the data folder does not exist), naming the flag, without a Go
// value in the message; odd but legal choices give a one-line warning.
func TestFlagRanges(t *testing.T) {
	none := filepath.Join(t.TempDir(), "nowhere")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--data", none, "--epochs", "0"}, "--epochs 0"},
		{[]string{"train", "--data", none, "--epochs", "-2", "--time", "1m"}, "--epochs -2"},
		{[]string{"train", "--data", none, "--batch", "0"}, "--batch 0"},
		{[]string{"ablate", "--data", none, "--batch", "0"}, "--batch 0"},
		{[]string{"train", "--data", none, "--val-split", "1.5"}, "--val-split 1.5"},
		{[]string{"train", "--data", none, "--val-split", "1"}, "--val-split 1"},
		{[]string{"train", "--data", none, "--val-split", "-0.1"}, "--val-split -0.1"},
		{[]string{"train", "--data", none, "--threads", "-1"}, "--threads -1"},
		{[]string{"train", "--data", none, "--threads", "0"}, "--threads 0"},
		{[]string{"predict", none, "--tile", "1"}, "--tile 1"},
		{[]string{"eval", "--data", none, "--tile", "4"}, "--tile 4"},
	} {
		code, _, errOut := runCmd(c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) || strings.ContainsAny(errOut, "{}&") {
			t.Errorf("segment %v: exit %d, %q; want a usage error naming %q", c.args, code, errOut, c.want)
		}
	}
	// --epochs 0 with --time is a time budget alone.
	data := sampleCopy(t)
	if code, _, errOut := runCmd("train", "--data", data, "--epochs", "0", "--time", "1m", "--plan-only"); code != exitOK {
		t.Errorf("--epochs 0 --time 1m: exit %d, %s", code, errOut)
	}

	out := t.TempDir()
	code, _, errOut := runCmd(trainArgs(data, filepath.Join(out, "m.safetensors"), "--crop", "132")...)
	if code != exitOK || strings.Count(errOut, "warning: --crop 132 is larger than every training image") != 1 {
		t.Errorf("train --crop 132 on 128-pixel images: exit %d, %q; want one warning", code, errOut)
	}
	code, _, errOut = runCmd("predict", "../../sample_data/val/images/0000.png", "--out", out, "--tile", "16", "-q")
	if code != exitOK || strings.Count(errOut, "warning: --tile 16 is much smaller") != 1 {
		t.Errorf("predict --tile 16: exit %d, %q; want one warning", code, errOut)
	}
	if code, _, errOut = runCmd("predict", "../../sample_data/val/images/0000.png", "--out", out, "--tile", "128", "-q"); strings.Contains(errOut, "warning") {
		t.Errorf("predict --tile 128 warns: %q", errOut)
	}
}
