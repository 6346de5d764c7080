// Package objects turns segmentation masks into separate objects (instances) and scores
// them against ground-truth objects, in time linear in the pixels.
//
// Label finds the connected components of each foreground class of a class-index map,
// with 8-connectivity (pixels touching at a corner are one object; pixels of different
// classes never are), into a Labels: a 16-bit label image, 0 for background, with each
// object's class. FromLabelImage takes a label image that is already made (ground truth).
//
// Labels can then be cleaned: MinSize removes small objects, FillHoles fills the holes of
// objects, KeepLargest keeps the largest object, and Split separates touching objects by a
// watershed on the distance transform; OfClass keeps one class, and ClassMap turns the
// objects back into a class-index map. Objects gives the table of objects (area, centroid,
// bounding box, perimeter, mean probability), and Match with Matching.Scores the
// object-level scores: precision, recall and F1 at IoU 0.5, the 2018 Data Science Bowl
// score, merges and splits. Labels.Gray16 and FromGray16 convert to and from the 16-bit
// images in which label images are saved; CSVHeader and Object.CSVRecord give the rows of
// the objects table.
//
// Coordinates are pixel indices: the pixel at column x and row y covers the square from
// (x, y) to (x+1, y+1), and its centre is taken to be (x, y), so that the centroid of a
// single pixel is that pixel's index.
package objects
