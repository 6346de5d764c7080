package dataset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A folder inside images/ or masks/ is not read; Open and Diagnose say so, naming it
// (issue 18, finding 11), and the pairs beside it are read as before.
func TestNestedFolderWarned(t *testing.T) {
	dir := t.TempDir()
	goodSet(t, dir, 3)
	img, mask := grayImage(32, 32)
	writeFile(t, filepath.Join(dir, "images/batch2/d.png"), pngBytes(t, img))
	writeFile(t, filepath.Join(dir, "masks/batch2/d.png"), pngBytes(t, mask))
	if err := os.Mkdir(filepath.Join(dir, "images/.cache"), 0o755); err != nil { // hidden: not worth a word
		t.Fatal(err)
	}
	d, err := Open(dir, Options{ValFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Train) != 3 {
		t.Errorf("%d pairs, want the 3 beside the folder", len(d.Train))
	}
	want := []string{filepath.Join(dir, "images/batch2"), filepath.Join(dir, "masks/batch2")}
	check := func(who string, warnings []string) {
		t.Helper()
		var nested []string
		for _, w := range warnings {
			if strings.Contains(w, "folder not read") {
				nested = append(nested, w)
			}
		}
		if len(nested) != len(want) {
			t.Fatalf("%s warns %q, want one warning for each of %v", who, warnings, want)
		}
		for i, w := range want {
			if !strings.HasPrefix(nested[i], w+": ") {
				t.Errorf("%s's warning %q does not start with the folder %s", who, nested[i], w)
			}
		}
	}
	check("Open", d.Warnings)
	r, err := Diagnose(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	check("Diagnose", r.Warnings)

	clean := t.TempDir()
	goodSet(t, clean, 3)
	if d, err := Open(clean, Options{}); err != nil || len(d.Warnings) != 0 {
		t.Errorf("a data set without folders inside: warnings %q, %v; want none", d.Warnings, err)
	}
}
