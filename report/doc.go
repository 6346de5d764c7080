// Package report writes the results of an evaluation as one self-contained HTML page with its
// pictures beside it, for people to look at: which images the model gets wrong, and how.
//
// # Output
//
// A report is a folder:
//
//	DIR/index.html           the page: inline CSS and JavaScript, no network, no fonts
//	DIR/curves.png           the training curves, when training history is given
//	DIR/img/NNNNN-KIND.png   per image (NNNNN its number): KIND is image, truth, pred,
//	                         error (foreground), error-cC (class C, multi-class only)
//	DIR/img/NNNNN-KIND.t.png the same, shrunk to at most [ThumbSize] pixels on the long side
//
// File names come from numbers, never from image names, so that any name (with <, & or
// quotes, or the same name twice) is safe; names appear only inside the page, escaped by
// html/template. The folder is written under a temporary name beside DIR and renamed to DIR
// when index.html is complete, so that a report half written (a crash, Ctrl-C) never looks
// like a report. An existing DIR is replaced only when it holds nothing but what a report
// holds; anything else there is an error, so a mistyped DIR never loses someone's files.
//
// Images are added one at a time ([Writer.Add], safe for concurrent use) and only their
// scores stay in memory, so a report of thousands of large images costs the memory of the
// images being added, not of all of them.
//
// # The page
//
// The page shows the summary table (per class Dice, IoU, precision, recall and HD95 as mean,
// standard deviation and data-set value), the training curves and configuration when given,
// and one row per image, worst first by foreground Dice, with thumbnails of the image, the
// ground truth, the prediction and the error map, each linking to the full-size PNG. A click
// on a column header sorts by it (worst first the first time; again to reverse); the class
// filter shows a chosen class's scores and error maps, and only the images where that class
// is in the ground truth or the prediction. Thumbnails are lazy-loaded and have their size in
// the HTML, so a page of 2,000 images opens at once and loads pictures as they scroll in.
//
// # Colours
//
// Masks are drawn in the class colours: for a binary task the background black and the
// foreground white; for more classes [Class].Colour, or black for class 0 and the
// Okabe–Ito palette for the others. Pixels of no class (the ignore value) are mid grey.
//
// Error maps use colours from the Okabe–Ito palette, chosen because people with any of the
// common colour-vision deficiencies (and in grey scale, by lightness) tell them apart:
//
//	true negative     black
//	true positive     light grey   (correct structure stays quiet, so errors stand out)
//	false positive    vermillion   #D55E00 (predicted, not there)
//	false negative    sky blue     #56B4E9 (there, missed)
//	wrong class       yellow       #F0E442 (multi-class foreground map: one class for another)
//	ignored           dark grey    (the ground truth's ignore value)
//
// Vermillion and sky blue differ in hue for protanopes, deuteranopes and tritanopes alike,
// and in lightness too, which is why the palette's designers pair them for "two opposite
// kinds".
package report
