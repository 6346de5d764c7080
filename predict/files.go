package predict

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/weights"
)

// FileOptions says what Files writes.
type FileOptions struct {
	// Dir is the folder the outputs go to; "" puts them beside each input.
	Dir string
	// Overlay and Probs add the overlay and the probability images to the mask.
	Overlay, Probs bool
	// MaxPixels bounds an input's size, width times height, checked on its header before
	// it is decoded: 0 means dataset.DefaultMaxPixels.
	MaxPixels int
	// Rows, when not nil, is told after every band how many rows of the image at path are
	// done, for progress within a large image. It is called from the inference goroutine.
	Rows func(path string, done, total int)
}

// Files predicts the image files at paths and writes their outputs (see OutputPaths), through
// Run's pipeline. meta gives the mask values the masks are written in. done(i, err) is
// called for every file in order; err names the file. Two inputs whose outputs would have
// the same names (a.png and a.jpg, or two folders' a.png into one Dir) are an error for the
// second, which is skipped.
func (p *Predictor) Files(ctx context.Context, paths []string, meta weights.Meta, o FileOptions, done func(i int, err error)) error {
	cfg := p.model.Config
	if err := meta.Validate(cfg); err != nil {
		return err
	}
	if cfg.InChannels != 1 && cfg.InChannels != 3 {
		return fmt.Errorf("the model takes %d input channels; images are read as 1 (gray) or 3 (RGB)", cfg.InChannels)
	}
	classes := meta.ClassesFor(cfg)
	outs := make([]Paths, len(paths))
	clash := make([]error, len(paths))
	first := make(map[string]string, len(paths))
	for i, in := range paths {
		outs[i] = OutputPaths(in, o.Dir, classes)
		key := filepath.Clean(outs[i].Mask)
		if prev, ok := first[key]; ok {
			clash[i] = fmt.Errorf("%s: its outputs would overwrite those of %s (same name); skipped", in, prev)
			continue
		}
		first[key] = in
	}
	job := func(i int) Job {
		return &fileJob{path: paths[i], out: outs[i], clash: clash[i], p: p, classes: classes, o: o}
	}
	return p.Run(ctx, len(paths), job, func(i int, err error) { done(i, named(paths[i], err)) })
}

// fileJob predicts one image file and writes its outputs.
type fileJob struct {
	path    string
	out     Paths
	clash   error
	p       *Predictor
	classes dataset.Classes
	o       FileOptions

	img     *dataset.Image
	outputs *Outputs
}

// named makes err name the file at path, unless it does already (as dataset's errors do).
func named(path string, err error) error {
	var de *dataset.Error
	if err == nil || errors.As(err, &de) || strings.HasPrefix(err.Error(), path+":") {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// Load decodes the image. The output images are made at its first band, on the inference
// goroutine, so that an image waiting in the pipeline holds only its pixels.
func (j *fileJob) Load() (Source, error) {
	if j.clash != nil {
		return Source{}, j.clash
	}
	img, err := dataset.ReadImage(j.path, j.p.model.Config.InChannels, j.o.MaxPixels)
	if err != nil {
		return Source{}, err
	}
	j.img = img
	return FromImage(img), nil
}

func (j *fileJob) Band(b Band) error {
	img := j.img
	if j.outputs == nil {
		oo := OutputOptions{Overlay: j.o.Overlay, Probs: j.o.Probs}
		if j.o.Overlay {
			colour := *img // the same pixels, read as RGB to draw on
			colour.Channels = 3
			oo.Display = FromImage(&colour)
		}
		var err error
		if j.outputs, err = NewOutputs(j.classes, img.Width, img.Height, oo); err != nil {
			return err
		}
	}
	if err := j.outputs.Band(b); err != nil {
		return err
	}
	if j.o.Rows != nil {
		j.o.Rows(j.path, b.Y+b.Rows, img.Height)
	}
	if b.Y+b.Rows == img.Height {
		j.img = nil // the last band: the outputs are all that is left to keep
	}
	return nil
}

func (j *fileJob) Finish() error {
	err := j.outputs.Write(j.out)
	j.img, j.outputs = nil, nil
	return err
}
