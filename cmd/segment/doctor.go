package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/segment-dev/segment/dataset"
)

// errNotReady ends doctor when the data set would not train: the report says why.
var errNotReady = errors.New("the data set has problems that stop training (listed above)")

// doctorCommand is the table entry of segment doctor.
func doctorCommand() *command {
	return &command{
		name:  "doctor",
		args:  "DIR",
		short: "check a data set before training on it",
		long: `
Doctor reads a data set folder as train would and reports what it finds: the
pairs of images and masks in each split and the files without a partner, image
sizes and channels, the mask values and the share of pixels of each class, empty
masks, and warnings about data that trains badly (JPEG masks, masks that look
black because they hold 0/1, tiny foreground). When the set would train, it
then shows its fingerprint, what segment plan and train plan from: sizes,
channels, intensities, and per class the share of pixels, the images holding
it and its typical object size. It exits with status 1 when training on the
folder would fail, after listing every problem.`,
		flags: func(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
			readData := dataSetFlags(fs)
			return func(fs *flag.FlagSet, out, _ io.Writer) error {
				dir, o, err := readData(fs)
				if err != nil {
					return err
				}
				r, err := dataset.Diagnose(dir, o)
				if err != nil {
					return err
				}
				if err := r.Write(out); err != nil {
					return err
				}
				if !r.OK() {
					return errNotReady
				}
				f, _, err := planFor(dir, o, 0)
				if f == nil {
					return err
				}
				fmt.Fprintln(out)
				if err := f.Write(out); err != nil {
					return err
				}
				if err != nil { // the plan's own limits, such as images too small
					fmt.Fprintf(out, "no plan: %v\n", err)
				}
				return nil
			}
		},
	}
}
