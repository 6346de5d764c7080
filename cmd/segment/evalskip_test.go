package main

import (
	"encoding/csv"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segment-dev/segment/tiffstack"
)

// eval --data scores every good pair and lists the bad ones (issue 18, finding 9; issue 15: a
// stack mask a page short): exit status 1, with eval.csv and eval.json complete for the
// good pairs, and eval.json naming each skipped file with its problem.
func TestEvalDataSkipsBadPairs(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	copySampleVal(t, data)
	// A truncated mask, and a mask of another size.
	mask := filepath.Join(data, "masks/0002.png")
	b, err := os.ReadFile(mask)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mask, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	writeGrayPNG(t, filepath.Join(data, "masks/0005.png"), 64, 64, nil)
	// A stack of two pages whose mask has one.
	page := func(p string) image.Image {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	writeTIFF := func(path string, pages ...image.Image) {
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
	im0, im1 := page(filepath.Join(data, "images/0000.png")), page(filepath.Join(data, "images/0001.png"))
	writeTIFF(filepath.Join(data, "images/vol.tif"), im0, im1)
	writeTIFF(filepath.Join(data, "masks/vol.tif"), page(filepath.Join(data, "masks/0000.png")))

	// A folder inside images/ is not read, and said so (issue 18, finding 11).
	writeGrayPNG(t, filepath.Join(data, "images/extra/0009.png"), 8, 8, nil)

	out := filepath.Join(dir, "out")
	code, _, errOut := runWithin(t, 2*time.Minute, "eval", "--data", data, "--out", out, "-q")
	if w := "segment eval: warning: " + filepath.Join(data, "images/extra") + ": folder not read"; strings.Count(errOut, w) != 1 {
		t.Errorf("stderr %q does not hold %q once", errOut, w)
	}
	if code != exitFailure {
		t.Fatalf("exit %d, want 1; stderr %s", code, errOut)
	}
	bad := []string{filepath.Join(data, "masks/0002.png"), filepath.Join(data, "masks/0005.png"), filepath.Join(data, "images/vol.tif#p2")}
	for _, f := range bad {
		if n := strings.Count(errOut, f+": "); n != 1 {
			t.Errorf("%s reported %d times in %q, want once", f, n, errOut)
		}
	}
	if !strings.Contains(errOut, "3 of 10 pairs could not be scored") {
		t.Errorf("stderr %q does not count 3 of 10 pairs unscored", errOut)
	}
	var r struct {
		Images  int `json:"images"`
		Failed  int `json:"failed"`
		Skipped []struct {
			File, Problem string
		} `json:"skipped"`
	}
	jb, err := os.ReadFile(filepath.Join(out, "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(jb, &r); err != nil {
		t.Fatal(err)
	}
	if r.Images != 7 || r.Failed != 3 || len(r.Skipped) != 3 {
		t.Fatalf("eval.json: %d images, %d failed, skipped %+v; want 7 scored (6 files and vol#p1), 3 skipped", r.Images, r.Failed, r.Skipped)
	}
	for i, f := range []string{bad[2], bad[1], bad[0]} { // pairing, sizes, pixels: the order of the checks
		if r.Skipped[i].File != f || r.Skipped[i].Problem == "" {
			t.Errorf("skipped[%d] = %+v, want %s with its problem", i, r.Skipped[i], f)
		}
	}
	cf, err := os.Open(filepath.Join(out, "eval.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	rows, err := csv.NewReader(cf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	images := map[string]bool{}
	for _, row := range rows[1:] {
		images[row[0]] = true
	}
	for _, want := range []string{"0000", "0001", "0003", "0004", "0006", "0007", "vol#p1"} {
		if !images[want] {
			t.Errorf("eval.csv has no rows for %s (it has %v)", want, images)
		}
	}
	if len(images) != 7 {
		t.Errorf("eval.csv scores %d images, want 7", len(images))
	}

	// In shards, the pairs skipped before the split are listed once (by shard 0), and the
	// merge lists them all.
	parts, merged := filepath.Join(dir, "parts"), filepath.Join(dir, "merged")
	for _, sh := range []string{"0/2", "1/2"} {
		if code, _, errOut := runWithin(t, 2*time.Minute, "eval", "--data", data, "--out", parts, "-q", "--shard", sh); code != exitFailure && code != exitOK {
			t.Fatalf("shard %s: exit %d: %s", sh, code, errOut)
		}
	}
	runWithin(t, time.Minute, "eval", "--merge", parts, "--out", merged)
	var m struct {
		Images  int `json:"images"`
		Failed  int `json:"failed"`
		Skipped []struct {
			File, Problem string
		} `json:"skipped"`
	}
	mb, err := os.ReadFile(filepath.Join(merged, "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(mb, &m); err != nil {
		t.Fatal(err)
	}
	if m.Images != 7 || m.Failed != 3 || len(m.Skipped) != 3 {
		t.Fatalf("merged eval.json: %d images, %d failed, skipped %+v; want 7, 3 and the 3 of one run", m.Images, m.Failed, m.Skipped)
	}
	for i := range m.Skipped {
		if m.Skipped[i] != r.Skipped[i] {
			t.Errorf("merged skipped[%d] = %+v, one run's %+v", i, m.Skipped[i], r.Skipped[i])
		}
	}
}

// eval --pred/--gt lists its skipped masks in eval.json too: one without a partner, one
// that cannot be scored, each with its file and problem.
func TestEvalMasksSkippedListed(t *testing.T) {
	pred, gt := handMasks(t)
	writeGrayPNG(t, filepath.Join(pred, "c_mask.png"), 4, 4, nil)
	writeGrayPNG(t, filepath.Join(pred, "d_mask.png"), 3, 3, nil)
	writeGrayPNG(t, filepath.Join(gt, "d.png"), 4, 4, nil)
	out := t.TempDir()
	code, _, errOut := runWithin(t, time.Minute, "eval", "--pred", pred, "--gt", gt, "--out", out, "-q")
	if code != exitFailure {
		t.Fatalf("exit %d, want 1; stderr %s", code, errOut)
	}
	var r struct {
		Skipped []struct{ File, Problem string } `json:"skipped"`
	}
	jb, err := os.ReadFile(filepath.Join(out, "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(jb, &r); err != nil {
		t.Fatal(err)
	}
	want := []struct{ file, problem string }{
		{filepath.Join(pred, "c_mask.png"), "no ground-truth mask for this prediction"},
		{filepath.Join(pred, "d_mask.png"), "prediction is 3x3"},
	}
	if len(r.Skipped) != len(want) {
		t.Fatalf("skipped %+v, want %v", r.Skipped, want)
	}
	for i, w := range want {
		if r.Skipped[i].File != w.file || !strings.HasPrefix(r.Skipped[i].Problem, w.problem) {
			t.Errorf("skipped[%d] = %+v, want %s: %s...", i, r.Skipped[i], w.file, w.problem)
		}
	}
}
