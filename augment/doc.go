// Package augment makes random variants of training samples for image segmentation.
//
// Geometric transforms (flips, 90-degree rotations, rotation by an angle, scaling and the
// elastic deformation of the U-Net paper) move pixels. They are applied to the image and
// its mask together, through one coordinate mapping from output pixels to source points,
// so the two stay aligned pixel for pixel: the image is sampled bilinearly (or bicubically)
// and the mask by nearest neighbour at the same point. A Pipeline composes all its
// geometric steps into that one mapping, which it also uses to crop, so each pixel is
// interpolated once. Points outside the source are mirrored back into it (reflect padding:
// the edge pixel is repeated once, then the image runs backwards).
//
// Intensity transforms (brightness, contrast, gamma, Gaussian noise, blur) change image
// values only, and run after the geometric ones.
//
// Every step has a probability. All randomness comes from the *rand.Rand the caller
// passes, so the same seed gives the same samples.
//
// Images are float32, planar CHW, values in [0, 1] (see Sample).
package augment
