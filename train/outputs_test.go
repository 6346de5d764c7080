package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segment-dev/segment/internal/outlock"
)

// TestRunHoldsTheLock: while a run writes its files it holds their lock, which a second
// writer finds held by this process, and it releases it, removing the file, at the end,
// even when the run stops on an error.
func TestRunHoldsTheLock(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.safetensors")
	lock := PathsFor(out).Lock
	if lock != filepath.Join(filepath.Dir(out), "m.lock") {
		t.Fatalf("lock path %s", lock)
	}
	o := tiny(t, out)
	o.Epochs = 1
	var during error
	o.Hooks = []Hook{{EndEpoch: func(l *Loop) error { during = outlock.Check(lock); return nil }}}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var held *outlock.HeldError
	if !errors.As(during, &held) || held.PID != os.Getpid() {
		t.Errorf("the lock during the run: %v, want it held by this process", during)
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Errorf("lock file after the run: %v", err)
	}

	boom := errors.New("boom")
	o.Hooks = []Hook{{AfterStep: func(*Loop) error { return boom }}}
	if _, err := Run(context.Background(), o); err != boom {
		t.Fatalf("failing run: %v", err)
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Errorf("lock file after a failed run: %v", err)
	}
}

// TestCheckOutputs: the output set's problems are found without reading the data, each
// naming the path: an Out that is a folder, a file of the run that is a file of the data
// set (through a link too), a folder in place of a file of the run.
func TestCheckOutputs(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	img := filepath.Join(data, "images", "a.png")
	if err := os.MkdirAll(filepath.Dir(img), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, []byte("pixels"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(img, filepath.Join(dir, "link.curves.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "busy.log.csv"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ out, want string }{
		{data, data + " is a folder"},
		{img, img + ": the run would write its best model over this file of the data set"},
		{filepath.Join(dir, "link.safetensors"), "its curves over this file of the data set (" + img + ")"},
		{filepath.Join(dir, "busy.safetensors"), "busy.log.csv is not a regular file"},
	} {
		err := CheckOutputs(Options{Data: data, Out: c.out})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Out %s: %v, want %q", c.out, err, c.want)
		}
	}
	if err := CheckOutputs(Options{Data: data, Out: filepath.Join(dir, "new", "m.safetensors")}); err != nil {
		t.Errorf("a new folder: %v", err)
	}
}
