package reliability

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segment-dev/segment/tiffstack"
	"github.com/segment-dev/segment/weights"
)

// The fixtures every case reads, made once per test binary run in a folder of their own:
//
//	data/       train/ (8 pairs), val/ (2), test/ (2): sample_data images and masks
//	pairs/      images/ and masks/, 3 pairs (a flat data set)
//	img/        good.png good2.png rgb.png gray16.png small.png stack.tif, planar.tif (planes
//	            stored apart, unsupported) and damaged images
//	m/model.safetensors   a tiny model trained for one epoch on data/ (its .last, .state,
//	            .log.csv and .curves.png beside it), m/model.onnx its export
//	models/     damaged model files
//	pred/       the tiny model's masks of data/test (NAME_mask.png)
var (
	fixOnce sync.Once
	fixDir  string
	fixErr  error
)

// fixtures gives the fixture folder, making it on first use.
func fixtures(t *testing.T) string {
	t.Helper()
	fixOnce.Do(func() {
		statSources(moduleRoot)
		fixDir, fixErr = os.MkdirTemp(tmpRoot, "fixtures-")
		if fixErr == nil {
			fixErr = makeFixtures(fixDir)
		}
	})
	if fixErr != nil {
		t.Fatalf("making the fixtures: %v", fixErr)
	}
	return fixDir
}

func makeFixtures(dir string) error {
	sample := filepath.Join(moduleRoot, "sample_data")
	copies := []struct {
		from string
		n    int
		to   []string
	}{
		{"train", 8, []string{"data/train"}},
		{"val", 2, []string{"data/val"}},
		{"val", 3, []string{"data/test", "pairs"}},
	}
	for _, c := range copies {
		names, err := filepath.Glob(filepath.Join(sample, c.from, "images", "*.png"))
		if err != nil || len(names) < c.n+3 {
			return fmt.Errorf("sample_data/%s/images: %d images, %v", c.from, len(names), err)
		}
		// data/test and pairs take the last images of val, so that they are not data/val's.
		if c.from == "val" && c.n == 3 {
			names = names[len(names)-3:]
		}
		for _, to := range c.to {
			for _, p := range names[:c.n] {
				for _, kind := range []string{"images", "masks"} {
					src := filepath.Join(sample, c.from, kind, filepath.Base(p))
					if err := copyFile(src, filepath.Join(dir, to, kind, filepath.Base(p))); err != nil {
						return err
					}
				}
			}
		}
	}
	img := filepath.Join(dir, "img")
	good, err := os.ReadFile(filepath.Join(dir, "data/val/images", firstPNG(filepath.Join(dir, "data/val/images"))))
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"good.png":    good,
		"zero.png":    {},
		"trunc.png":   good[:len(good)*6/10],
		"header.png":  good[:33], // signature and IHDR: the size is known, no pixels
		"garbage.png": garbage(4096, 1),
		"text.png":    []byte("this is not an image\n"),
		"huge.png":    hugePNG(60000, 60000),
		"notiff.tif":  garbage(512, 2),
		"zero.tif":    {},
	}
	for name, b := range files {
		if err := writeFile(filepath.Join(img, name), b); err != nil {
			return err
		}
	}
	if err := copyFile(filepath.Join(dir, "data/val/images", firstPNG(filepath.Join(dir, "data/val/images"))), filepath.Join(img, "good2.png")); err != nil {
		return err
	}
	pngs := map[string]image.Image{
		"rgb.png":    pattern(64, 48, func(x, y int) color.Color { return color.RGBA{uint8(4 * x), uint8(5 * y), 90, 255} }),
		"gray16.png": pattern(64, 64, func(x, y int) color.Color { return color.Gray16{uint16(1000 * (x ^ y))} }),
		"small.png":  pattern(8, 8, func(x, y int) color.Color { return color.Gray{uint8(30 * x)} }),
		"mask64.png": pattern(64, 64, func(x, y int) color.Color { return color.Gray{uint8(255 * ((x / 16) % 2))} }),
	}
	for name, im := range pngs {
		var buf bytes.Buffer
		if err := png.Encode(&buf, im); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(img, name), buf.Bytes()); err != nil {
			return err
		}
	}
	stack := filepath.Join(img, "stack.tif")
	if err := tiffstack.WriteFile(stack, tiffstack.Deflate, func(w *tiffstack.Writer) error {
		for p := range 3 {
			if err := w.WritePage(pattern(64, 64, func(x, y int) color.Color { return color.Gray{uint8(x*3 + y + 40*p)} })); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	// A TIFF with its colour planes stored apart, as tifffile writes it (see tiffstack's testdata).
	if err := copyFile(filepath.Join(moduleRoot, "tiffstack/testdata/planar.tif"), filepath.Join(img, "planar.tif")); err != nil {
		return err
	}
	sb, err := os.ReadFile(stack)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(img, "truncstack.tif"), sb[:len(sb)/2]); err != nil {
		return err
	}

	// The tiny model, trained by the binary itself.
	m := filepath.Join(dir, "m")
	if r := runBin(dir, nil, 2*time.Minute, "train", "--data", "data", "--epochs", "1", "--base", "4", "--depth", "2",
		"--crop", "32", "--batch", "2", "-q", "--out", "m/model.safetensors"); r.code != 0 {
		return fmt.Errorf("training the tiny model: exit %d\n%s", r.code, r.out)
	}
	if r := runBin(dir, nil, time.Minute, "export", "m/model.safetensors", "--onnx", "m/model.onnx"); r.code != 0 {
		return fmt.Errorf("exporting the tiny model: exit %d\n%s", r.code, r.out)
	}
	if r := runBin(dir, nil, time.Minute, "predict", "-q", "--model", "m/model.safetensors", "--out", "pred", "data/test/images"); r.code != 0 {
		return fmt.Errorf("predicting data/test: exit %d\n%s", r.code, r.out)
	}
	return damagedModels(filepath.Join(m, "model.safetensors"), filepath.Join(dir, "models"))
}

// damagedModels writes, from the good model file, the model files the cases give as --model.
func damagedModels(good, dir string) error {
	b, err := os.ReadFile(good)
	if err != nil {
		return err
	}
	hdr := int(binary.LittleEndian.Uint64(b))
	files := map[string][]byte{
		"zero.safetensors":      {},
		"trunc4.safetensors":    b[:4],
		"trunc8.safetensors":    b[:8],
		"trunchdr.safetensors":  b[:8+hdr/2],
		"truncdata.safetensors": b[:8+hdr+(len(b)-8-hdr)/2],
		"trunclast.safetensors": b[:len(b)-1],
		"garbage.safetensors":   garbage(len(b), 3),
		"hugehdr.safetensors":   append(binary.LittleEndian.AppendUint64(nil, 1<<40), b[8:]...),
		"notjson.safetensors":   append(binary.LittleEndian.AppendUint64(nil, uint64(hdr)), bytes.Repeat([]byte{'x'}, len(b)-8)...),
		"extra.safetensors":     append(append([]byte(nil), b...), 0, 0, 0, 0),
	}
	for name, data := range files {
		if err := writeFile(filepath.Join(dir, name), data); err != nil {
			return err
		}
	}
	// Numbers a model must not hold: NaN and Inf weights, a negative running variance.
	edits := []struct {
		name, tensor string
		v            float32
	}{
		{"nan.safetensors", "weight", float32(math.NaN())},
		{"inf.safetensors", "weight", float32(math.Inf(1))},
		{"negvar.safetensors", "running_var", -1},
	}
	for _, e := range edits {
		f, err := weights.ReadFile(good)
		if err != nil {
			return err
		}
		done := false
		for _, name := range f.Names() {
			tn := f.Tensors[name]
			if strings.HasSuffix(name, "."+e.tensor) && tn.DType == weights.F32 && !done {
				data := append([]byte(nil), tn.Data...)
				binary.LittleEndian.PutUint32(data, math.Float32bits(e.v))
				tn.Data = data
				f.Tensors[name] = tn
				done = true
			}
		}
		if !done {
			return fmt.Errorf("%s: no tensor *.%s", good, e.tensor)
		}
		if err := weights.WriteFile(filepath.Join(dir, e.name), f); err != nil {
			return err
		}
	}
	return nil
}

func firstPNG(dir string) string {
	names, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	if len(names) == 0 {
		return "missing.png"
	}
	return filepath.Base(names[0])
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return writeFile(to, b)
}

func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// copyTree copies the regular files under from to to.
func copyTree(from, to string) error {
	return filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		return copyFile(p, filepath.Join(to, rel))
	})
}

func garbage(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 99))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func pattern(w, h int, c func(x, y int) color.Color) image.Image {
	im := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			im.Set(x, y, c(x, y))
		}
	}
	switch c(0, 0).(type) {
	case color.Gray:
		g := image.NewGray(im.Bounds())
		for y := range h {
			for x := range w {
				g.Set(x, y, c(x, y))
			}
		}
		return g
	case color.Gray16:
		g := image.NewGray16(im.Bounds())
		for y := range h {
			for x := range w {
				g.Set(x, y, c(x, y))
			}
		}
		return g
	}
	return im
}

// hugePNG is a PNG whose header claims w x h 8-bit gray pixels and whose data holds a few
// bytes: a reader that trusts the header allocates gigabytes.
func hugePNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 0, 0, 0, 0)
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x63, 0, 0, 0, 1, 0, 1})
	chunk("IEND", nil)
	return b.Bytes()
}

// mkfifo makes a named pipe at path.
func mkfifo(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return syscall.Mkfifo(path, 0o644)
}

// readOnlyDir makes dir a folder nothing can be written into: a mode 0555 folder for an
// ordinary user; as root, whom modes do not stop, a read-only tmpfs mount. It skips the test,
// saying why, when neither can be had.
func readOnlyDir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return
	}
	mount(t, dir, "ro,size=64k")
}

// fullDir makes dir a tmpfs of 64 KiB filled to the last byte: every write into it fails
// for want of space. It needs root (mount), and skips the test saying so otherwise.
func fullDir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("skipped: a full disk is made as a small tmpfs, and mount needs root")
	}
	mount(t, dir, "size=64k")
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	for {
		if _, err := f.Write(chunk[:1]); err != nil {
			break
		}
	}
	f.Close()
}

func mount(t *testing.T, dir, opts string) {
	t.Helper()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("skipped: cannot mount a tmpfs (-o %s) at %s: %v %s", opts, dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
}
