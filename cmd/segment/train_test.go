package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestBuiltInSampleData unpacks the sample data built into the binary, as train does when it
// runs far from a checkout, and finds every file of the folder.
func TestBuiltInSampleData(t *testing.T) {
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	if err := os.Chdir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	dir, cleanup, err := sampleData()
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	for _, sub := range []string{"train/images", "train/masks", "val/images", "val/masks"} {
		got, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadDir(filepath.Join(wd, "../../sample_data", sub))
		if len(got) != len(want) || len(got) == 0 {
			t.Errorf("%s: %d files unpacked, %d in the folder", sub, len(got), len(want))
		}
	}
	cleanup()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cleanup left %s", dir)
	}
}
