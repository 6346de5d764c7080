package dataset_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segment-dev/segment/dataset"
)

// TestDiagnoseFiguresByHand recomputes the figures ExampleDiagnose shows for the sample
// data from the PNG files themselves (image/png, plain sums), so that the example's
// expected output is checked against something other than Diagnose's own earlier output:
// each split's mean intensity and range on the 0-1 scale, and the share of each mask value.
func TestDiagnoseFiguresByHand(t *testing.T) {
	r, err := dataset.Diagnose("../sample_data", dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	r.Write(&buf)
	report := buf.String()
	for _, split := range []string{"train", "val"} {
		var sum float64
		var n, fg, total int
		lo, hi := 255, 0
		names, err := filepath.Glob(filepath.Join("../sample_data", split, "images", "*.png"))
		if err != nil || len(names) == 0 {
			t.Fatalf("committed sample data: no images in %s (%v)", split, err)
		}
		for _, name := range names {
			img := decodeGray(t, name)
			for _, v := range img.Pix {
				sum += float64(v)
				lo, hi = min(lo, int(v)), max(hi, int(v))
			}
			n += len(img.Pix)
			mask := decodeGray(t, filepath.Join("../sample_data", split, "masks", filepath.Base(name)))
			for _, v := range mask.Pix {
				switch v {
				case 255:
					fg++
				case 0:
				default:
					t.Fatalf("%s: mask value %d, want 0 or 255", name, v)
				}
			}
			total += len(mask.Pix)
		}
		want := []string{
			fmt.Sprintf("%s: %d pairs", split, len(names)),
			fmt.Sprintf("intensity  mean %.3f, range %.3f-%.3f (0-1 scale)", sum/float64(n)/255, float64(lo)/255, float64(hi)/255),
			fmt.Sprintf("values     0 %.1f%%  255 %.1f%%", 100*float64(total-fg)/float64(total), 100*float64(fg)/float64(total)),
		}
		for _, w := range want {
			if !strings.Contains(report, w) {
				t.Errorf("%s: the report lacks %q, computed from the files:\n%s", split, w, report)
			}
		}
	}
}

// decodeGray reads an 8-bit gray PNG of the committed sample data.
func decodeGray(t *testing.T, path string) *image.Gray {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("committed sample data: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("committed sample data: %s: %v", path, err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("%s: %T, want 8-bit gray", path, img)
	}
	return g
}
