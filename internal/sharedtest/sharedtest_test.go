package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEnvOverrides checks that SEGMENT_SHARED decides where the shared folder is, and that
// Path finds a file there.
func TestEnvOverrides(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SEGMENT_SHARED", dir)
	if got := Root(); got != dir {
		t.Errorf("Root() = %q with SEGMENT_SHARED=%q", got, dir)
	}
	if got := Dir(t); got != dir {
		t.Errorf("Dir() = %q with SEGMENT_SHARED=%q", got, dir)
	}
	if got, want := Path(t, "data/x"), filepath.Join(dir, "data", "x"); got != want {
		t.Errorf("Path(data/x) = %q, want %q", got, want)
	}
}

// TestPathSkipsMissing checks that a path absent from the shared folder skips the test
// instead of failing it or handing back a path that does not exist.
func TestPathSkipsMissing(t *testing.T) {
	t.Setenv("SEGMENT_SHARED", t.TempDir())
	var reached bool
	t.Run("missing", func(t *testing.T) {
		Path(t, "no/such/file")
		reached = true
	})
	if reached {
		t.Error("Path went on past a missing file")
	}
}
