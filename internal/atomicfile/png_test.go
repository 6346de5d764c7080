package atomicfile

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segment-dev/segment/internal/regular"
	"github.com/segment-dev/segment/internal/sharedtest"
)

// dirNames returns the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWritePNG(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.png")
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.SetRGBA(2, 1, color.RGBA{10, 20, 30, 255})
	for range 2 { // the second write replaces the first
		if err := WritePNG(path, img); err != nil {
			t.Fatal(err)
		}
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "f.png" {
		t.Errorf("directory holds %q, want only f.png", names)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds() != img.Rect {
		t.Errorf("decoded bounds %v, want %v", got.Bounds(), img.Rect)
	}
	if r, g, b, _ := got.At(2, 1).RGBA(); r>>8 != 10 || g>>8 != 20 || b>>8 != 30 {
		t.Errorf("decoded pixel (%d, %d, %d), want (10, 20, 30)", r>>8, g>>8, b>>8)
	}
}

// TestWritePNGFailure checks that a failed write leaves an existing file as it was and no
// temporary file behind, and that the error names the path.
func TestWritePNGFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.png")
	old := []byte("the previous picture")
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		img  image.Image
	}{
		{"empty image", image.NewRGBA(image.Rectangle{})}, // png.Encode refuses it
		{"nil image", nil},
	}
	for _, tt := range tests {
		err := WritePNG(path, tt.img)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming %s", tt.name, err, path)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, old) {
			t.Errorf("%s: existing file now holds %q, want %q", tt.name, got, old)
		}
		if names := dirNames(t, dir); len(names) != 1 {
			t.Errorf("%s: directory holds %q, want only f.png", tt.name, names)
		}
	}
	if err := WritePNG(filepath.Join(dir, "missing", "x.png"), image.NewRGBA(image.Rect(0, 0, 1, 1))); err == nil {
		t.Error("write into a missing directory: no error")
	}
}

// TestPNGSoftware writes a PNG with a Software text and one without: both decode to the
// image written, and PNGSoftware reads back what was recorded.
func TestPNGSoftware(t *testing.T) {
	dir := t.TempDir()
	img := image.NewGray16(image.Rect(0, 0, 37, 5))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	for _, sw := range []string{"segment predict", ""} {
		p := filepath.Join(dir, "m"+sw+".png")
		var g Group
		if err := g.WritePNG(p, img, sw); err != nil {
			t.Fatal(err)
		}
		if err := g.Commit(); err != nil {
			t.Fatal(err)
		}
		f, _ := os.Open(p)
		got, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%q: %v", sw, err)
		}
		if g16, ok := got.(*image.Gray16); !ok || !bytes.Equal(g16.Pix, img.Pix) {
			t.Errorf("%q: the image read back differs", sw)
		}
		if s, err := PNGSoftware(p); err != nil || s != sw {
			t.Errorf("PNGSoftware = %q, %v; want %q", s, err, sw)
		}
	}
	bad := filepath.Join(dir, "x.png")
	os.WriteFile(bad, []byte("not a png"), 0o644)
	if _, err := PNGSoftware(bad); err == nil {
		t.Error("PNGSoftware of a file that is not a PNG: no error")
	}
	// A named pipe in an output's place is refused by its type, not opened: an open would
	// wait for a writer that never comes.
	fifo := filepath.Join(dir, "fifo.png")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	var err error
	if !sharedtest.Returns(5*time.Second, func() { _, err = PNGSoftware(fifo) }) {
		t.Fatal("PNGSoftware blocks on a named pipe")
	}
	if !errors.Is(err, regular.ErrNotRegular) {
		t.Errorf("PNGSoftware of a named pipe: %v, want regular.ErrNotRegular", err)
	}
}
