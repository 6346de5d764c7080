package dataset

import (
	"fmt"
	"image"
	"image/color"
)

// MaskImage turns class indices (w*h, row-major, as a model predicts them) back into a
// mask in the values the data set's masks use, ready to encode as PNG: gray 8-bit when
// every value fits in a byte, gray 16-bit when it fits in two, RGB for colour masks.
// IgnoreIndex becomes the ignore value (0 when there is none). An index that is not a
// class is an error.
func (c Classes) MaskImage(indices []int32, w, h int) (image.Image, error) {
	if len(indices) != w*h {
		return nil, fmt.Errorf("dataset: %d class indices for a %dx%d mask", len(indices), w, h)
	}
	value := func(k int32) (int, error) {
		switch {
		case k == IgnoreIndex && c.Ignore != nil:
			return *c.Ignore, nil
		case k == IgnoreIndex:
			return 0, nil
		case k < 0 || int(k) >= len(c.Values):
			return 0, fmt.Errorf("dataset: class index %d, want 0 to %d", k, len(c.Values)-1)
		}
		return c.Values[k], nil
	}
	maxV := 0
	for _, v := range c.Values {
		maxV = max(maxV, v)
	}
	if c.Ignore != nil {
		maxV = max(maxV, *c.Ignore)
	}
	r := image.Rect(0, 0, w, h)
	switch {
	case c.Colour:
		m := image.NewRGBA(r)
		for i, k := range indices {
			v, err := value(k)
			if err != nil {
				return nil, err
			}
			m.Pix[4*i], m.Pix[4*i+1], m.Pix[4*i+2], m.Pix[4*i+3] = uint8(v>>16), uint8(v>>8), uint8(v), 0xff
		}
		return m, nil
	case maxV < 1<<8:
		m := image.NewGray(r)
		for i, k := range indices {
			v, err := value(k)
			if err != nil {
				return nil, err
			}
			m.Pix[i] = uint8(v)
		}
		return m, nil
	default:
		m := image.NewGray16(r)
		for i, k := range indices {
			v, err := value(k)
			if err != nil {
				return nil, err
			}
			m.SetGray16(i%w, i/w, color.Gray16{Y: uint16(v)})
		}
		return m, nil
	}
}
