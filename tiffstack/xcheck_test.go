package tiffstack

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// debianPython returns Debian's Python 3 when it has the modules, or skips the test: the
// cross-checks need Debian's python3-tifffile and python3-pil (apt-get install), found at
// /usr/bin/python3 (a pyenv python earlier on PATH would not have them).
func debianPython(t *testing.T, modules ...string) string {
	t.Helper()
	const py = "/usr/bin/python3"
	imports := "import " + strings.Join(modules, ", ")
	if out, err := exec.Command(py, "-c", imports).CombinedOutput(); err != nil {
		t.Skipf("no independent TIFF reader: %s -c %q: %v %s (apt-get install python3-tifffile python3-pil)", py, imports, err, bytes.TrimSpace(out))
	}
	return py
}

// rawBytes gives an image's samples as tifffile's arrays hold them in little-endian order:
// row by row, samples of a pixel together, without alpha.
func rawBytes(img image.Image) []byte {
	switch m := img.(type) {
	case *image.Gray:
		return m.Pix
	case *image.Gray16:
		b := make([]byte, len(m.Pix))
		for i := 0; i < len(b); i += 2 {
			b[i], b[i+1] = m.Pix[i+1], m.Pix[i]
		}
		return b
	case *image.RGBA:
		var b []byte
		for i := 0; i < len(m.Pix); i += 4 {
			b = append(b, m.Pix[i:i+3]...)
		}
		return b
	}
	panic(fmt.Sprintf("%T", img))
}

// Pages written here read back identically in tifffile.
func TestTifffileReadsOurStacks(t *testing.T) {
	py := debianPython(t, "tifffile", "numpy")
	for _, c := range []Compression{None, Deflate} {
		pages := []image.Image{gray8(300, 200, 1), gray16(123, 457, 2), rgb(64, 33, 3), gray16(1024, 70, 4)}
		path := filepath.Join(t.TempDir(), "s.tif")
		if err := os.WriteFile(path, encode(t, c, pages...), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(py, "-c", `
import sys, hashlib, tifffile
with tifffile.TiffFile(sys.argv[1]) as f:
    for p in f.pages:
        a = p.asarray()
        a = a.astype(a.dtype.newbyteorder('<'))
        print(a.shape, a.dtype.str, hashlib.sha256(a.tobytes()).hexdigest())
`, path).CombinedOutput()
		if err != nil {
			t.Fatalf("tifffile: %v\n%s", err, out)
		}
		var want strings.Builder
		for _, p := range pages {
			b := p.Bounds()
			shape, dtype := fmt.Sprintf("(%d, %d)", b.Dy(), b.Dx()), "|u1"
			switch p.(type) {
			case *image.Gray16:
				dtype = "<u2"
			case *image.RGBA:
				shape = fmt.Sprintf("(%d, %d, 3)", b.Dy(), b.Dx())
			}
			sum := sha256.Sum256(rawBytes(p))
			fmt.Fprintf(&want, "%s %s %s\n", shape, dtype, hex.EncodeToString(sum[:]))
		}
		if string(out) != want.String() {
			t.Errorf("compression %d: tifffile reads\n%s\nwant\n%s", c, out, want.String())
		}
	}
}

// Stacks that tifffile and Pillow write (strips and tiles, both byte orders, no compression,
// Deflate with and without the predictor, LZW, PackBits) decode here to the same samples.
func TestReadOtherWritersStacks(t *testing.T) {
	py := debianPython(t, "tifffile", "numpy", "PIL")
	dir := t.TempDir()
	out, err := exec.Command(py, "-c", `
import sys, os, numpy as np, tifffile
from PIL import Image
d = sys.argv[1]
rng = np.random.default_rng(5)
def save(name, pages):
    with open(os.path.join(d, name + '.raw'), 'wb') as f:
        for p in pages:
            f.write(p.astype(p.dtype.newbyteorder('<')).tobytes())
def tf(name, pages, **kw):
    kw.setdefault('photometric', 'minisblack')
    try:
        tifffile.imwrite(os.path.join(d, name + '.tif'), np.stack(pages), **kw)
    except Exception as e:
        print('skip', name, type(e).__name__, e)
        return
    save(name, pages)
g8 = [rng.integers(0, 256, (37, 51), dtype=np.uint8) for _ in range(5)]
g16 = [rng.integers(0, 65536, (70, 33), dtype=np.uint16) for _ in range(4)]
smooth = [np.add.outer(np.arange(40), np.arange(48)).astype(np.uint16) * (k + 1) for k in range(3)]
col = [rng.integers(0, 256, (20, 30, 3), dtype=np.uint8) for _ in range(3)]
tf('g8-none', g8)
tf('g16-none-big-endian', g16, byteorder='>')
tf('g16-deflate', g16, compression='zlib')
tf('g16-deflate-predictor', smooth, compression='zlib', predictor=True)
tf('g8-tiled', [rng.integers(0, 256, (40, 50), dtype=np.uint8) for _ in range(3)], tile=(16, 16))
tf('g16-tiled-deflate', [rng.integers(0, 65536, (40, 50), dtype=np.uint16) for _ in range(2)], tile=(32, 16), compression='zlib')
tf('rgb-none', col, photometric='rgb')
for comp in ('tiff_lzw', 'packbits', 'tiff_adobe_deflate'):
    ims = [Image.fromarray(p) for p in g8]
    ims[0].save(os.path.join(d, 'pil-' + comp + '.tif'), save_all=True, append_images=ims[1:], compression=comp)
    save('pil-' + comp, g8)
`, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("writing the stacks: %v\n%s", err, out)
	}
	if len(out) > 0 {
		t.Logf("%s", out)
	}
	tifs, _ := filepath.Glob(filepath.Join(dir, "*.tif"))
	if len(tifs) < 9 {
		t.Fatalf("only %d stacks written", len(tifs))
	}
	for _, path := range tifs {
		name := strings.TrimSuffix(filepath.Base(path), ".tif")
		raw, err := os.ReadFile(strings.TrimSuffix(path, ".tif") + ".raw")
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, 0)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var got []byte
		for i := range s.Len() {
			img, err := s.Page(i)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				break
			}
			got = append(got, rawBytes(img)...)
		}
		s.Close()
		if !bytes.Equal(got, raw) {
			t.Errorf("%s (%d pages, %v): samples differ from the writer's", name, s.Len(), s.Pages[0])
		}
	}
}
