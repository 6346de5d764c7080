// Package sharedtest finds the project's shared test material (../shared beside the module
// root: real data sets, PyTorch reference fixtures and models) for tests, and skips a test
// with a message that says so where it is absent.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Root gives the shared folder, or "" when there is none. SEGMENT_SHARED overrides the
// place it is looked for.
func Root() string {
	if d := os.Getenv("SEGMENT_SHARED"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			s := filepath.Join(filepath.Dir(dir), "shared")
			if fi, err := os.Stat(s); err == nil && fi.IsDir() {
				return s
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Path gives rel inside the shared folder, skipping the test when the folder or the path
// is absent.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	root := Root()
	if root == "" {
		tb.Skipf("skipped: ../shared (beside the module root) is missing, so %s is not available", rel)
	}
	p := filepath.Join(root, rel)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("skipped: %s is missing from ../shared", rel)
	}
	return p
}
