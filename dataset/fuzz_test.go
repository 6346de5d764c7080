package dataset

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// FuzzDecode feeds arbitrary bytes to the header check and the decoders: they may refuse
// them, never panic.
func FuzzDecode(f *testing.F) {
	img, mask := grayImage(8, 8)
	var tb, bb bytes.Buffer
	tiff.Encode(&tb, img, nil)
	bmp.Encode(&bb, image.NewRGBA(img.Rect))
	for _, seed := range [][]byte{pngBytes(f, img), pngBytes(f, mask), jpegBytes(f, img), tb.Bytes(), bb.Bytes(), bombPNG(3, 2), []byte("GIF89a")} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "x")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		fi, err := probe(path, 1<<20)
		if err != nil {
			return
		}
		im, err := decode(path, fi)
		if err != nil {
			return
		}
		planar(im, fi.Channels)
		planar(im, 3)
		maskValues(im)
	})
}
