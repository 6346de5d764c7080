package tiffstack

import (
	"bytes"
	"image"
	"os"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to NewStack and decodes every page it describes. Nothing
// may panic; every error must be an *Error naming the file; a decoded page must have the size
// its description gives.
func FuzzDecode(f *testing.F) {
	f.Add(encode(f, None, gray8(5, 3, 1), gray16(4, 4, 2)))
	f.Add(encode(f, Deflate, gray8(9, 20, 3), rgb(3, 2, 4)))
	f.Add(encode(f, None, rgb(2, 2, 5)))
	f.Add(encode(f, Deflate, gray16(17, 5, 6), gray16(17, 5, 7), gray16(1, 1, 8)))
	f.Add([]byte("MM\x00*\x00\x00\x00\x08"))
	planar, err := os.ReadFile("testdata/planar.tif")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(planar)
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxPixels = 1 << 16 // keeps each case quick
		s, err := NewStack(bytes.NewReader(data), int64(len(data)), "fuzz.tif", maxPixels)
		if err != nil {
			checkError(t, err)
		}
		if s == nil {
			return
		}
		for i, p := range s.Pages {
			img, err := s.Page(i)
			if err != nil {
				checkError(t, err)
				continue
			}
			if img.Bounds() != image.Rect(0, 0, p.Width, p.Height) {
				t.Fatalf("page %d described as %dx%d decodes to %v", i+1, p.Width, p.Height, img.Bounds())
			}
		}
	})
}

func checkError(t *testing.T, err error) {
	t.Helper()
	e, ok := err.(*Error)
	if !ok || e.Path != "fuzz.tif" {
		t.Fatalf("error %q (%T) does not name the file", err, err)
	}
}
