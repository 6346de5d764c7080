package predict

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segment-dev/segment/tiffstack"
	"github.com/segment-dev/segment/weights"
)

func gray16Noise(w, h int, seed int64) *image.Gray16 {
	g := image.NewGray16(image.Rect(0, 0, w, h))
	for i, v := range randomImage(1, h, w, seed) {
		u := uint16(v * 65535)
		g.Pix[2*i], g.Pix[2*i+1] = uint8(u>>8), uint8(u)
	}
	return g
}

func writeStack(t *testing.T, path string, pages ...image.Image) {
	t.Helper()
	err := tiffstack.WriteFile(path, tiffstack.None, func(w *tiffstack.Writer) error {
		for _, p := range pages {
			if err := w.WritePage(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readStack(t *testing.T, path string) []image.Image {
	t.Helper()
	s, err := tiffstack.Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var pages []image.Image
	for i := range s.Len() {
		p, err := s.Page(i)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
	}
	return pages
}

// samePixels says how a and b differ in size or in any pixel, or "".
func samePixels(a, b image.Image) string {
	if a.Bounds().Size() != b.Bounds().Size() {
		return fmt.Sprintf("size %v, want %v", a.Bounds().Size(), b.Bounds().Size())
	}
	ra, rb := a.Bounds(), b.Bounds()
	for y := 0; y < ra.Dy(); y++ {
		for x := 0; x < ra.Dx(); x++ {
			r1, g1, b1, a1 := a.At(ra.Min.X+x, ra.Min.Y+y).RGBA()
			r2, g2, b2, a2 := b.At(rb.Min.X+x, rb.Min.Y+y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return fmt.Sprintf("pixel (%d, %d) differs", x, y)
			}
		}
	}
	return ""
}

// runFiles predicts paths with a 3-class model and returns each file's error.
func runFiles(t *testing.T, paths []string, o FileOptions) []error {
	t.Helper()
	p, err := New(randomModel(t, 1, 3, 2, 4), Options{Tile: 16})
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

// Every page of an 8-bit and of a 16-bit stack is predicted, into TIFF outputs (mask,
// overlay, probabilities) of as many pages, or PNG files per page, each bit for bit what
// predicting that page saved as a PNG file of its own gives.
func TestStackPagesMatchSingleImages(t *testing.T) {
	for _, bits := range []int{8, 16} {
		t.Run(fmt.Sprint(bits), func(t *testing.T) {
			dir := t.TempDir()
			var pages []image.Image
			var singles []string
			for k := range 3 {
				var img image.Image = grayNoise(37, 29, int64(k+1))
				if bits == 16 {
					img = gray16Noise(37, 29, int64(k+1))
				}
				pages = append(pages, img)
				name := filepath.Join(dir, fmt.Sprintf("page%d.png", k+1))
				writePNG(t, name, img)
				singles = append(singles, name)
			}
			stackPath := filepath.Join(dir, "stack.tif")
			writeStack(t, stackPath, pages...)
			o := FileOptions{Dir: filepath.Join(dir, "out"), Overlay: true, Probs: true}
			os.MkdirAll(o.Dir, 0o755)
			for _, err := range runFiles(t, append([]string{stackPath}, singles...), o) {
				if err != nil {
					t.Fatal(err)
				}
			}
			png := o
			png.Dir = filepath.Join(dir, "png")
			png.PagePNG = true
			os.MkdirAll(png.Dir, 0o755)
			if errs := runFiles(t, []string{stackPath}, png); errs[0] != nil {
				t.Fatal(errs[0])
			}
			for _, kind := range []string{"mask", "overlay", "probs_0", "probs_1", "probs_2"} {
				got := readStack(t, filepath.Join(o.Dir, "stack_"+kind+".tif"))
				if len(got) != 3 {
					t.Fatalf("%s: %d pages, want 3", kind, len(got))
				}
				for k := range got {
					want := readPNG(t, filepath.Join(o.Dir, fmt.Sprintf("page%d_%s.png", k+1, kind)))
					if d := samePixels(got[k], want); d != "" {
						t.Errorf("%s page %d: %s", kind, k+1, d)
					}
					perPage := readPNG(t, filepath.Join(png.Dir, fmt.Sprintf("stack_p%04d_%s.png", k+1, kind)))
					if d := samePixels(perPage, want); d != "" {
						t.Errorf("--format png %s page %d: %s", kind, k+1, d)
					}
				}
			}
		})
	}
}

// stripOffsetsOf points the strips of page (from 1) of a little-endian stack past the end
// of the file, as a file cut short in the middle of its pages' data would.
func breakPage(t *testing.T, path string, page int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off := int(binary.LittleEndian.Uint32(data[4:]))
	for k := 1; k < page; k++ {
		n := int(binary.LittleEndian.Uint16(data[off:]))
		off = int(binary.LittleEndian.Uint32(data[off+2+12*n:]))
	}
	n := int(binary.LittleEndian.Uint16(data[off:]))
	for i := range n {
		e := off + 2 + 12*i
		if binary.LittleEndian.Uint16(data[e:]) == 273 { // StripOffsets
			if binary.LittleEndian.Uint32(data[e+4:]) != 1 {
				t.Fatal("want one strip")
			}
			binary.LittleEndian.PutUint32(data[e+8:], uint32(len(data)+1000))
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("no StripOffsets")
}

// A page whose data is not in the file is reported by file and page; the other pages are
// still predicted and written, and the broken one stands as an empty page, so that the
// outputs keep the input's page numbers. A stack whose every page fails writes nothing.
func TestStackBadPageReported(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.tif")
	pages := []image.Image{grayNoise(20, 12, 1), grayNoise(20, 12, 2), grayNoise(20, 12, 3)}
	writeStack(t, path, pages...)
	breakPage(t, path, 2)
	single := filepath.Join(dir, "p3.png")
	writePNG(t, single, pages[2])
	errs := runFiles(t, []string{path, single}, FileOptions{})
	if errs[0] == nil || !strings.Contains(errs[0].Error(), path+": page 2:") || strings.Contains(errs[0].Error(), "page 1") || strings.Contains(errs[0].Error(), "page 3") {
		t.Fatalf("error %v: want page 2 of %s named, alone", errs[0], path)
	}
	got := readStack(t, filepath.Join(dir, "s_mask.tif"))
	if len(got) != 3 {
		t.Fatalf("%d pages written, want 3", len(got))
	}
	if d := samePixels(got[2], readPNG(t, filepath.Join(dir, "p3_mask.png"))); d != "" {
		t.Errorf("page 3: %s", d)
	}
	if d := samePixels(got[1], image.NewGray(image.Rect(0, 0, 20, 12))); d != "" {
		t.Errorf("page 2 is not an empty page of its size: %s", d)
	}

	// Every page broken: an error for each, and no output file.
	all := filepath.Join(dir, "all.tif")
	writeStack(t, all, pages[:2]...)
	breakPage(t, all, 1)
	breakPage(t, all, 2)
	errs = runFiles(t, []string{all}, FileOptions{})
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "page 1:") || !strings.Contains(errs[0].Error(), "page 2:") {
		t.Errorf("error %v: want pages 1 and 2 named", errs[0])
	}
	if _, err := os.Stat(filepath.Join(dir, "all_mask.tif")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a mask was written for a stack of no readable page: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// withImageJPages gives the first IFD of a little-endian stack an ImageJ description that
// announces n pages, as ImageJ writes it.
func withImageJPages(t *testing.T, path string, n int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old := int(binary.LittleEndian.Uint32(data[4:]))
	k := int(binary.LittleEndian.Uint16(data[old:]))
	next := binary.LittleEndian.Uint32(data[old+2+12*k:])
	desc := fmt.Sprintf("ImageJ=1.54f\nimages=%d\nslices=%d\n\x00", n, n)
	descAt := len(data)
	data = append(data, desc...)
	if len(data)%2 == 1 {
		data = append(data, 0)
	}
	ifdAt := len(data)
	ifd := binary.LittleEndian.AppendUint16(nil, uint16(k+1))
	added := false
	for i := range k {
		e := data[old+2+12*i : old+14+12*i]
		if !added && binary.LittleEndian.Uint16(e) > 270 {
			ifd = binary.LittleEndian.AppendUint16(ifd, 270)
			ifd = binary.LittleEndian.AppendUint16(ifd, 2)
			ifd = binary.LittleEndian.AppendUint32(ifd, uint32(len(desc)))
			ifd = binary.LittleEndian.AppendUint32(ifd, uint32(descAt))
			added = true
		}
		ifd = append(ifd, e...)
	}
	ifd = binary.LittleEndian.AppendUint32(ifd, next)
	data = append(data, ifd...)
	binary.LittleEndian.PutUint32(data[4:], uint32(ifdAt))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A TIFF that claims 65,000 pages and holds 3: the 3 are predicted, the others reported,
// at once and without reading anything for them.
func TestStackClaimingManyPages(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.tif")
	writeStack(t, path, grayNoise(9, 7, 1), grayNoise(9, 7, 2), grayNoise(9, 7, 3))
	withImageJPages(t, path, 65000)
	errs := runFiles(t, []string{path}, FileOptions{})
	if errs[0] == nil || !strings.Contains(errs[0].Error(), path) || !strings.Contains(errs[0].Error(), "pages 4 to 65000 are not read") {
		t.Fatalf("error %v: want the missing pages named", errs[0])
	}
	if got := readStack(t, filepath.Join(dir, "s_mask.tif")); len(got) != 3 {
		t.Errorf("%d pages written, want 3", len(got))
	}
}

// Pages of different sizes are each predicted at their own size, and a page that fails
// stands as an empty page of its own size.
func TestStackPagesOfDifferentSizes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.tif")
	sizes := []image.Point{{20, 12}, {31, 9}, {8, 40}, {17, 17}}
	var pages []image.Image
	for k, sz := range sizes {
		pages = append(pages, grayNoise(sz.X, sz.Y, int64(k+1)))
	}
	writeStack(t, path, pages...)
	breakPage(t, path, 3)
	errs := runFiles(t, []string{path}, FileOptions{Probs: true})
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "page 3:") {
		t.Fatalf("error %v: want page 3 named", errs[0])
	}
	for _, name := range []string{"s_mask.tif", "s_probs_0.tif"} {
		got := readStack(t, filepath.Join(dir, name))
		if len(got) != len(sizes) {
			t.Fatalf("%s: %d pages, want %d", name, len(got), len(sizes))
		}
		for k, p := range got {
			if p.Bounds().Size() != sizes[k] {
				t.Errorf("%s page %d: %v, want %v", name, k+1, p.Bounds().Size(), sizes[k])
			}
		}
	}
}
