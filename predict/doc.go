// Package predict runs a trained U-Net over whole images of any size and turns its output
// into files: masks in the values the training masks used, coloured overlays and
// probability maps.
//
// # Tiles and bands
//
// A Predictor cuts an image into square tiles (a multiple of 2^depth on each side) that
// overlap their neighbours, runs the network on batches of tiles, and blends the tiles'
// class probabilities with a Gaussian weight centred on each tile (sigma = tile/8, as
// nnU-Net does), so that a pixel is decided mostly by the tiles that see it far from their
// borders, where the network's zero padding cannot reach. The weight of a tile is the
// product of a weight along y and one along x, so the sum of the weights at a pixel is the
// product of two sums kept per row and per column: no whole-image weight plane.
//
// Tiles are run one row of tiles at a time. Once a row of tiles is done, the image rows
// above the next row of tiles can receive nothing more: they are divided by their weight
// and handed out as a Band, and their memory is reused. The memory a prediction needs is
// therefore that of the network at the tile size, an input band and an accumulator band of
// one tile's height, not the image's. An image small enough for the memory budget is run
// whole, as one tile: exactly the network's output on the image mirrored out to a multiple
// of 2^depth (PadFor), cropped back.
//
// Everything that runs a trained model goes through a Predictor: predict, eval, and the
// validation during training, so that they cannot disagree.
//
// Test-time augmentation (Options.TTA) runs every tile as it is and flipped left-right,
// top-bottom and both (or only left-right, for a model whose training never turned its
// images upside down: Options.Mirrors), and averages the predictions, flipped back, in
// probability.
//
// # Layout
//
// Inputs and probabilities are float32 planes, row-major: channel (or class) c of pixel
// (x, y) of a w-wide band is at (c*rows+y)*w+x. A binary model (one output channel) gives
// one plane, the probability of the foreground; a model of k classes gives k planes that sum
// to one.
//
// # Pipeline
//
// Run predicts a list of images with decoding, inference and encoding on three goroutines,
// so that reading the next image and writing the last one overlap the network's work. An
// image that fails at any stage is reported and skipped; the others go on.
//
// # Stacks and objects
//
// Files predicts each page of a multi-page TIFF as an image of its own, through the same
// pipeline, and streams the pages' outputs into multi-page TIFF files (one goroutine per
// file, written atomically), so that a stack costs the memory of the pages in the pipeline.
// With FileOptions.Clean or Instances the class of every pixel is kept until the image is
// done; package objects then labels, cleans and splits its objects, the mask (and overlay)
// are rewritten from the cleaned objects, and the objects' rows are written into the
// image's own table with its other outputs; the run's objects.csv is gathered from those
// tables at the end, in input order, so that skipped images count as well.
// ObjectScores scores predicted objects against ground truth for eval.
package predict
