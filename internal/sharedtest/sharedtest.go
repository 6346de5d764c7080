// Package sharedtest finds the project's shared test material (../shared beside the module
// root: real data sets, PyTorch reference fixtures and models) for tests, and skips a test
// with a message that says so where it is absent. It holds, too, the checks that the tests
// of several packages make on what a run left on disk (SameTree) and on what must not
// block (Returns).
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

// Dir gives the shared folder, skipping the test when there is none.
func Dir(tb testing.TB) string {
	tb.Helper()
	root := Root()
	if root == "" {
		tb.Skip("skipped: ../shared (beside the module root) is missing, and SEGMENT_SHARED is not set")
	}
	return root
}

// Path gives rel (slash-separated) inside the shared folder, skipping the test when the
// folder or the path is absent.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	root := Root()
	if root == "" {
		tb.Skipf("skipped: ../shared (beside the module root) is missing, so %s is not available", rel)
	}
	p := filepath.Join(root, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("skipped: %s is missing from the shared folder %s", rel, root)
	}
	return p
}
