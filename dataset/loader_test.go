package dataset

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/segment-dev/segment/augment"
)

func collect(t *testing.T, l *Loader) []*Batch {
	t.Helper()
	var bs []*Batch
	for b := range l.Batches() {
		bs = append(bs, b)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return bs
}

func TestLoaderISBI(t *testing.T) {
	d, err := Open(sharedData(t, "isbi2012-em-membranes"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	run := func(seed uint64, workers int) []*Batch {
		l, err := d.NewLoader(d.Train, LoaderOptions{BatchSize: 4, Crop: 256, Augment: augment.Default(), Shuffle: true, Epochs: 2, Workers: workers, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if l.StepsPerEpoch() != 6 { // 22 pairs: 5 full batches and one of 2
			t.Errorf("%d steps per epoch", l.StepsPerEpoch())
		}
		return collect(t, l)
	}
	a, b, c := run(1, 1), run(1, 3), run(2, 2)
	if len(a) != 12 {
		t.Fatalf("%d batches in 2 epochs", len(a))
	}
	for epoch := range 2 {
		var names []string
		for _, bt := range a[epoch*6 : epoch*6+6] {
			if bt.Epoch != epoch {
				t.Errorf("batch of epoch %d in epoch %d", bt.Epoch, epoch)
			}
			names = append(names, bt.Names...)
		}
		sort.Strings(names)
		want := make([]string, len(d.Train))
		for i, p := range d.Train {
			want[i] = p.Name
		}
		if !slices.Equal(names, want) {
			t.Errorf("epoch %d has %v, want every pair once", epoch, names)
		}
	}
	for i, bt := range a {
		if bt.C != 1 || bt.H != 256 || bt.W != 256 || len(bt.Inputs) != bt.N*256*256 || len(bt.Targets) != bt.N*256*256 {
			t.Fatalf("batch %d: %dx%dx%dx%d, %d inputs, %d targets", i, bt.N, bt.C, bt.H, bt.W, len(bt.Inputs), len(bt.Targets))
		}
		if slices.Min(bt.Inputs) < 0 || slices.Max(bt.Inputs) > 1 || slices.Min(bt.Targets) != 0 || slices.Max(bt.Targets) != 1 {
			t.Fatalf("batch %d: inputs in [%g, %g], targets in [%d, %d]", i, slices.Min(bt.Inputs), slices.Max(bt.Inputs), slices.Min(bt.Targets), slices.Max(bt.Targets))
		}
		// Same seed, other number of workers: the same batches.
		if !slices.Equal(bt.Inputs, b[i].Inputs) || !slices.Equal(bt.Targets, b[i].Targets) || !slices.Equal(bt.Names, b[i].Names) {
			t.Fatalf("batch %d differs between 1 and 3 workers", i)
		}
	}
	if slices.Equal(a[0].Inputs, c[0].Inputs) {
		t.Error("seeds 1 and 2 gave the same first batch")
	}
	// Starting at epoch 1, step 2 gives what the uninterrupted loader gave from there on.
	l, err := d.NewLoader(d.Train, LoaderOptions{BatchSize: 4, Crop: 256, Augment: augment.Default(), Shuffle: true, Epochs: 2, Workers: 2, Seed: 1, StartEpoch: 1, StartStep: 2})
	if err != nil {
		t.Fatal(err)
	}
	resumed := collect(t, l)
	if len(resumed) != 4 {
		t.Fatalf("resumed loader gave %d batches, want 4", len(resumed))
	}
	for i, bt := range resumed {
		if w := a[8+i]; bt.Epoch != w.Epoch || bt.Step != w.Step || !slices.Equal(bt.Inputs, w.Inputs) || !slices.Equal(bt.Targets, w.Targets) {
			t.Fatalf("resumed batch %d (epoch %d step %d) differs from the uninterrupted one", i, bt.Epoch, bt.Step)
		}
	}
	if a[0].Names[0] == a[6].Names[0] && a[0].Names[1] == a[6].Names[1] {
		t.Error("epochs 0 and 1 start alike: not shuffled?")
	}
}

// sizedSet writes pairs of the given sizes into dir.
func sizedSet(t *testing.T, dir string, sizes ...image.Point) {
	t.Helper()
	for i, s := range sizes {
		img, mask := grayImage(s.X, s.Y)
		name := string(rune('a'+i)) + ".png"
		writeFile(t, filepath.Join(dir, "images", name), pngBytes(t, img))
		writeFile(t, filepath.Join(dir, "masks", name), pngBytes(t, mask))
	}
}

// TestLoaderDownsample: whole images shrunk by 2 come in batches of the shrunk size, the
// 31x21 ones rounded up (16x11), and each sample is augment.Shrink of the image.
func TestLoaderDownsample(t *testing.T) {
	dir := t.TempDir()
	sizedSet(t, dir, image.Pt(31, 21), image.Pt(16, 16), image.Pt(31, 21))
	d, err := Open(dir, Options{ValFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := d.NewLoader(d.Train, LoaderOptions{BatchSize: 1, Epochs: 1, Downsample: 2})
	if err != nil {
		t.Fatal(err)
	}
	bs := collect(t, l)
	if len(bs) != 3 {
		t.Fatalf("%d batches, want 3", len(bs))
	}
	for _, b := range bs {
		i := slices.IndexFunc(d.Train, func(p Pair) bool { return p.Name == b.Names[0] })
		s, err := d.Load(d.Train[i])
		if err != nil {
			t.Fatal(err)
		}
		want := augment.Shrink(s, 2)
		if b.W != want.W || b.H != want.H || b.W != (d.Train[i].Width+1)/2 {
			t.Fatalf("%s: batch of %dx%d, want %dx%d", b.Names[0], b.W, b.H, want.W, want.H)
		}
		if !slices.Equal(b.Inputs, want.Image) || !slices.Equal(b.Targets, want.Mask) {
			t.Fatalf("%s: the batch differs from the shrunk image and mask", b.Names[0])
		}
	}
	// The shrunk sample is made once and kept, for each factor.
	a, err := d.loadShrunk(d.Train[0], 2)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := d.loadShrunk(d.Train[0], 2); b != a {
		t.Error("the image was shrunk again for its second crop: the shrunk sample is not cached")
	}
	if b, _ := d.loadShrunk(d.Train[0], 3); b == a || b.W != augment.ShrunkSize(d.Train[0].Width, 3) {
		t.Errorf("shrinking by 3 gave the sample shrunk by 2, or a %dx%d one", b.W, b.H)
	}
	if _, err := d.NewLoader(d.Train, LoaderOptions{Downsample: augment.MaxShrink + 1}); err == nil {
		t.Fatal("a factor of 9 was taken")
	}
}

func TestLoaderWholeImages(t *testing.T) {
	dir := t.TempDir()
	sizedSet(t, dir, image.Pt(30, 20), image.Pt(16, 16), image.Pt(30, 20), image.Pt(16, 16), image.Pt(30, 20))
	d, err := Open(dir, Options{ValFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := d.NewLoader(d.Train, LoaderOptions{BatchSize: 2, Shuffle: true, Epochs: 1})
	if err != nil {
		t.Fatal(err)
	}
	bs := collect(t, l)
	if len(bs) != 3 { // 30x20: 2 + 1, 16x16: 2
		t.Fatalf("%d batches", len(bs))
	}
	for _, b := range bs {
		var src Pair
		for _, p := range d.Train {
			if p.Name == b.Names[0] {
				src = p
			}
		}
		if b.W != src.Width || b.H != src.Height {
			t.Errorf("batch of %dx%d images is %dx%d", src.Width, src.Height, b.W, b.H)
		}
		// Not augmented, whole: the sample is the image itself.
		s, _ := d.Load(src)
		if !slices.Equal(b.Inputs[:len(s.Image)], s.Image) || !slices.Equal(b.Targets[:len(s.Mask)], s.Mask) {
			t.Fatalf("%s: the batch's first sample differs from the image and its mask", src.Name)
		}
	}
}

func TestLoaderSmallImagesPadded(t *testing.T) {
	dir := t.TempDir()
	sizedSet(t, dir, image.Pt(20, 12), image.Pt(20, 12))
	d, err := Open(dir, Options{ValFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := d.NewLoader(d.Train, LoaderOptions{BatchSize: 2, Crop: 64, Epochs: 1})
	if err != nil {
		t.Fatal(err)
	}
	bs := collect(t, l)
	if len(bs) != 1 || bs[0].W != 64 || slices.Contains(bs[0].Targets, IgnoreIndex) || slices.Max(bs[0].Targets) != 1 {
		t.Fatalf("%d batches", len(bs))
	}
}

func TestLoaderError(t *testing.T) {
	dir := t.TempDir()
	sizedSet(t, dir, image.Pt(32, 32), image.Pt(32, 32), image.Pt(32, 32))
	d, err := Open(dir, Options{ValFraction: -1, CacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "images", "b.png")
	data, _ := os.ReadFile(bad)
	writeFile(t, bad, data[:len(data)/2]) // truncated after Open
	l, err := d.NewLoader(d.Train, LoaderOptions{Epochs: 1})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for b := range l.Batches() {
		names = append(names, b.Names...)
	}
	if !slices.Equal(names, []string{"a"}) {
		t.Errorf("got %v before the error", names)
	}
	err = l.Close()
	var e *Error
	if !errors.As(err, &e) || e.Path != bad {
		t.Fatalf("got %v, want an error naming %s", err, bad)
	}
}

// A negative count among the loader's options is named in one plain line, never shown as
// the options' Go struct (which holds a pointer).
func TestLoaderNegativeOptions(t *testing.T) {
	dir := t.TempDir()
	sizedSet(t, dir, image.Pt(32, 32), image.Pt(32, 32))
	d, err := Open(dir, Options{ValFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		o    LoaderOptions
		want string
	}{
		{LoaderOptions{Workers: -1}, "Workers is -1"},
		{LoaderOptions{BatchSize: -2, Augment: &augment.Pipeline{}}, "BatchSize is -2"},
		{LoaderOptions{Crop: -32}, "Crop is -32"},
		{LoaderOptions{Epochs: -1}, "Epochs is -1"},
		{LoaderOptions{Prefetch: -4}, "Prefetch is -4"},
		{LoaderOptions{StartEpoch: -1}, "StartEpoch is -1"},
		{LoaderOptions{StartStep: -3}, "StartStep is -3"},
	} {
		_, err := d.NewLoader(d.Train, c.o)
		if want := dir + ": bad options: " + c.want + ": want 0 or more"; err == nil || err.Error() != want || !errors.Is(err, ErrBadOptions) {
			t.Errorf("%s: got %v, want %q", c.want, err, want)
		}
	}
}

func TestLoaderClose(t *testing.T) {
	dir := t.TempDir()
	sizedSet(t, dir, image.Pt(32, 32), image.Pt(32, 32))
	d, err := Open(dir, Options{ValFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := d.NewLoader(d.Train, LoaderOptions{Crop: 16, Shuffle: true}) // endless
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		<-l.Batches()
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-l.Batches(); ok {
		t.Error("batches after Close")
	}
	if _, err := d.NewLoader(nil, LoaderOptions{}); err == nil {
		t.Error("loader over no pairs")
	}
	if _, err := d.NewLoader(d.Train, LoaderOptions{BatchSize: 3, DropLast: true}); err == nil {
		t.Error("loader with no full batch")
	}
}

// BenchmarkLoadAugmentISBI measures the loader on ISBI 2012 (512x512 gray): 256x256
// crops, the default augmentation, batches of 4, as many workers as GOMAXPROCS. The
// cached case reads decoded images from the cache (as from the second epoch on); the
// uncached one decodes every PNG again.
func BenchmarkLoadAugmentISBI(b *testing.B) {
	dir := sharedData(b, "isbi2012-em-membranes")
	for _, bc := range []struct {
		name  string
		cache int64
	}{{"cached", 0}, {"uncached", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			d, err := Open(dir, Options{CacheBytes: bc.cache})
			if err != nil {
				b.Fatal(err)
			}
			l, err := d.NewLoader(d.Train, LoaderOptions{BatchSize: 4, Crop: 256, Augment: augment.Default(), Shuffle: true})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			images := 0
			for b.Loop() {
				bt := <-l.Batches()
				images += bt.N
			}
			b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
