//go:build linux

package predict

import (
	"context"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/segment-dev/segment/weights"
)

// rssChild names, in the environment of a child process of TestStackPeakRSS, the file that
// child predicts.
const rssChild = "SEGMENT_TEST_RSS_CHILD"

// TestStackPeakRSS measures what the operating system sees: the peak resident set of a
// process that predicts a 30-page 1024x1024 stack is at most 10% above that of a process
// that predicts one such page. The heap test beside it (TestStackMemoryBounded) counts the
// live heap; this one also counts the garbage that the collector lets pile up before it
// runs, which by default may reach the live heap's size again.
func TestStackPeakRSS(t *testing.T) {
	if path := os.Getenv(rssChild); path != "" {
		predictForRSS(t, path)
		return
	}
	if testing.Short() {
		t.Skip("predicts 31 pages of 1024x1024, in two processes")
	}
	const side = 1024
	dir := t.TempDir()
	stack := func(name string, n int) string {
		pages := make([]image.Image, n)
		for k := range pages {
			pages[k] = grayNoise(side, side, int64(k))
		}
		path := filepath.Join(dir, name)
		writeStack(t, path, pages...)
		return path
	}
	one, many := stack("one.tif", 1), stack("many.tif", 30)
	peak := func(path string) int64 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStackPeakRSS$", "-test.count=1")
		cmd.Env = append(os.Environ(), rssChild+"="+path)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("predicting %s in a child process: %v\n%s", path, err, out)
		}
		return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // kilobytes on Linux
	}
	peakOne, peakMany := peak(one), peak(many)
	if got := readStack(t, filepath.Join(dir, "many_mask.tif")); len(got) != 30 {
		t.Fatalf("%d pages, want 30", len(got))
	}
	t.Logf("peak resident set: 1 page %d MiB, 30 pages %d MiB", peakOne>>20, peakMany>>20)
	if peakMany > peakOne+peakOne/10 {
		t.Errorf("30 pages peak at %d MiB resident, 1 page at %d MiB: more than 10%% above", peakMany>>20, peakOne>>20)
	}
}

// predictForRSS is the child of TestStackPeakRSS: it predicts the file at path as the heap
// test does, beside the file.
func predictForRSS(t *testing.T, path string) {
	p, err := New(randomModel(t, 1, 1, 2, 4), Options{Tile: 256, Overlap: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	o := FileOptions{Instances: true, ObjectsCSV: filepath.Join(filepath.Dir(path), "objects.csv")}
	err = p.Files(context.Background(), []string{path}, weights.Meta{}, o, func(_ int, err error) {
		if err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}
