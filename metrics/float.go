package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Float is a float64 for JSON output in which undefined values survive: encoding/json refuses
// NaN and infinities, so Float marshals them as null, and unmarshals null as NaN.
type Float float64

// MarshalJSON writes the number as encoding/json writes a float64, or null if it is NaN or
// infinite.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads a number, or null as NaN.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("metrics: cannot read %q as a number", b)
	}
	*f = Float(v)
	return nil
}

// IsNaN reports whether the value is undefined.
func (f Float) IsNaN() bool { return math.IsNaN(float64(f)) }
