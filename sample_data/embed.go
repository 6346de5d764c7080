package sampledata

import (
	"embed"
	"io/fs"
)

//go:embed train val
var embedded embed.FS

// FS gives the committed data set (train/ and val/, each with images/ and masks/), built into
// the binary so that segment train has data to learn from even far from a checkout.
func FS() fs.FS { return embedded }
