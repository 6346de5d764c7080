package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readFiles maps every file under dir but the folders skip names (relative path) to its bytes.
func readFiles(t *testing.T, dir string, skip ...string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			for _, s := range skip {
				if rel == s {
					return filepath.SkipDir
				}
			}
			return nil
		}
		b, err := os.ReadFile(p)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestMergeParts: a report written in three parts, the images shared among them out of
// order, and merged, is the report one Writer makes of every image, file for file and byte
// for byte (page, curves, pictures), for a binary and a multi-class task with colours;
// merging again gives it again, and the parts stay in the report.
func TestMergeParts(t *testing.T) {
	training := &Training{Config: []byte(`{"base":16}`), Summary: []byte(`{"epochs":2}`), Epoch: []float64{1, 2},
		Loss: []float64{0.5, math.Inf(1)}, ValDice: []float64{0.7, math.NaN()}, ValIoU: []float64{0.6, 0.65}}
	for _, k := range []int{2, 4} {
		t.Run(fmt.Sprint(k, " classes"), func(t *testing.T) {
			ims, sum := syntheticImages(t, uint64(k), 7, 40, 30, k, func(i int) string { return fmt.Sprintf("im<%d>", i) })
			classes := classesOf(k)
			if k > 2 {
				classes[2].Colour = color.RGBA{10, 200, 30, 255}
			}
			for i := range ims {
				ims[i].ID = i + 1
			}
			one := filepath.Join(t.TempDir(), "one")
			if err := Write(one, Report{Title: "T", Classes: classes, Summary: sum, Training: training, Images: ims}); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "rep")
			shares := [][]int{{5, 0, 3}, {6, 1}, {2, 4}}
			var parts []*Part
			for p, share := range shares {
				w, err := CreatePart(dir, fmt.Sprintf("shard-%d", p), "T", classes)
				if err != nil {
					t.Fatal(err)
				}
				for _, i := range share {
					if err := w.Add(ims[i]); err != nil {
						t.Fatal(err)
					}
				}
				token, err := w.FinishPart(training)
				if err != nil {
					t.Fatal(err)
				}
				part, err := ReadPart(filepath.Join(dir, fmt.Sprintf("shard-%d", p)))
				if err != nil || part.Token != token {
					t.Fatalf("part %d read back: %v, token %q, FinishPart gave %q", p, err, part.Token, token)
				}
				parts = append(parts, part)
			}
			for range 2 {
				if err := Merge(dir, parts, sum); err != nil {
					t.Fatal(err)
				}
				want, got := readFiles(t, one), readFiles(t, dir, "shard-0", "shard-1", "shard-2")
				if len(got) != len(want) {
					t.Errorf("%d files, one Writer's report %d", len(got), len(want))
				}
				for name, b := range want {
					if !bytes.Equal(b, got[name]) {
						t.Errorf("%s differs from one Writer's", name)
					}
				}
				if _, err := os.Stat(filepath.Join(dir, "shard-1", partFile)); err != nil {
					t.Errorf("the part is not kept in the report: %v", err)
				}
			}
		})
	}
}

// TestMergeBadParts: parts that disagree, number an image twice or are not parts fail,
// naming the part.
func TestMergeBadParts(t *testing.T) {
	ims, sum := syntheticImages(t, 3, 3, 20, 20, 2, func(i int) string { return fmt.Sprint(i) })
	for i := range ims {
		ims[i].ID = i + 1
	}
	dir := filepath.Join(t.TempDir(), "rep")
	part := func(name, title string, idx ...int) *Part {
		t.Helper()
		w, err := CreatePart(dir, name, title, binaryClasses)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range idx {
			if err := w.Add(ims[i]); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.FinishPart(nil); err != nil {
			t.Fatal(err)
		}
		p, err := ReadPart(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, c := part("a", "T", 0, 1), part("b", "T", 1, 2), part("c", "other", 2)
	for _, tc := range []struct {
		name  string
		parts []*Part
		want  string
	}{
		{"an image twice", []*Part{a, b}, "rep/b: image 2 (1) is in"},
		{"another title", []*Part{a, c}, "rep/c: another title"},
	} {
		if err := Merge(dir, tc.parts, sum); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err == nil {
		t.Error("a failed merge wrote the page")
	}
	os.WriteFile(filepath.Join(dir, "junk.txt"), nil, 0o644)
	if _, err := CreatePart(dir, "d", "T", binaryClasses); err == nil || !strings.Contains(err.Error(), "junk.txt") {
		t.Errorf("a part in a folder of other files: %v", err)
	}
	os.Remove(filepath.Join(dir, "junk.txt"))
	os.WriteFile(filepath.Join(dir, "a", partFile), []byte("{"), 0o644)
	if _, err := ReadPart(filepath.Join(dir, "a")); err == nil || !strings.Contains(err.Error(), "rep/a/part.json: not a part") {
		t.Errorf("a damaged part: %v", err)
	}
	if _, err := ReadPart(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "rep/nope: no part") {
		t.Errorf("a missing part: %v", err)
	}
}
