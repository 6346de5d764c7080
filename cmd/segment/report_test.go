package main

import (
	"bytes"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// reportPictures decodes the full-size pictures of one KIND (image, truth, pred, error) of
// the report at dir.
func reportPictures(t *testing.T, dir, kind string) []image.Image {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "img", "*-"+kind+".png"))
	if err != nil {
		t.Fatal(err)
	}
	var out []image.Image
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		im, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, im)
	}
	return out
}

// TestEvalReportData evaluates the sample data through a model file with a training log
// beside it, with and without --report: eval.csv and eval.json are the same bytes, and the
// report has a row per image, the curves of the log and the model's configuration.
func TestEvalReportData(t *testing.T) {
	dir := t.TempDir()
	model := sampleModelFile(t, dir)
	log := "epoch,steps,time_s,loss,val_dice,val_iou,lr,images_per_s\n1,10,1,0.9,0.5,0.4,0.001,10\n2,20,2,0.5,0.8,0.7,0.001,10\n3,30,3,0.3,,,0.001,10\n"
	if err := os.WriteFile(filepath.Join(dir, "sample.log.csv"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	plain, withReport, rep := filepath.Join(dir, "plain"), filepath.Join(dir, "with"), filepath.Join(dir, "report")
	for _, args := range [][]string{
		{"eval", "--model", model, "--data", "../../sample_data/val", "--out", plain, "-q"},
		{"eval", "--model", model, "--data", "../../sample_data/val", "--out", withReport, "-q", "--report", rep},
	} {
		if code, _, errOut := runCmd(args...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
	}
	for _, name := range []string{"eval.csv", "eval.json"} {
		a, err := os.ReadFile(filepath.Join(plain, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(withReport, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs with --report:\n%s\nwithout:\n%s", name, b, a)
		}
	}
	page, err := os.ReadFile(filepath.Join(rep, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(reportPictures(t, rep, "image")); n != 8 {
		t.Errorf("the report has %d images, sample_data/val 8", n)
	}
	for i := range 8 {
		if name := "000" + string(rune('0'+i)); !bytes.Contains(page, []byte(name)) {
			t.Errorf("the page does not name image %s", name)
		}
	}
	if _, err := os.Stat(filepath.Join(rep, "curves.png")); err != nil {
		t.Errorf("no training curves from sample.log.csv: %v", err)
	}
	if !bytes.Contains(page, []byte("base_channels")) {
		t.Errorf("the page does not show the model's configuration")
	}
}

// TestReportCommand writes the report of existing masks with their pictures: each row's
// picture is the image of its name, and the command refuses missing flags.
func TestReportCommand(t *testing.T) {
	pred, gt := handMasks(t)
	images := filepath.Join(t.TempDir(), "images")
	writeGrayPNG(t, filepath.Join(images, "a.png"), 4, 4, bytes.Repeat([]byte{10}, 16))
	writeGrayPNG(t, filepath.Join(images, "b.png"), 4, 4, bytes.Repeat([]byte{20}, 16))
	out := filepath.Join(t.TempDir(), "rep")
	code, stdout, errOut := runCmd("report", "--pred", pred, "--gt", gt, "--images", images, "--out", out, "-q", "--mask-values", "0,255")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, filepath.Join(out, "index.html")) {
		t.Errorf("stdout does not say where the report is: %q", stdout)
	}
	seen := map[uint8]bool{}
	for _, im := range reportPictures(t, out, "image") {
		r, _, _, _ := im.At(1, 1).RGBA()
		seen[uint8(r>>8)] = true
	}
	if len(seen) != 2 || !seen[10] || !seen[20] {
		t.Errorf("the report's pictures have gray values %v, want the images' 10 and 20", seen)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(out), "eval.json")); err == nil {
		t.Errorf("segment report wrote eval.json")
	}
	if code, _, _ := runCmd("report", "--pred", pred, "--gt", gt); code != exitUsage {
		t.Errorf("report without --out: exit %d, want %d", code, exitUsage)
	}
}

// TestEvalReportMasks: scoring existing masks, eval.csv and eval.json are the same bytes
// with --report, and the report's pictures come from the ground truth's data set images/.
func TestEvalReportMasks(t *testing.T) {
	pred, gt := handMasks(t)
	// gt as a data set folder: masks/ and images/
	data := t.TempDir()
	if err := os.Rename(gt, filepath.Join(data, "masks")); err != nil {
		t.Fatal(err)
	}
	writeGrayPNG(t, filepath.Join(data, "images", "a.png"), 4, 4, bytes.Repeat([]byte{30}, 16))
	writeGrayPNG(t, filepath.Join(data, "images", "b.png"), 4, 4, bytes.Repeat([]byte{40}, 16))
	plain, with, rep := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "r")
	for _, args := range [][]string{
		{"eval", "--pred", pred, "--gt", data, "--out", plain, "-q", "--mask-values", "0,255"},
		{"eval", "--pred", pred, "--gt", data, "--out", with, "-q", "--mask-values", "0,255", "--report", rep},
	} {
		if code, _, errOut := runCmd(args...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
	}
	for _, name := range []string{"eval.csv", "eval.json"} {
		a, _ := os.ReadFile(filepath.Join(plain, name))
		b, _ := os.ReadFile(filepath.Join(with, name))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs with --report:\n%s\nwithout:\n%s", name, b, a)
		}
	}
	seen := map[uint8]bool{}
	for _, im := range reportPictures(t, rep, "image") {
		r, _, _, _ := im.At(0, 0).RGBA()
		seen[uint8(r>>8)] = true
	}
	if len(seen) != 2 || !seen[30] || !seen[40] {
		t.Errorf("the report's pictures have gray values %v, want the data set images' 30 and 40", seen)
	}
}
