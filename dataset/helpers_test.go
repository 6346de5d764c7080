package dataset

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedData gives the path of a data set in ../shared/data, next to the module root,
// or skips the test when it is not there.
func sharedData(tb testing.TB, name string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("no go.mod above the test directory, so no ../shared to find")
		}
		dir = parent
	}
	p := filepath.Join(filepath.Dir(dir), "shared", "data", name)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("../shared is missing (no %s): the shared data sets are not available", p)
	}
	return p
}

func intp(v int) *int { return &v }
