// Package sampledata makes the small data set in this folder, which the project uses for
// examples, quick training runs and tests: gray 128x128 images of bright discs, ellipses
// and irregular blobs on a textured, noisy background, with faint debris that is not
// foreground, and binary masks (0 background, 255 foreground).
//
// The files are committed:
//
//	train/images/NNNN.png  train/masks/NNNN.png   40 pairs
//	val/images/NNNN.png    val/masks/NNNN.png      8 pairs
//
// Generate writes them again, byte for byte (on amd64: other architectures may round
// floating point differently). To regenerate:
//
//	go generate ./sample_data
//
//go:generate go run ./gen -out .
package sampledata
