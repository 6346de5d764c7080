package main

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segment-dev/segment/objects"
	"github.com/segment-dev/segment/tiffstack"
)

func stackPages(t *testing.T, path string) int {
	t.Helper()
	s, err := tiffstack.Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range s.Len() {
		if _, err := s.Page(i); err != nil {
			t.Fatal(err)
		}
	}
	return s.Len()
}

// segment predict on a 3-page stack writes 3-page TIFF outputs, or a PNG per page with
// --format png, and with --instances a label stack and objects.csv rows for every page.
func TestPredictStack(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "cells.tif")
	err := tiffstack.WriteFile(in, tiffstack.Deflate, func(w *tiffstack.Writer) error {
		for k := range 3 {
			g := image.NewGray(image.Rect(0, 0, 48, 40))
			for i := range g.Pix {
				g.Pix[i] = uint8(i*(k+3)) ^ uint8(i/48*40)
			}
			if err := w.WritePage(g); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, stdout, errOut := runCmd("predict", "-q", "--out", out, "--instances", "--min-size", "2", "--fill-holes", in)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, name := range []string{"cells_mask.tif", "cells_instances.tif"} {
		if n := stackPages(t, filepath.Join(out, name)); n != 3 {
			t.Errorf("%s: %d pages, want 3", name, n)
		}
	}
	if !strings.Contains(stdout, filepath.Join(out, "objects.csv")) {
		t.Errorf("stdout does not name objects.csv:\n%s", stdout)
	}
	rows := readCSV(t, filepath.Join(out, "objects.csv"))
	if strings.Join(rows[0], ",") != strings.Join(objects.CSVHeader, ",") {
		t.Errorf("header %v", rows[0])
	}
	for _, r := range rows[1:] {
		if r[0] != in || r[1] < "1" || r[1] > "3" {
			t.Errorf("row %v: want the stack and a page from 1 to 3", r)
		}
	}

	pages := map[string]bool{}
	for _, r := range rows[1:] {
		pages[r[1]] = true
	}
	if len(pages) != 3 {
		t.Errorf("objects.csv has objects of pages %v, want of all 3", pages)
	}
	// The stack's own table (cells_objects.csv), gathered into objects.csv, holds the rows
	// that the pages' tables of --format png hold, in the same order; a re-run, which
	// skips the stack, gathers the same.
	png := filepath.Join(dir, "png")
	if code, _, errOut := runCmd("predict", "-q", "--out", png, "--format", "png", "--instances", "--min-size", "2", "--fill-holes", in); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, name := range []string{"cells_p0001_mask.png", "cells_p0002_mask.png", "cells_p0003_mask.png", "cells_p0002_objects.csv"} {
		if _, err := os.Stat(filepath.Join(png, name)); err != nil {
			t.Error(err)
		}
	}
	code, stdout, errOut = runCmd("predict", "-q", "--out", out, "--instances", "--min-size", "2", "--fill-holes", in)
	if code != exitOK || !strings.Contains(stdout, "skipped 1 images") {
		t.Fatalf("re-run: exit %d, %q %s", code, stdout, errOut)
	}
	want, _ := os.ReadFile(filepath.Join(png, "objects.csv"))
	for _, f := range []string{filepath.Join(out, "objects.csv"), filepath.Join(out, "cells_objects.csv")} {
		if got, err := os.ReadFile(f); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from the tables of the pages of --format png (%v):\n%s\n%s", f, err, got, want)
		}
	}
	if code, _, errOut := runCmd("predict", "-q", "--format", "jpeg", in); code != exitUsage || !strings.Contains(errOut, "--format") {
		t.Errorf("--format jpeg: exit %d: %s", code, errOut)
	}
}

// eval --pred/--gt pairs two mask stacks page by page: the pages both have are scored, and
// a page of the prediction that the ground truth lacks is a problem naming the page.
func TestEvalStacks(t *testing.T) {
	dir := t.TempDir()
	write := func(path string, n int) {
		err := tiffstack.WriteFile(path, tiffstack.None, func(w *tiffstack.Writer) error {
			for k := range n {
				g := image.NewGray(image.Rect(0, 0, 10, 10))
				copy(g.Pix, maskOf(10, 10, [4]int{1, 1, 3 + k, 4}))
				if err := w.WritePage(g); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	pred, gt := filepath.Join(dir, "vol_mask.tif"), filepath.Join(dir, "vol.tif")
	write(pred, 3)
	write(gt, 2)
	out := t.TempDir()
	code, _, errOut := runCmd("eval", "--pred", pred, "--gt", gt, "--out", out, "-q", "--mask-values", "0,255")
	if code != exitFailure || !strings.Contains(errOut, pred+"#p3: no ground truth for this page") {
		t.Fatalf("exit %d: %s; want page 3 of the prediction named", code, errOut)
	}
	rows := readCSV(t, filepath.Join(out, "eval.csv"))
	var names []string
	for _, r := range rows[1:] {
		if r[2] == "255" {
			names = append(names, r[0]+"="+r[8])
		}
	}
	if strings.Join(names, " ") != "vol#p1=1 vol#p2=1" {
		t.Errorf("foreground Dice per page %v, want pages 1 and 2 scored, each 1", names)
	}
}
