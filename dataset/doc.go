// Package dataset reads image segmentation data sets from folders and turns them into
// training batches.
//
// # Layout
//
// A data set is a folder that holds either
//
//	images/  masks/
//
// or splits, each holding those two folders:
//
//	train/{images,masks}  [val/{images,masks}]  [test/{images,masks}]
//
// (val may also be named valid or validation). An image and its mask pair by file stem:
// images/cell01.png pairs with masks/cell01.png, masks/cell01.tif or masks/cell01_mask.png.
// PNG, JPEG, TIFF, BMP and GIF are read, whatever the extension says; other files are
// ignored. Without a val folder, a seeded fraction of train is held out for validation.
//
// # Images
//
// Images are gray, gray+alpha, RGB, RGBA or palette, 8 or 16 bits per sample. Alpha is
// dropped. Pixels are scaled to [0, 1] and stored as float32 in planar CHW order: the value
// of channel c at (x, y) of a W-wide, H-high image is at index (c*H+y)*W+x. Every image of a
// data set must have the same number of channels unless Options.Channels converts them all
// to gray (1) or RGB (3).
//
// # Masks and classes
//
// A mask pixel holds a value: a gray level (8 or 16 bits), a palette index, or for RGB
// masks the colour as 0xRRGGBB. Classes says which value is which class: by default the
// sorted distinct values found in all masks. Two values make a binary task (the lower is
// background, class 0; the higher foreground, class 1; the model has one output channel);
// more make a multi-class task. Classes.Values is what a model file stores so that
// predictions are written back with the same values. Pixels holding Options.Ignore (void)
// get IgnoreIndex, which losses and metrics skip.
//
// # Batches
//
// A Loader decodes, crops and augments samples in background goroutines and hands out
// ready Batches on a channel: inputs as float32 NCHW, targets as int32 class indices NHW.
// Decoded images and masks are kept in a cache bounded in bytes (least recently used
// first out). Everything random takes a seed, so a run can be repeated exactly.
//
// # Errors
//
// Every problem is an *Error naming the file or folder, in one line: unreadable or
// truncated images, masks of another size than their image, images without a mask and
// masks without an image, masks with more values than classes, empty folders, and images
// whose header claims more pixels than Options.MaxPixels (checked before decoding).
// Diagnose reports them all at once, with statistics and warnings, in readable text.
//
// # Stacks
//
// A multi-page TIFF image with a multi-page TIFF mask of the same stem pairs page by page:
// each page is a Pair of its own, named "NAME#pN" (N from 1), whose Image and Mask are the
// stacks' paths with "#pN" added; probe and decode read that one page (package tiffstack).
// Pages without a partner are images without a mask (or masks without an image), named by
// page. Where one image is read (ReadImage, ReadMask), a stack is refused with ErrStack
// rather than read as its first page, which is all golang.org/x/image/tiff reads.
package dataset
