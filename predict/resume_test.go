package predict

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/segment-dev/segment/tiffstack"
)

// TestSkipExisting runs Files as a killed run leaves things: one image with all its
// outputs, one with its mask but no overlay (killed between the two renames), one with
// nothing but a temporary file, and a stack with its TIFF outputs. With SkipExisting only
// the complete ones are skipped (their files untouched, the same inodes), the others are
// predicted, and no temporary file is left.
func TestSkipExisting(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, name := range []string{"a", "b", "c"} {
		p := filepath.Join(dir, name+".png")
		writePNG(t, p, grayNoise(24, 20, int64(len(paths))))
		paths = append(paths, p)
	}
	stackPath := filepath.Join(dir, "s.tif")
	f, err := os.Create(stackPath)
	if err != nil {
		t.Fatal(err)
	}
	tw := tiffstack.NewWriter(f, tiffstack.Deflate)
	for k := range 2 {
		if err := tw.WritePage(grayNoise(16, 16, int64(10+k))); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	paths = append(paths, stackPath)

	o := FileOptions{Overlay: true}
	for _, err := range runFiles(t, paths, o) {
		if err != nil {
			t.Fatal(err)
		}
	}
	out := func(name string) string { return filepath.Join(dir, name) }
	os.Remove(out("b_overlay.png"))
	os.Remove(out("c_mask.png"))
	os.Remove(out("c_overlay.png"))
	if err := os.WriteFile(out(".c_mask.png.tmp-killed"), []byte("half"), 0o666); err != nil {
		t.Fatal(err)
	}
	kept := map[string]os.FileInfo{}
	for _, name := range []string{"a_mask.png", "a_overlay.png", "s_mask.tif", "s_overlay.tif", "b_mask.png"} {
		st, err := os.Stat(out(name))
		if err != nil {
			t.Fatal(err)
		}
		kept[name] = st
	}

	o.SkipExisting = true
	errs := runFiles(t, paths, o)
	var skipped []int
	for i, err := range errs {
		switch {
		case errors.Is(err, ErrExists):
			skipped = append(skipped, i)
		case err != nil:
			t.Fatalf("%s: %v", paths[i], err)
		}
	}
	if !slices.Equal(skipped, []int{0, 3}) {
		t.Fatalf("skipped %v, want a.png and s.tif (0, 3): b lacks its overlay, c everything", skipped)
	}
	for name, before := range kept {
		after, err := os.Stat(out(name))
		if err != nil {
			t.Fatal(err)
		}
		if rewritten := !os.SameFile(before, after); rewritten != (name == "b_mask.png") {
			t.Errorf("%s rewritten: %v, want %v", name, rewritten, name == "b_mask.png")
		}
	}
	for _, name := range []string{"b_overlay.png", "c_mask.png", "c_overlay.png"} {
		if _, err := os.Stat(out(name)); err != nil {
			t.Errorf("not predicted again: %v", err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// Without SkipExisting everything is predicted again.
	for i, err := range runFiles(t, paths, FileOptions{Overlay: true}) {
		if err != nil {
			t.Fatalf("%s: %v", paths[i], err)
		}
	}
	if after, _ := os.Stat(out("a_mask.png")); os.SameFile(kept["a_mask.png"], after) {
		t.Error("without SkipExisting a_mask.png was not written again")
	}
}

// TestInputPixels reads sizes from the headers: a PNG's, a stack's pages summed, and 0 for
// a file that is no image.
func TestInputPixels(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "a.png")
	writePNG(t, png, image.NewGray(image.Rect(0, 0, 7, 5)))
	stack := filepath.Join(dir, "s.tif")
	f, err := os.Create(stack)
	if err != nil {
		t.Fatal(err)
	}
	tw := tiffstack.NewWriter(f, tiffstack.Deflate)
	for _, w := range []int{4, 6, 8} {
		if err := tw.WritePage(image.NewGray(image.Rect(0, 0, w, 3))); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	f.Close()
	bad := filepath.Join(dir, "x.png")
	os.WriteFile(bad, []byte("not an image"), 0o666)
	for path, want := range map[string]int64{png: 35, stack: 54, bad: 0, filepath.Join(dir, "none.png"): 0} {
		if got := InputPixels(path); got != want {
			t.Errorf("InputPixels(%s) = %d, want %d", filepath.Base(path), got, want)
		}
	}
}
