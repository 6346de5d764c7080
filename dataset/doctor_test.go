package dataset

import (
	"bytes"
	"image"
	"image/color"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDiagnoseShared(t *testing.T) {
	tests := []struct {
		name        string
		opts        Options
		pairs       map[string]int
		heldOut     int
		values      []int
		ignore      *int
		model       int
		lines       []string // lines the text must hold
		warningsHas string
	}{
		{"isbi2012-em-membranes", Options{}, map[string]int{"train": 24, "test": 6}, 2, []int{0, 255}, nil, 1,
			[]string{"train: 24 pairs", "test: 6 pairs", "classes    binary: 0 = background, 255 = foreground", "24 x 512x512", "values     0 22.5%  255 77.5%", "OK: ready to train (train 22, val 2 (held out of train), test 6)"}, ""},
		{"dsb2018-nuclei-256", Options{}, map[string]int{"train": 268, "test": 66}, 27, []int{0, 255}, nil, 1,
			[]string{"train: 268 pairs", "test: 66 pairs", "binary: 0 = background, 255 = foreground", "classes    background 92.6%, foreground 7.4%", "OK: ready to train"}, ""},
		{"camvid-segnet-subset", Options{Ignore: intp(11)}, map[string]int{"train": 70, "test": 30}, 7, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, intp(11), 11,
			[]string{"train: 70 pairs", "test: 30 pairs", "11 classes: values 0-10, ignore 11", "70 x PNG RGB 8-bit", "ignored 3.9%", "3 channels (RGB)", "OK: ready to train"},
			"classes cover under 1% of the train pixels"},
		{"camvid-segnet-subset", Options{}, map[string]int{"train": 70, "test": 30}, 7, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, nil, 12,
			[]string{"12 classes: values 0-11", "OK: ready to train"}, "give it as the ignore value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Diagnose(sharedData(t, tt.name), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !r.OK() {
				t.Errorf("problems: %v", r.Problems)
			}
			got := map[string]int{}
			for _, s := range r.Splits {
				got[s.Name] = s.Pairs
				if len(s.NoMask)+len(s.NoImage) > 0 || s.Empty > 0 {
					t.Errorf("%s: unmatched %v %v, %d empty", s.Name, s.NoMask, s.NoImage, s.Empty)
				}
			}
			if len(got) != len(tt.pairs) || !equalMaps(got, tt.pairs) || r.HeldOut != tt.heldOut {
				t.Errorf("pairs %v, held out %d; want %v, %d", got, r.HeldOut, tt.pairs, tt.heldOut)
			}
			if r.Classes == nil || !slices.Equal(r.Classes.Values, tt.values) || r.Classes.ModelClasses() != tt.model ||
				(r.Classes.Ignore == nil) != (tt.ignore == nil) || (tt.ignore != nil && *r.Classes.Ignore != *tt.ignore) {
				t.Errorf("classes %v", r.Classes)
			}
			var b bytes.Buffer
			if err := r.Write(&b); err != nil {
				t.Fatal(err)
			}
			for _, l := range tt.lines {
				if !strings.Contains(b.String(), l) {
					t.Errorf("report lacks %q", l)
				}
			}
			if tt.warningsHas != "" && !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, tt.warningsHas) }) {
				t.Errorf("no warning saying %q in %q", tt.warningsHas, r.Warnings)
			}
			if testing.Verbose() {
				t.Log("\n" + b.String())
			}
		})
	}
}

func equalMaps(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

func TestDiagnoseBroken(t *testing.T) {
	dir := t.TempDir()
	img, mask := grayImage(32, 32)
	_, small := grayImage(16, 16)
	good := pngBytes(t, img)
	goodSet(t, filepath.Join(dir, "train"), 4)
	goodSet(t, filepath.Join(dir, "val"), 2)
	tr := filepath.Join(dir, "train")
	writeFile(t, filepath.Join(tr, "images/trunc.png"), good[:len(good)/2])
	writeFile(t, filepath.Join(tr, "masks/trunc.png"), pngBytes(t, mask))
	writeFile(t, filepath.Join(tr, "images/lonely.png"), good)
	writeFile(t, filepath.Join(tr, "masks/orphan.png"), pngBytes(t, mask))
	writeFile(t, filepath.Join(tr, "images/small.png"), good)
	writeFile(t, filepath.Join(tr, "masks/small.png"), pngBytes(t, small))
	writeFile(t, filepath.Join(tr, "images/bomb.png"), bombPNG(100000, 100000))
	writeFile(t, filepath.Join(tr, "masks/bomb.png"), pngBytes(t, mask))
	writeFile(t, filepath.Join(tr, "images/lossy.png"), good)
	writeFile(t, filepath.Join(tr, "masks/lossy.jpg"), jpegBytes(t, mask))
	writeFile(t, filepath.Join(tr, "images/Thumbs.db"), []byte("x"))
	empty := image.NewGray(mask.Rect)
	writeFile(t, filepath.Join(tr, "images/empty.png"), good)
	writeFile(t, filepath.Join(tr, "masks/empty.png"), pngBytes(t, empty))

	r, err := Diagnose(dir, Options{Classes: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() {
		t.Fatal("report OK")
	}
	wantProblems := map[string]string{
		"images/trunc.png":  "truncated PNG",
		"images/lonely.png": "image without mask",
		"masks/orphan.png":  "mask without image",
		"masks/small.png":   "mask is 16x16, image small.png is 32x32",
		"images/bomb.png":   "100000x100000",
		"masks/lossy.jpg":   "JPEG is lossy",
	}
	var b bytes.Buffer
	r.Write(&b)
	text := b.String()
	for file, about := range wantProblems {
		path := filepath.Join(tr, file)
		found := false
		for _, e := range r.Problems {
			if e.Path == path && strings.Contains(e.Error(), about) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem naming %s with %q in %v", file, about, r.Problems)
		}
		if !strings.Contains(text, path+": ") {
			t.Errorf("report does not list %s", path)
		}
	}
	if len(r.Problems) != len(wantProblems) {
		t.Errorf("%d problems, want %d: %v", len(r.Problems), len(wantProblems), r.Problems)
	}
	// The JPEG mask leaves the classes undecided, so there is no warning about empty masks.
	for _, w := range []string{"1 mask is JPEG", "1 file skipped"} {
		if !slices.ContainsFunc(r.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("no warning %q in %q", w, r.Warnings)
		}
	}
	if !strings.Contains(text, "FAIL: training would fail: 6 problems") || !strings.Contains(text, "Thumbs.db") {
		t.Errorf("report:\n%s", text)
	}
	if testing.Verbose() {
		t.Log("\n" + text)
	}
}

func TestDiagnoseWarnings(t *testing.T) {
	dir := t.TempDir()
	img, _ := grayImage(64, 64)
	for i, fg := range []int{0, 1, 2, 100} { // foreground pixels per mask
		m := image.NewGray(img.Rect)
		for k := range fg {
			m.Pix[k] = 1
		}
		name := string(rune('a'+i)) + ".png"
		writeFile(t, filepath.Join(dir, "images", name), pngBytes(t, img))
		writeFile(t, filepath.Join(dir, "masks", name), pngBytes(t, m))
	}
	r, err := Diagnose(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Classes == nil || !slices.Equal(r.Classes.Values, []int{0, 1}) {
		t.Fatalf("problems %v, classes %v", r.Problems, r.Classes)
	}
	if r.Splits[0].Empty != 1 || r.Splits[0].Tiny != 2 {
		t.Errorf("%d empty, %d tiny", r.Splits[0].Empty, r.Splits[0].Tiny)
	}
	for _, w := range []string{"look black", "1 mask has no foreground", "2 masks have foreground under 0.1%", "only 0.63% of the train pixels"} {
		if !slices.ContainsFunc(r.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("no warning saying %q in %q", w, r.Warnings)
		}
	}
	// A mask with one value everywhere: nothing to learn.
	dir = t.TempDir()
	writeFile(t, filepath.Join(dir, "images/a.png"), pngBytes(t, img))
	writeFile(t, filepath.Join(dir, "masks/a.png"), pngBytes(t, image.NewGray(img.Rect)))
	r, err = Diagnose(dir, Options{})
	if err != nil || r.OK() || !strings.Contains(r.Problems[0].Error(), "nothing to learn") {
		t.Errorf("one-valued masks: %v, %v", err, r.Problems)
	}
	// Colour masks report colours.
	dir = t.TempDir()
	cm := image.NewRGBA(img.Rect)
	for i := range 64 * 64 {
		c := color.RGBA{200, 0, 0, 255}
		if i%3 == 0 {
			c = color.RGBA{0, 0, 200, 255}
		}
		cm.Set(i%64, i/64, c)
	}
	writeFile(t, filepath.Join(dir, "images/a.png"), pngBytes(t, img))
	writeFile(t, filepath.Join(dir, "masks/a.png"), pngBytes(t, cm))
	r, _ = Diagnose(dir, Options{})
	var b bytes.Buffer
	r.Write(&b)
	if !strings.Contains(b.String(), "#0000c8 = background, #c80000 = foreground (RGB colours)") {
		t.Errorf("colour report:\n%s", b.String())
	}
}

func TestDiagnoseNotADataSet(t *testing.T) {
	if _, err := Diagnose(filepath.Join(t.TempDir(), "nope"), Options{}); err == nil {
		t.Error("no error for a missing folder")
	}
	if _, err := Diagnose(t.TempDir(), Options{}); err == nil {
		t.Error("no error for an empty folder")
	}
}
