package sampledata

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/segment-dev/segment/dataset"
)

// files lists the PNG files under dir, as paths relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && filepath.Ext(p) == ".png" {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRegenerateIsIdentical(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("the committed files were made on amd64; %s may round floating point differently", runtime.GOARCH)
	}
	dir := t.TempDir()
	if err := Generate(dir, DefaultConfig); err != nil {
		t.Fatal(err)
	}
	got, want := files(t, dir), files(t, ".")
	if !slices.Equal(got, want) {
		t.Fatalf("generated %d files, %d committed: %v vs %v", len(got), len(want), got, want)
	}
	var total int64
	for _, f := range want {
		a, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from a fresh generation: run go generate ./sample_data", f)
		}
		total += int64(len(b))
	}
	if total > 2<<20 {
		t.Errorf("sample data takes %d bytes, want under 2 MiB", total)
	}
}

func TestSampleDataOpens(t *testing.T) {
	d, err := dataset.Open(".", dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Train) != DefaultConfig.Train || len(d.Val) != DefaultConfig.Val || d.ValHeldOut || d.Channels != 1 {
		t.Errorf("train %d, val %d (held out %v), channels %d", len(d.Train), len(d.Val), d.ValHeldOut, d.Channels)
	}
	if !slices.Equal(d.Classes.Values, []int{0, 255}) || d.Classes.ModelClasses() != 1 {
		t.Errorf("classes %v", d.Classes)
	}
	per, _ := d.ClassPixels(d.Train)
	if frac := float64(per[1]) / float64(per[0]+per[1]); frac < 0.04 || frac > 0.4 {
		t.Errorf("foreground is %.3f of the pixels", frac)
	}
}

func TestSeedChangesData(t *testing.T) {
	r1, r2 := rngFor(1), rngFor(2)
	a, _ := sample(r1, 32)
	b, _ := sample(r2, 32)
	if bytes.Equal(a.Pix, b.Pix) {
		t.Error("seeds 1 and 2 drew the same image")
	}
}

// TestFilesMatchREADME checks the committed files against what README.md says of them,
// computed from the files alone (image/png and plain counting), not from what Generate
// wrote: 128x128 8-bit gray images and masks, mask values 0 and 255 only, one to six
// objects per mask (two to six drawn, which may touch: 8-connected components), objects
// brighter than the background on average, about a tenth of the pixels foreground, and a
// global threshold reaching a Dice of about 0.78 on val.
func TestFilesMatchREADME(t *testing.T) {
	var fg, total int
	for _, split := range []struct {
		name string
		n    int
	}{{"train", 40}, {"val", 8}} {
		for i := range split.n {
			name := fmt.Sprintf("%04d.png", i)
			img := decodeGray(t, filepath.Join(split.name, "images", name))
			mask := decodeGray(t, filepath.Join(split.name, "masks", name))
			var in, out float64
			var nin int
			for j, v := range mask.Pix {
				switch v {
				case 255:
					in += float64(img.Pix[j])
					nin++
				case 0:
					out += float64(img.Pix[j])
				default:
					t.Fatalf("%s/masks/%s: value %d, want 0 or 255", split.name, name, v)
				}
			}
			fg += nin
			total += len(mask.Pix)
			if nin == 0 || in/float64(nin) <= out/float64(len(mask.Pix)-nin) {
				t.Errorf("%s/%s: objects not brighter than the background on average", split.name, name)
			}
			if c := components(mask); c < 1 || c > 6 {
				t.Errorf("%s/masks/%s: %d objects, want 1 to 6", split.name, name, c)
			}
		}
	}
	if f := float64(fg) / float64(total); f < 0.07 || f > 0.14 {
		t.Errorf("foreground is %.3f of the pixels, want about a tenth", f)
	}
	// The best global threshold on val, by Dice over all its pixels.
	var imgs, masks []*image.Gray
	for i := range 8 {
		name := fmt.Sprintf("%04d.png", i)
		imgs = append(imgs, decodeGray(t, filepath.Join("val", "images", name)))
		masks = append(masks, decodeGray(t, filepath.Join("val", "masks", name)))
	}
	best := 0.0
	for th := 0; th < 256; th++ {
		var tp, fp, fn int
		for k := range imgs {
			for j, v := range imgs[k].Pix {
				p, g := int(v) > th, masks[k].Pix[j] == 255
				switch {
				case p && g:
					tp++
				case p:
					fp++
				case g:
					fn++
				}
			}
		}
		best = max(best, 2*float64(tp)/float64(2*tp+fp+fn))
	}
	t.Logf("best global threshold Dice on val: %.4f", best)
	if best < 0.75 || best > 0.81 {
		t.Errorf("the best global threshold reaches a Dice of %.4f on val; README says about 0.78", best)
	}
}

// components counts the 8-connected components of a mask's 255 pixels, by flood fill.
func components(m *image.Gray) int {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	seen := make([]bool, w*h)
	n := 0
	for s := range m.Pix {
		if m.Pix[s] != 255 || seen[s] {
			continue
		}
		n++
		stack := []int{s}
		seen[s] = true
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := p%w, p/w
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= w || ny >= h {
						continue
					}
					if q := ny*w + nx; m.Pix[q] == 255 && !seen[q] {
						seen[q] = true
						stack = append(stack, q)
					}
				}
			}
		}
	}
	return n
}

// decodeGray reads a committed 128x128 8-bit gray PNG; anything else fails the test.
func decodeGray(t *testing.T, path string) *image.Gray {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("committed sample data: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("committed sample data: %s: %v", path, err)
	}
	g, ok := img.(*image.Gray)
	if !ok || g.Rect.Dx() != 128 || g.Rect.Dy() != 128 {
		t.Fatalf("%s: %T of %v, want 128x128 8-bit gray", path, img, img.Bounds())
	}
	return g
}
