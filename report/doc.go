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
// A report can be written in parts, by the tasks of an array job that each evaluate some
// of the images: each task writes its pictures and rows into a folder of the report's
// ([CreatePart], [Writer.FinishPart]: DIR/PART/img/..., DIR/PART/part.json), and [Merge]
// writes the page of them all, the same files as one Writer given every image in any order
// when the images carry their [Image].ID. The parts stay in the report, so that a merge can
// be run again.
//
// # The page
//
// The page shows the summary table (per class Dice, IoU, precision, recall and HD95 as mean,
// standard deviation and data-set value), the training curves and configuration when given,
// and one row per image, worst first by foreground Dice, with thumbnails of the image, the
// ground truth, the prediction and the error map, each linking to the full-size PNG. A click
// on a column header sorts by it (worst first the first time; again to reverse); the class
// filter shows a chosen class's scores and error maps, and only the images where that class
// is in the ground truth or the prediction.
//
// It stays quick with thousands of images: the rows out of view are neither laid out nor
// painted (CSS content-visibility), and the thumbnails are not in the HTML but made by the
// page's script when their row comes near the view (an IntersectionObserver), so that the
// browser neither fetches nor even holds the pictures no one looks at. Measured in headless
// Chromium on a shared 2-core machine, 2,000 images open in 0.3 to 1.2 s; with 8,000 lazy
// <img> elements in the HTML the same page took 3 to 5 s.
//
// # Colours
//
// Masks are drawn in the class colours: for a binary task the background black and the
// foreground white; for more classes [Class].Colour, or black for class 0 and the
// Okabe–Ito palette for the others. Pixels of no class (the ignore value) are mid grey.
//
// Error maps use colours from the Okabe–Ito palette, chosen because people with any of the
// common colour-vision deficiencies tell them apart:
//
//	true negative     black
//	true positive     light grey   #C8C8C8 (correct structure stays quiet, errors stand out)
//	false positive    vermillion   #D55E00 (predicted, not there)
//	false negative    sky blue     #56B4E9 (there, missed)
//	wrong class       yellow       #F0E442 (multi-class foreground map: one class for another)
//	ignored           dark grey    #505050 (the ground truth's ignore value)
//
// The two errors that matter most, false positives and false negatives, differ in hue for
// protanopes, deuteranopes and tritanopes alike (orange-red against blue) and in lightness
// too, so they stay apart even printed in grey; neither is close to the neutral greys.
//
// The error map of the foreground takes every class but the background together; in a
// multi-class report each class present in an image also has its own (TP, FP, FN of that
// class), which the class filter shows. The background's filter shows the foreground map.
package report
