package predict

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/tiffstack"
	"github.com/segment-dev/segment/weights"
)

// predictFiles predicts paths with a small random model and gives each file's error.
func predictFiles(t *testing.T, paths []string, o FileOptions) []error {
	t.Helper()
	p, err := New(randomModel(t, 1, 1, 2, 4), Options{Tile: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	errs := make([]error, len(paths))
	if err := p.Files(context.Background(), paths, weights.Meta{}, o, func(i int, err error) { errs[i] = err }); err != nil {
		t.Fatal(err)
	}
	return errs
}

// TestFilesNeverOverwriteInputs (issue 18, finding 2): a folder holds a.png and its ground
// truth a_mask.png, eval's naming, which is also the name of a.png's mask. Predicting the
// folder must leave the ground truth as it was and say so naming both files; an output that
// is one of the inputs, given on the command line, is refused the same. The run's own
// outputs are replaced by a second run.
func TestFilesNeverOverwriteInputs(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png")
	truth := filepath.Join(dir, "a_mask.png")
	writePNG(t, a, grayNoise(20, 20, 1))
	writePNG(t, b, grayNoise(20, 20, 2))
	writePNG(t, truth, grayNoise(20, 20, 3))
	before, _ := os.ReadFile(truth)

	for run := range 2 { // the second run replaces b's outputs, which are its own
		errs := predictFiles(t, []string{a, b}, FileOptions{Overlay: true})
		if errs[0] == nil || !strings.Contains(errs[0].Error(), a) || !strings.Contains(errs[0].Error(), truth) {
			t.Errorf("run %d: a.png: %v, want an error naming %s and %s", run, errs[0], a, truth)
		}
		if errs[1] != nil {
			t.Errorf("run %d: b.png: %v", run, errs[1])
		}
		if after, _ := os.ReadFile(truth); !bytes.Equal(after, before) {
			t.Fatalf("run %d: the ground truth %s was overwritten", run, truth)
		}
		if _, err := os.Stat(filepath.Join(dir, "a_overlay.png")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("run %d: a refused image has an overlay (%v)", run, err)
		}
		if sw, err := atomicfile.PNGSoftware(filepath.Join(dir, "b_mask.png")); err != nil || sw != Software {
			t.Errorf("run %d: b_mask.png records %q, %v; want %q", run, sw, err, Software)
		}
	}

	// The mask as an input itself: a.png's mask would overwrite it; a_mask.png's own mask
	// (a_mask_mask.png) is fine. Through a symbolic link, the same.
	link := filepath.Join(dir, "link.png")
	if err := os.Symlink("a_mask.png", link); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{truth, link} {
		errs := predictFiles(t, []string{a, in}, FileOptions{})
		if errs[0] == nil || !strings.Contains(errs[0].Error(), "would overwrite the input "+in) {
			t.Errorf("a.png with %s as an input: %v, want it refused naming the input", in, errs[0])
		}
		if errs[1] != nil {
			t.Errorf("%s: %v", in, errs[1])
		}
	}
	if after, _ := os.ReadFile(truth); !bytes.Equal(after, before) {
		t.Fatalf("the ground truth %s was overwritten", truth)
	}
}

// TestFilesCheckOutputsFirst: an output folder that is a file, and an output path taken by
// a folder, fail before any image is predicted, naming the path.
func TestFilesCheckOutputsFirst(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png")
	writePNG(t, a, grayNoise(20, 20, 1))
	writePNG(t, b, grayNoise(20, 20, 2))

	p, err := New(randomModel(t, 1, 1, 2, 4), Options{Tile: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	called := false
	err = p.Files(context.Background(), []string{a}, weights.Meta{}, FileOptions{Dir: b}, func(int, error) { called = true })
	if err == nil || !strings.Contains(err.Error(), b) || called {
		t.Errorf("--out a file: %v (images done: %v), want an error naming %s first", err, called, b)
	}

	if err := os.Mkdir(filepath.Join(dir, "a_mask.png"), 0o755); err != nil {
		t.Fatal(err)
	}
	errs := predictFiles(t, []string{a, b}, FileOptions{})
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "a_mask.png is a folder") {
		t.Errorf("a folder in place of the mask: %v", errs[0])
	}
	if errs[1] != nil {
		t.Errorf("b.png: %v", errs[1])
	}
}

// TestFilesFailureLeavesNoOutputs (issue 18, finding 4): the overlay of the second of three
// images fails as it is written (a full disk, say): that image has no output at all, its
// mask included, and the others have all of theirs.
func TestFilesFailureLeavesNoOutputs(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for k, n := range []string{"a", "b", "c"} {
		p := filepath.Join(dir, n+".png")
		writePNG(t, p, grayNoise(24, 16, int64(k)))
		paths = append(paths, p)
	}
	full := errors.New("no space left on device")
	defer atomicfile.SetBeforeRenameHook(func(tmp string) error {
		if strings.Contains(filepath.Base(tmp), "b_overlay.png") {
			return full
		}
		return nil
	})()
	errs := predictFiles(t, paths, FileOptions{Dir: out, Overlay: true, Probs: true})
	if !errors.Is(errs[1], full) || !strings.Contains(errs[1].Error(), paths[1]) {
		t.Errorf("b.png: %v, want the write's error naming the image", errs[1])
	}
	for _, k := range []int{0, 2} {
		if errs[k] != nil {
			t.Errorf("%s: %v", paths[k], errs[k])
		}
	}
	names, _ := filepath.Glob(filepath.Join(out, "*"))
	hidden, _ := filepath.Glob(filepath.Join(out, ".*"))
	var got []string
	for _, n := range append(names, hidden...) {
		got = append(got, filepath.Base(n))
	}
	want := "a_mask.png a_overlay.png a_probs.png c_mask.png c_overlay.png c_probs.png"
	if strings.Join(got, " ") != want {
		t.Errorf("files in the output folder: %v, want %s", got, want)
	}
}

// TestFilesNeverOverwriteStackTruth: a TIFF stack's ground truth vol_mask.tif beside
// vol.tif, the name of the stack's mask, is left as it was and named, as a PNG's is; the
// stack's own mask carries predict's Software tag and is replaced by a second run.
func TestFilesNeverOverwriteStackTruth(t *testing.T) {
	dir := t.TempDir()
	vol, other := filepath.Join(dir, "vol.tif"), filepath.Join(dir, "other.tif")
	truth := filepath.Join(dir, "vol_mask.tif")
	writeStack(t, vol, grayNoise(20, 20, 1), grayNoise(20, 20, 2))
	writeStack(t, other, grayNoise(20, 20, 3), grayNoise(20, 20, 4))
	writeStack(t, truth, grayNoise(20, 20, 5), grayNoise(20, 20, 6))
	before, _ := os.ReadFile(truth)
	for run := range 2 {
		errs := predictFiles(t, []string{vol, other}, FileOptions{})
		if errs[0] == nil || !strings.Contains(errs[0].Error(), truth) {
			t.Errorf("run %d: vol.tif: %v, want an error naming %s", run, errs[0], truth)
		}
		if errs[1] != nil {
			t.Errorf("run %d: other.tif: %v", run, errs[1])
		}
		if after, _ := os.ReadFile(truth); !bytes.Equal(after, before) {
			t.Fatalf("run %d: the ground truth %s was overwritten", run, truth)
		}
		st, err := tiffstack.Open(filepath.Join(dir, "other_mask.tif"), 0)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if st.Software != Software || st.Len() != 2 {
			t.Errorf("run %d: other_mask.tif: Software %q, %d pages; want %q, 2", run, st.Software, st.Len(), Software)
		}
		st.Close()
	}
}
