package predict

import (
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/weights"
)

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WritePNG(path, img); err != nil {
		t.Fatal(err)
	}
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func grayNoise(w, h int, seed int64) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i, v := range randomImage(1, h, w, seed) {
		g.Pix[i] = uint8(v * 255)
	}
	return g
}

// TestFilesSkipsBadImages predicts a list where one file is not an image, one is missing
// and two would write the same outputs: each is reported by name, once, and the good
// images' outputs are all written, with no temporary file left behind.
func TestFilesSkipsBadImages(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	writePNG(t, filepath.Join(in, "a.png"), grayNoise(40, 30, 1))
	writePNG(t, filepath.Join(in, "c.png"), grayNoise(17, 50, 2))
	writePNG(t, filepath.Join(in, "sub", "c.png"), grayNoise(8, 8, 3))
	if err := os.WriteFile(filepath.Join(in, "b.png"), []byte("not a PNG"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	paths := []string{
		filepath.Join(in, "a.png"), filepath.Join(in, "b.png"), filepath.Join(in, "missing.png"),
		filepath.Join(in, "c.png"), filepath.Join(in, "sub", "c.png"),
	}
	m := randomModel(t, 1, 1, 2, 4)
	p, err := New(m, Options{Tile: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	errs := make([]error, len(paths))
	calls := 0
	err = p.Files(context.Background(), paths, weights.Meta{}, FileOptions{Dir: out, Overlay: true, Probs: true}, func(i int, err error) {
		if i != calls {
			t.Errorf("done(%d) after %d calls: out of order", i, calls)
		}
		calls++
		errs[i] = err
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != len(paths) {
		t.Fatalf("done called %d times for %d files", calls, len(paths))
	}
	for _, i := range []int{1, 2, 4} {
		if errs[i] == nil || !strings.HasPrefix(errs[i].Error(), paths[i]+":") || strings.Count(errs[i].Error(), "\n") > 0 {
			t.Errorf("%s: error %v, want one line starting with the path", paths[i], errs[i])
		}
	}
	for _, i := range []int{0, 3} {
		if errs[i] != nil {
			t.Errorf("%s: %v", paths[i], errs[i])
		}
	}
	for _, c := range []struct {
		stem string
		w, h int
	}{{"a", 40, 30}, {"c", 17, 50}} {
		mask := readPNG(t, filepath.Join(out, c.stem+"_mask.png"))
		g, ok := mask.(*image.Gray)
		if !ok || g.Bounds().Dx() != c.w || g.Bounds().Dy() != c.h {
			t.Fatalf("%s mask: %T %v, want %dx%d gray", c.stem, mask, mask.Bounds(), c.w, c.h)
		}
		for _, v := range g.Pix {
			if v != 0 && v != 255 {
				t.Fatalf("%s mask holds %d, want 0 or 255", c.stem, v)
			}
		}
		if b := readPNG(t, filepath.Join(out, c.stem+"_overlay.png")).Bounds(); b.Dx() != c.w || b.Dy() != c.h {
			t.Errorf("%s overlay is %v", c.stem, b)
		}
		if _, ok := readPNG(t, filepath.Join(out, c.stem+"_probs.png")).(*image.Gray16); !ok {
			t.Errorf("%s probabilities are not 16-bit gray", c.stem)
		}
	}
	left, _ := filepath.Glob(filepath.Join(out, ".*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestFilesMaskMatchesPredict: the mask written for a file is the thresholded prediction,
// and the 16-bit probabilities round-trip to within one step.
func TestFilesMaskMatchesPredict(t *testing.T) {
	dir := t.TempDir()
	img := grayNoise(33, 21, 9)
	path := filepath.Join(dir, "x.png")
	writePNG(t, path, img)
	m := randomModel(t, 1, 1, 2, 4)
	p, err := New(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Files(context.Background(), []string{path}, weights.Meta{}, FileOptions{Probs: true}, func(_ int, err error) {
		if err != nil {
			t.Fatal(err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(img.Pix))
	for i, v := range img.Pix {
		x[i] = float32(v) / 255
	}
	ref := whole(t, m, x, 21, 33)
	mask := readPNG(t, filepath.Join(dir, "x_mask.png")).(*image.Gray)
	probs := readPNG(t, filepath.Join(dir, "x_probs.png")).(*image.Gray16)
	for i, pr := range ref {
		want := uint8(0)
		if pr > 0.5 {
			want = 255
		}
		if mask.Pix[i] != want {
			t.Fatalf("pixel %d: mask %d, probability %g", i, mask.Pix[i], pr)
		}
		got := float64(uint16(probs.Pix[2*i])<<8|uint16(probs.Pix[2*i+1])) / 65535
		if d := got - float64(pr); d > 1.0/65535 || d < -1.0/65535 {
			t.Fatalf("pixel %d: probability %g stored as %g", i, pr, got)
		}
	}
}

// TestRunCancel: a cancelled run stops and says so.
func TestRunCancel(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := 0; i < 5; i++ {
		p := filepath.Join(dir, string(rune('a'+i))+".png")
		writePNG(t, p, grayNoise(16, 16, int64(i)))
		paths = append(paths, p)
	}
	p, err := New(randomModel(t, 1, 1, 1, 2), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err = p.Files(ctx, paths, weights.Meta{}, FileOptions{}, func(int, error) {
		n++
		cancel()
	})
	if !errors.Is(err, context.Canceled) || n >= len(paths) {
		t.Errorf("cancelled after the first image: %v, %d images done", err, n)
	}
}

func TestInputs(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.png", "b.JPG", "a_mask.png", "a_overlay.png", "a_probs.png", "a_probs_255.png", ".hidden.png", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	files, problems := Inputs([]string{dir, filepath.Join(dir, "a.png"), filepath.Join(dir, "*_mask.png"), filepath.Join(dir, "*.gif"), empty, "given.tif"})
	want := []string{filepath.Join(dir, "a.png"), filepath.Join(dir, "b.JPG"), filepath.Join(dir, "a_mask.png"), "given.tif"}
	if !slices.Equal(files, want) {
		t.Errorf("files %v, want %v", files, want)
	}
	if len(problems) != 2 || !strings.Contains(problems[0].Error(), "*.gif: no file matches") || !strings.Contains(problems[1].Error(), "empty: no PNG") {
		t.Errorf("problems %v", problems)
	}
}
