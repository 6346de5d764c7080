package main

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segment-dev/segment/weights"
)

// writeBands writes a data set of three classes in horizontal bands (values 0, 1, 2 from the
// top, coloured apart in the images) with n images in each of train/ and test/.
func writeBands(t *testing.T, dir string, n int) {
	t.Helper()
	for _, split := range []string{"train", "test"} {
		for _, sub := range []string{"images", "masks"} {
			if err := os.MkdirAll(filepath.Join(dir, split, sub), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			img, mask := image.NewRGBA(image.Rect(0, 0, 48, 48)), image.NewGray(image.Rect(0, 0, 48, 48))
			for y := range 48 {
				for x := range 48 {
					c := uint8((y + i) / 17 % 3)
					mask.SetGray(x, y, color.Gray{c})
					img.Set(x, y, color.RGBA{100 * c, uint8(3 * x), uint8(50 + 40*c), 255})
				}
			}
			name := fmt.Sprintf("%s%d.png", split, i)
			for sub, m := range map[string]image.Image{"images": img, "masks": mask} {
				if err := os.WriteFile(filepath.Join(dir, split, sub, name), pngBytes(t, m), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// TestClassNames: names given to train are kept in the model file and name the classes in
// training's per-class line, in eval's table and eval.json, and for --overlay-class; names
// that do not fit the classes are refused with the reason.
func TestClassNames(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "bands")
	writeBands(t, data, 4)
	model := filepath.Join(dir, "m.safetensors")
	names := []string{"sky", "road", "Traffic sign"}
	code, stdout, errOut := runCmd("train", "--data", data, "--epochs", "1", "--depth", "2", "--base", "4",
		"--batch", "2", "--crop", "32", "--class-names", "sky, road,Traffic sign", "--out", model, "-q")
	if code != exitOK {
		t.Fatalf("train: exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "sky, road, Traffic sign") || !strings.Contains(stdout, "Traffic sign:") {
		t.Errorf("train's output does not name the classes:\n%s", stdout)
	}
	_, meta, err := weights.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(meta.Classes.Names, names) {
		t.Fatalf("the model file names the classes %q, want %q", meta.Classes.Names, names)
	}

	if code, stdout, errOut := runCmd("inspect", model); code != exitOK || !strings.Contains(stdout, "class names: sky, road, Traffic sign\n") {
		t.Errorf("inspect: exit %d, %s%s; want the class names", code, stdout, errOut)
	}

	out := filepath.Join(dir, "eval")
	code, stdout, errOut = runCmd("eval", "--model", model, "--data", filepath.Join(data, "test"), "--out", out, "-q")
	if code != exitOK {
		t.Fatalf("eval: exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "Traffic sign") {
		t.Errorf("eval's table does not name the classes:\n%s", stdout)
	}
	var report struct {
		Classes []struct{ Name string } `json:"classes"`
	}
	b, err := os.ReadFile(filepath.Join(out, "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &report); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range report.Classes {
		got = append(got, c.Name)
	}
	if !slices.Equal(got, names) {
		t.Errorf("eval.json names the classes %q, want %q", got, names)
	}

	// Names given to eval win over the model's.
	code, stdout, errOut = runCmd("eval", "--model", model, "--data", filepath.Join(data, "test"), "--out", filepath.Join(dir, "eval2"), "-q",
		"--class-names", "up,middle,down")
	if code != exitOK || !strings.Contains(stdout, "middle") {
		t.Errorf("eval --class-names: exit %d, table\n%s%s", code, stdout, errOut)
	}

	img := filepath.Join(data, "test", "images", "test0.png")
	code, _, errOut = runCmd("predict", "--model", model, "--out", filepath.Join(dir, "pred"), "--overlay", "--overlay-class", "traffic SIGN", img)
	if code != exitOK {
		t.Errorf("predict --overlay-class by name: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCmd("predict", "--model", model, "--out", filepath.Join(dir, "pred2"), "--overlay", "--overlay-class", "car", img)
	if code == exitOK || !strings.Contains(errOut, `"Traffic sign"`) {
		t.Errorf("predict --overlay-class car: exit %d, want an error listing the classes: %s", code, errOut)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--data", data, "--class-names", "sky,road", "--out", filepath.Join(dir, "x.safetensors")}, "2 class names for 3 classes"},
		{[]string{"train", "--data", data, "--class-names", "sky,Sky,car", "--out", filepath.Join(dir, "x.safetensors")}, `class names "sky" and "Sky" are the same name`},
		{[]string{"train", "--data", data, "--mask-values", "0,1,2", "--class-names", "a,b", "--out", filepath.Join(dir, "x.safetensors")}, "--class-names: 2 class names for 3 classes"},
		{[]string{"eval", "--model", model, "--data", filepath.Join(data, "test"), "--out", filepath.Join(dir, "e3"), "--class-names", "a,b"}, "2 class names for 3 classes"},
	} {
		code, _, errOut := runCmd(append(tt.args, "-q")...)
		if code == exitOK || !strings.Contains(errOut, tt.want) || strings.Contains(errOut, "goroutine") {
			t.Errorf("%v: exit %d, %q; want a failure saying %q", tt.args, code, errOut, tt.want)
		}
	}
}
