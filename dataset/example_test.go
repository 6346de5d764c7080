package dataset_test

import (
	"fmt"
	"log"
	"os"

	"github.com/segment-dev/segment/augment"
	"github.com/segment-dev/segment/dataset"
)

// A training loop opens the data set, starts a loader over the train pairs, and reads
// batches from its channel.
func ExampleDataset_NewLoader() {
	d, err := dataset.Open("../sample_data", dataset.Options{})
	if err != nil {
		log.Fatal(err)
	}
	l, err := d.NewLoader(d.Train, dataset.LoaderOptions{
		BatchSize: 8, Crop: 96, Augment: augment.Default(), Shuffle: true, Epochs: 2, Seed: 1,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	for b := range l.Batches() {
		if b.Step == 0 {
			fmt.Printf("epoch %d: %d steps of %dx%dx%dx%d inputs\n", b.Epoch, l.StepsPerEpoch(), b.N, b.C, b.H, b.W)
		}
		// step(b.Inputs, b.Targets) ...
	}
	if err := l.Err(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("model:", d.Channels, "in,", d.Classes.ModelClasses(), "out; mask values", d.Classes.Values)
	// Output:
	// epoch 0: 5 steps of 8x1x96x96 inputs
	// epoch 1: 5 steps of 8x1x96x96 inputs
	// model: 1 in, 1 out; mask values [0 255]
}

func ExampleDiagnose() {
	r, err := dataset.Diagnose("../sample_data", dataset.Options{})
	if err != nil {
		log.Fatal(err)
	}
	r.Write(os.Stdout)
	// Output:
	// data set ../sample_data
	// layout   train/ val/
	//
	// train: 40 pairs (../sample_data/train)
	//   sizes      40 x 128x128
	//   images     40 x PNG gray 8-bit
	//   intensity  mean 0.316, range 0.000-0.914 (0-1 scale)
	//   masks      40 x PNG gray 8-bit
	//   values     0 89.2%  255 10.8%
	//   classes    background 89.2%, foreground 10.8%
	//   empty      0 masks without foreground, 0 masks with under 0.1%
	//
	// val: 8 pairs (../sample_data/val)
	//   sizes      8 x 128x128
	//   images     8 x PNG gray 8-bit
	//   intensity  mean 0.315, range 0.016-0.808 (0-1 scale)
	//   masks      8 x PNG gray 8-bit
	//   values     0 89.6%  255 10.4%
	//   classes    background 89.6%, foreground 10.4%
	//   empty      0 masks without foreground, 0 masks with under 0.1%
	//
	// inputs     1 channel (gray)
	// classes    binary: 0 = background, 255 = foreground
	// model      1 output channel (sigmoid)
	// mask values stored with the model: 0 255
	//
	// OK: ready to train (train 40, val 8)
}
