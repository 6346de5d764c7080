package chart

import (
	"image/color"
	"math"
)

// viridis holds matplotlib's viridis colour map (CC0, by Stéfan van der Walt and Nathaniel
// Smith) sampled at 33 evenly spaced points from 0 to 1; linear interpolation between them
// stays within 2 of 255 of the full 256-entry table.
var viridis = [33]color.RGBA{
	{68, 1, 84, 255}, {71, 13, 96, 255}, {72, 24, 106, 255}, {72, 35, 116, 255},
	{71, 45, 123, 255}, {69, 54, 129, 255}, {66, 64, 134, 255}, {63, 73, 137, 255},
	{59, 82, 139, 255}, {55, 90, 141, 255}, {51, 99, 141, 255}, {47, 106, 142, 255},
	{44, 114, 142, 255}, {41, 122, 142, 255}, {38, 129, 142, 255}, {35, 137, 142, 255},
	{33, 144, 140, 255}, {31, 152, 139, 255}, {31, 159, 136, 255}, {33, 166, 133, 255},
	{40, 174, 128, 255}, {49, 181, 123, 255}, {62, 188, 116, 255}, {76, 194, 108, 255},
	{93, 201, 99, 255}, {110, 206, 88, 255}, {130, 211, 76, 255}, {150, 216, 63, 255},
	{171, 220, 50, 255}, {192, 223, 36, 255}, {213, 226, 26, 255}, {234, 229, 26, 255},
	{253, 231, 37, 255},
}

// Viridis returns the colour of the viridis colour map at t, from dark purple (#440154) at
// 0 through teal to yellow (#fde725) at 1. Values of t outside [0, 1] are clamped, and NaN
// gives the colour at 0.
func Viridis(t float64) color.RGBA {
	if !(t > 0) {
		return viridis[0]
	}
	if t >= 1 {
		return viridis[len(viridis)-1]
	}
	x := t * float64(len(viridis)-1)
	i := int(x)
	f := x - float64(i)
	a, b := viridis[i], viridis[i+1]
	mix := func(p, q uint8) uint8 {
		return uint8(math.Round(float64(p)*(1-f) + float64(q)*f))
	}
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}
