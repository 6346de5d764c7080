// Package metrics scores segmentations against ground truth: per image and per class it
// computes the metrics [Metric] lists (Dice, IoU, precision, recall, specificity, pixel
// accuracy and the 95th-percentile Hausdorff distance, HD95), and over a set of images it reduces them to a mean
// with a standard deviation, a dataset-level value and a macro mean over the foreground
// classes, written as per-image CSV rows and a JSON summary.
//
// # Masks
//
// Masks are class-index maps: row-major slices (int32, uint8 or any other [Label] type) of
// width*height class indices 0..classes-1, one for the prediction and one for the ground
// truth. An optional ignore index (negative means none) removes every pixel whose ground
// truth equals it from all counts and from the masks HD95 measures, prediction included.
// [Count] and [Hausdorff95] treat any other value outside 0..classes-1 as "no class" (a predicted
// pixel of no class is a false negative of the ground truth's class); [Evaluate] and the
// [Accumulator] reject such values as caller errors (typically raw pixel values such as 255
// passed instead of class indices), except the ignore index in the prediction, which stays
// "no class". A class's pixel value (for example 255 for the foreground of a binary mask)
// only labels the class in the output: see [Class].
//
// # Confusion metrics and empty masks
//
// From a class's [Confusion] counts (TP, FP, FN, TN) come the metrics that [Metric] lists,
// with their formulas (Dice = 2TP / (2TP + FP + FN), IoU, precision, recall, specificity,
// accuracy); that list is the one place a metric is added.
//
// When a denominator is zero the value is decided by one rule, the same for every metric:
//
//   - the class is absent from both the prediction and the ground truth of the image
//     (TP+FP+FN = 0; for specificity, the complement is absent from both: TN+FP+FN = 0;
//     for accuracy, no pixel was counted): the [EmptyPolicy] decides. [EmptyNaN] ("nan",
//     as nnU-Net) makes it NaN, and a NaN is left out of the mean over images and counted
//     in [Stat].Excluded; [EmptyOne] ("one", as PyTorch-UNet) scores it 1.
//   - otherwise exactly one side is empty and the score is 0, whatever the policy: false
//     positives on an empty ground truth score 0 on Dice, IoU, precision and recall, and an
//     empty prediction of a non-empty ground truth scores 0 on all four too (nnU-Net v1's
//     evaluator makes the recall of an empty reference and the precision of an empty
//     prediction NaN; here they are 0 so that a miss always costs).
//
// # HD95
//
// The boundary of a mask is its pixels that have a 4-neighbour outside the mask or lie on
// the image edge (what medpy gets by XOR with a binary erosion of border value 0). The
// surface distances are, for every boundary pixel of the prediction, the Euclidean distance
// in pixels to the nearest boundary pixel of the ground truth, and the same from the ground
// truth to the prediction; HD95 is the 95th percentile of both lists concatenated, with
// numpy.percentile's default linear interpolation, as medpy.metric.hd95 and nnU-Net compute
// it. Distances come from an exact Euclidean distance transform (Felzenszwalb and
// Huttenlocher's lower envelope of parabolas, in integer arithmetic, over the columns
// holding boundary pixels), so the cost is about width*height per class and image, not the
// product of the boundary sizes; an 8192x8192 mask is feasible.
//
// Empty masks: when both the prediction and the ground truth of the class are empty, HD95
// follows the policy like the other metrics: NaN under "nan", 0 (perfect agreement) under
// "one". When exactly one is empty the distance is undefined (medpy raises; some tools
// report the image diagonal): it is NaN under either policy, so it is excluded from the mean
// and counted in [Stat].Excluded; a reader who wants to penalise such images can count them
// from the per-image rows, where the counts say which side was empty.
//
// # Reductions
//
// For each class and metric a [Stat] gives the mean over images of the defined (non-NaN)
// values, their population standard deviation (divided by the number of values, numpy's
// default ddof=0), the number of values used and the number excluded, and a dataset-level
// value computed from the counts summed over all images (NaN, marshalled as null, for HD95,
// which no counts determine). [Summary].ForegroundMean is the macro mean over the foreground
// classes (every class index but 0: class 1 alone for a binary task) of the per-class means,
// and ForegroundDataset the same over the dataset-level values; classes whose value is NaN
// are skipped, and the result is NaN when none is left.
//
// # Output
//
// encoding/json cannot marshal NaN, so the summary's numbers have type [Float], which
// marshals NaN and infinities as null (and unmarshals null as NaN). The CSV rows written by
// [Accumulator.WriteCSV] write NaN as "nan", which pandas and numpy read back as NaN.
package metrics
