// Package chart draws the pictures segment writes: line charts of training curves and heat
// maps of per-layer statistics, as PNG images, using only the standard library and
// golang.org/x/image's 7x13 bitmap font.
//
// # Line charts
//
// A [Line] holds one or more [Series] of (x, y) points. [Line.Image] draws them on shared
// axes with "nice" tick values (1, 2 or 5 times a power of ten), grid lines, axis labels, a
// title and, when any series is named, a legend placed in the corner of the plot that hides
// the least data. With [Line.LogY] the y axis is logarithmic: ticks fall on powers of ten and
// non-positive values are left out. A NaN or infinite value, or a non-positive one on a log
// axis, breaks the line: the points on either side are not joined, and a point with no
// neighbour is drawn as a dot. A single point or a constant series still draws, on a range
// padded around it. Series without a colour take the next colour of the Okabe-Ito palette,
// which stays distinguishable for colour-blind readers.
//
// # Heat maps
//
// A [HeatMap] draws a matrix of values (rows top to bottom, columns left to right) with the
// perceptual viridis colour map ([Viridis]) and a colour bar. With [HeatMap.LogScale] the
// colours follow log10 of the values. Missing values (NaN, infinities, and non-positive
// values on a log scale) are drawn in neutral grey. When there are more columns (or rows)
// than pixels, neighbouring cells are averaged, in log space on a log scale.
//
// # Output
//
// Both kinds of chart render to an [image.Image] of the requested size. [Grid] places several
// images side by side or stacked into one. The package draws and does not write files: the
// project writes every PNG through internal/atomicfile, so that a failed write leaves any
// existing file untouched and no temporary file behind.
//
// Rendering never panics on odd data (empty or all-NaN series, a degenerate range, a tiny
// image); it returns an error only for input that cannot be drawn at all, such as a chart
// with no series or a heat map with no rows.
package chart
