package sampledata

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/segment-dev/segment/dataset"
)

// files lists the PNG files under dir, as paths relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && filepath.Ext(p) == ".png" {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRegenerateIsIdentical(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("the committed files were made on amd64; %s may round floating point differently", runtime.GOARCH)
	}
	dir := t.TempDir()
	if err := Generate(dir, DefaultConfig); err != nil {
		t.Fatal(err)
	}
	got, want := files(t, dir), files(t, ".")
	if !slices.Equal(got, want) {
		t.Fatalf("generated %d files, %d committed: %v vs %v", len(got), len(want), got, want)
	}
	var total int64
	for _, f := range want {
		a, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from a fresh generation: run go generate ./sample_data", f)
		}
		total += int64(len(b))
	}
	if total > 2<<20 {
		t.Errorf("sample data takes %d bytes, want under 2 MiB", total)
	}
}

func TestSampleDataOpens(t *testing.T) {
	d, err := dataset.Open(".", dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Train) != DefaultConfig.Train || len(d.Val) != DefaultConfig.Val || d.ValHeldOut || d.Channels != 1 {
		t.Errorf("train %d, val %d (held out %v), channels %d", len(d.Train), len(d.Val), d.ValHeldOut, d.Channels)
	}
	if !slices.Equal(d.Classes.Values, []int{0, 255}) || d.Classes.ModelClasses() != 1 {
		t.Errorf("classes %v", d.Classes)
	}
	per, _ := d.ClassPixels(d.Train)
	if frac := float64(per[1]) / float64(per[0]+per[1]); frac < 0.04 || frac > 0.4 {
		t.Errorf("foreground is %.3f of the pixels", frac)
	}
}

func TestSeedChangesData(t *testing.T) {
	r1, r2 := rngFor(1), rngFor(2)
	a, _ := sample(r1, 32)
	b, _ := sample(r2, 32)
	if bytes.Equal(a.Pix, b.Pix) {
		t.Error("seeds 1 and 2 drew the same image")
	}
}
