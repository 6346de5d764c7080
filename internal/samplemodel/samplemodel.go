// Package samplemodel holds the model that segment predict uses when no --model is given: a
// small U-Net (base 8, depth 3, 121,033 weights) trained on the bundled sample data, so that
// a fresh checkout or a bare binary can predict without training first.
//
// It was made with
//
//	segment train --epochs 40 --base 8 --depth 3 --lr 3e-3 --out internal/samplemodel/sample.safetensors
//
// and reached a validation Dice of 0.971 on sample_data/val.
package samplemodel

import (
	_ "embed"

	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// Name stands for the embedded model in messages, where a file name would go.
const Name = "embedded sample model"

//go:embed sample.safetensors
var data []byte

// Load decodes the embedded model. Each call gives a model of its own.
func Load() (*unet.Model, weights.Meta, error) {
	return weights.LoadBytes(data, Name)
}

// Bytes is the embedded model file, for those who identify a model by its bytes (the hash
// eval's shard files record). It must not be changed.
func Bytes() []byte { return data }
