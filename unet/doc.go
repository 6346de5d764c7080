// Package unet is the U-Net: its configuration, its tensors, the gorgonia graphs that train
// it and run it, and the gorgonia ops those graphs are made of.
//
// Tensors are NCHW (batch, channels, height, width), row-major, float32 in models; the ops
// also run in float64, which is how their gradients are checked against finite differences.
// Weights keep PyTorch's layouts: a convolution's weight is [out, in, kh, kw], a transposed
// convolution's [in, out, kh, kw].
//
// The model reads like the diagram: an encoder of double convolutions joined by 2x2 max
// pools, a decoder of 2x2 stride-2 transposed convolutions, each joined to the encoder level
// of the same size by a long skip (concatenation, addition or none), and a 1x1 head.
//
// That diagram is written once, as a tree of modules (Arch, from Config.Arch): the parts
// of parts.go (DoubleConv, Down, Up) made of the layers of layers.go, each owning its
// tensors and their initialisation, its multiply-adds and its piece of the graph. The
// tensor list, New, MACs, the memory estimate and the graph builder (graph.go) walk it.
package unet
