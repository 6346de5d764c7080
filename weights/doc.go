// Package weights reads and writes model files.
//
// A model file is a safetensors file (an 8-byte little-endian header length, a JSON header,
// then the raw tensor bytes) whose metadata names the "segment-unet" format, its version and
// the network's configuration; see ../shared/docs/weights-format.md. Files in that format are
// read and written by PyTorch, JAX and the Hugging Face tools as well, with no converter.
//
// The package has two levels:
//
//   - Generic safetensors I/O: [ReadFile], [WriteFile], [Decode] and [Encode] move a [File]
//     (metadata and named tensors of any standard dtype) to and from bytes. Reading checks the
//     header as strictly as the reference implementation does (offsets in range, contiguous,
//     not overlapping, covering the data exactly, byte lengths matching dtype and shape) and
//     reports a [*FormatError] naming the file and the problem; it never panics on any input.
//     Writing is atomic: a temporary file in the destination's directory is written, synced
//     and renamed over the destination, so that a failed write leaves an existing file intact.
//   - Models: [Save] and [Load] store a [github.com/segment-dev/segment/unet.Model] with its configuration and a [Meta]
//     (preprocessing, training record, mask values) and refuse files that are not segment
//     models or whose tensors do not fit their configuration.
package weights
