package predict

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/segment-dev/segment/weights"
)

// peakHeap runs f while sampling the heap in use, and returns the most seen above the
// heap in use before f.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base, peak := m.HeapInuse, m.HeapInuse
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	return peak - base
}

// Predicting a 30-page 1024x1024 stack holds about as much memory as predicting 3 of its
// pages: the pages in the pipeline, never the stack.
func TestStackMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("predicts 33 pages of 1024x1024")
	}
	const side = 1024
	dir := t.TempDir()
	page := grayNoise(side, side, 1)
	stack := func(name string, n int) string {
		pages := make([]image.Image, n)
		for k := range pages {
			pages[k] = page
		}
		path := filepath.Join(dir, name)
		writeStack(t, path, pages...)
		return path
	}
	few, many := stack("few.tif", 3), stack("many.tif", 30)
	p, err := New(randomModel(t, 1, 1, 2, 4), Options{Tile: 256, Overlap: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	run := func(path string) uint64 {
		return peakHeap(func() {
			err := p.Files(context.Background(), []string{path}, weights.Meta{}, FileOptions{Instances: true, ObjectsCSV: filepath.Join(dir, "objects.csv")}, func(_ int, err error) {
				if err != nil {
					t.Error(err)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	// Collect often, so that the heap in use follows what is live rather than the
	// collector's pace.
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	run(few) // warm the predictor's buffers
	peakFew, peakMany := run(few), run(many)
	if got := readStack(t, filepath.Join(dir, "many_mask.tif")); len(got) != 30 {
		t.Fatalf("%d pages, want 30", len(got))
	}
	t.Logf("peak heap: 3 pages %d MB, 30 pages %d MB", peakFew>>20, peakMany>>20)
	// 27 more pages of 1 MiB each, with their masks and objects, may not add more than a
	// few pages' worth: the pipeline's and the collector's slack.
	if peakMany > peakFew+6*side*side {
		t.Errorf("30 pages take %d bytes at the peak, 3 pages %d: memory grows with the pages", peakMany, peakFew)
	}
	os.Remove(many)
}
