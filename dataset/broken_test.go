package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// grayImage makes a w x h gray image with a bright disc in the middle, and its mask:
// 255 inside the disc, 0 outside.
func grayImage(w, h int) (img, mask *image.Gray) {
	img, mask = image.NewGray(image.Rect(0, 0, w, h)), image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := x-w/2, y-h/2
			v := uint8(40 + (x*7+y*13)%50)
			if dx*dx+dy*dy < w*h/9 {
				v += 120
				mask.SetGray(x, y, color.Gray{255})
			}
			img.SetGray(x, y, color.Gray{v})
		}
	}
	return img, mask
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bombPNG is a valid PNG signature and IHDR that claims w x h 8-bit gray pixels, and
// nothing else.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // bit depth 8, gray
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	crc := crc32.NewIEEE()
	crc.Write([]byte("IHDR"))
	crc.Write(ihdr)
	b.WriteString("IHDR")
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc.Sum32())
	return b.Bytes()
}

// goodSet writes n good 32x32 pairs into dir/images and dir/masks.
func goodSet(t *testing.T, dir string, n int) {
	t.Helper()
	img, mask := grayImage(32, 32)
	for i := range n {
		name := string(rune('a'+i)) + ".png"
		writeFile(t, filepath.Join(dir, "images", name), pngBytes(t, img))
		writeFile(t, filepath.Join(dir, "masks", name), pngBytes(t, mask))
	}
}

func TestBrokenInputs(t *testing.T) {
	img, mask := grayImage(32, 32)
	_, small := grayImage(16, 32)
	good := pngBytes(t, img)
	tests := []struct {
		name  string
		make  func(t *testing.T, dir string) // adds the broken input to a good set
		opts  Options
		file  string // path of the file named, relative to the data set
		is    error  // the problem's kind, when it has one
		about string // text the message must hold
	}{
		{"truncated image", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "images/z.png"), good[:len(good)/2])
			writeFile(t, filepath.Join(dir, "masks/z.png"), pngBytes(t, mask))
		}, Options{}, "images/z.png", nil, "truncated PNG"},
		{"truncated mask", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "images/z.png"), good)
			m := pngBytes(t, mask)
			writeFile(t, filepath.Join(dir, "masks/z.png"), m[:len(m)-20])
		}, Options{}, "masks/z.png", nil, "truncated PNG"},
		{"not an image", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "images/z.png"), []byte("hello, world: no pixels here"))
			writeFile(t, filepath.Join(dir, "masks/z.png"), pngBytes(t, mask))
		}, Options{}, "images/z.png", nil, "not a PNG, JPEG"},
		{"mask of another size", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "images/z.png"), good)
			writeFile(t, filepath.Join(dir, "masks/z.png"), pngBytes(t, small))
		}, Options{}, "masks/z.png", ErrSize, "mask is 16x32, image z.png is 32x32"},
		{"missing mask", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "images/z.png"), good)
		}, Options{}, "images/z.png", ErrNoMask, "no z.* or z_mask.*"},
		{"missing image", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "masks/z.png"), pngBytes(t, mask))
		}, Options{}, "masks/z.png", ErrNoImage, "no image z.*"},
		{"JPEG mask", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "images/z.png"), good)
			writeFile(t, filepath.Join(dir, "masks/z.jpg"), jpegBytes(t, mask))
		}, Options{}, "masks/z.jpg", ErrValues, "JPEG is lossy"},
		{"JPEG mask, binary", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "images/z.png"), good)
			writeFile(t, filepath.Join(dir, "masks/z.jpg"), jpegBytes(t, mask))
		}, Options{Classes: 1}, "masks/z.jpg", ErrValues, "more than the 2 of a binary mask; JPEG is lossy"},
		{"decompression bomb", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "images/z.png"), bombPNG(100000, 100000))
			writeFile(t, filepath.Join(dir, "masks/z.png"), pngBytes(t, mask))
		}, Options{}, "images/z.png", ErrTooLarge, "100000x100000"},
		{"three values for binary", func(t *testing.T, dir string) {
			m := image.NewGray(mask.Rect)
			copy(m.Pix, mask.Pix)
			m.Pix[0] = 128
			writeFile(t, filepath.Join(dir, "images/z.png"), good)
			writeFile(t, filepath.Join(dir, "masks/z.png"), pngBytes(t, m))
		}, Options{Classes: 1}, "masks/z.png", ErrValues, "3 distinct values (0 128 255)"},
		{"value not listed", func(t *testing.T, dir string) {
			m := image.NewGray(mask.Rect)
			copy(m.Pix, mask.Pix)
			m.Pix[0] = 7
			writeFile(t, filepath.Join(dir, "images/z.png"), good)
			writeFile(t, filepath.Join(dir, "masks/z.png"), pngBytes(t, m))
		}, Options{MaskValues: []int{0, 255}}, "masks/z.png", ErrValues, "value 7 is not one of the mask values 0 255"},
		{"colour among gray", func(t *testing.T, dir string) {
			c := image.NewRGBA(img.Rect)
			writeFile(t, filepath.Join(dir, "images/z.png"), pngBytes(t, c))
			writeFile(t, filepath.Join(dir, "masks/z.png"), pngBytes(t, mask))
		}, Options{}, "images/z.png", ErrChannels, "set Options.Channels"},
		{"empty images folder", func(t *testing.T, dir string) {
			for _, n := range []string{"a", "b", "c"} {
				os.Remove(filepath.Join(dir, "images", n+".png"))
				os.Remove(filepath.Join(dir, "masks", n+".png"))
			}
		}, Options{}, "images", ErrEmpty, "no PNG, JPEG"},
		{"empty file", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "images/z.png"), nil)
			writeFile(t, filepath.Join(dir, "masks/z.png"), pngBytes(t, mask))
		}, Options{}, "images/z.png", nil, "empty file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			goodSet(t, dir, 3)
			tt.make(t, dir)
			_, err := Open(dir, tt.opts)
			checkProblem(t, err, filepath.Join(dir, tt.file), tt.is, tt.about)
		})
	}
}

// checkProblem checks that err is an *Error naming file, of kind is, in one line holding
// about.
func checkProblem(t *testing.T, err error, file string, is error, about string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want an *Error", err, err)
	}
	msg := err.Error()
	if e.Path != file || !strings.HasPrefix(msg, file+": ") {
		t.Errorf("error %q names %s, want %s", msg, e.Path, file)
	}
	if is != nil && !errors.Is(err, is) {
		t.Errorf("error %q is not %v", msg, is)
	}
	if !strings.Contains(msg, about) {
		t.Errorf("error %q does not say %q", msg, about)
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error %q takes more than one line", msg)
	}
	t.Log(msg)
}

func TestBadLayout(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "README.md"), []byte("hi"))
	_, err := Open(dir, Options{})
	checkProblem(t, err, dir, ErrLayout, "want images/ and masks/")

	os.MkdirAll(filepath.Join(dir, "train", "images"), 0o755)
	_, err = Open(dir, Options{})
	checkProblem(t, err, filepath.Join(dir, "train", "masks"), ErrLayout, "missing folder")
}
