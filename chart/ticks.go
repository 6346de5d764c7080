package chart

import (
	"math"
	"strconv"
	"strings"
)

// maxTicks bounds the number of ticks any axis gets, whatever the input.
const maxTicks = 1000

// niceTicks returns about n evenly spaced ticks inside [lo, hi], at multiples of a step of
// 1, 2 or 5 times a power of ten, and that step. It returns nil for an empty, reversed or
// non-finite range.
func niceTicks(lo, hi float64, n int) (ticks []float64, step float64) {
	if !finite(lo) || !finite(hi) || !(lo < hi) || !finite(hi-lo) {
		return nil, 0
	}
	n = max(n, 1)
	m, e := niceStep((hi - lo) / float64(n))
	for {
		ticks, step = stepTicks(lo, hi, m, e)
		// Rounding the step up can leave a single tick; take smaller steps then.
		if len(ticks) >= min(n, 2) || step == 0 {
			return ticks, step
		}
		switch m {
		case 10:
			m = 5
		case 5:
			m = 2
		case 2:
			m = 1
		default:
			m, e = 5, e-1
		}
	}
}

// stepTicks returns the multiples of the step m times ten to the e inside [lo, hi], and
// the step; nil and 0 if there would be too many.
func stepTicks(lo, hi float64, m int64, e int) ([]float64, float64) {
	step := tickValue(m, e)
	if !(step > 0) || !finite(step) {
		return nil, 0
	}
	first := math.Ceil(lo/step - 1e-9)
	last := math.Floor(hi/step + 1e-9)
	if !(last-first < maxTicks) {
		return nil, 0
	}
	var ticks []float64
	for i := first; i <= last; i++ {
		ticks = append(ticks, tickValue(int64(i)*m, e))
	}
	return ticks, step
}

// niceStep rounds a rough step to the nearest of 1, 2 or 5 times a power of ten, returned as
// the mantissa m (1, 2, 5 or 10) and the power e.
func niceStep(rough float64) (m int64, e int) {
	e = int(math.Floor(math.Log10(rough)))
	f := rough / math.Pow10(e)
	switch {
	case f < 1.5:
		m = 1
	case f < 3:
		m = 2
	case f < 7:
		m = 5
	default:
		m = 10
	}
	return m, e
}

// tickValue returns k times ten to the e, computed so that it is the float64 nearest the
// decimal number (for example 3 tenths is 0.3, not 0.30000000000000004).
func tickValue(k int64, e int) float64 {
	if e >= 0 {
		return float64(k) * math.Pow10(e)
	}
	return float64(k) / math.Pow10(-e)
}

// logTicks returns ticks for a logarithmic axis over [lo, hi] (both positive), aiming at about
// n of them: powers of ten, every k-th power when there are many decades; 1, 2 and 5 times
// powers of ten when the range spans fewer than three powers; and evenly spaced ticks when
// even those are too few. step is the spacing of evenly spaced ticks and 0 otherwise. It
// returns nil for an invalid range.
func logTicks(lo, hi float64, n int) (ticks []float64, step float64) {
	if !(lo > 0) || !(lo < hi) || !finite(hi) {
		return nil, 0
	}
	n = max(n, 2)
	llo, lhi := math.Log10(lo), math.Log10(hi)
	a := int(math.Ceil(llo - 1e-9))
	b := int(math.Floor(lhi + 1e-9))
	npow := b - a + 1
	if npow < 3 {
		var cand []float64
		for e := a - 1; e <= b; e++ {
			for _, m := range []int64{1, 2, 5} {
				v := tickValue(m, e)
				if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
					cand = append(cand, v)
				}
			}
		}
		if len(cand) >= 2 && len(cand) <= max(n, 3)+1 {
			return cand, 0
		}
	}
	if npow >= 2 {
		k := (npow + n - 1) / n
		start := a
		if r := ((a % k) + k) % k; r != 0 {
			start += k - r
		}
		for e := start; e <= b; e += k {
			ticks = append(ticks, tickValue(1, e))
		}
		if len(ticks) >= 2 {
			return ticks, 0
		}
		ticks = nil
	}
	return niceTicks(lo, hi, n)
}

// tickLabels formats ticks for display. With step > 0 the ticks are evenly spaced by step
// and all get the same number of decimals; with step 0 (log ticks) each gets the digits it
// needs. Very large and very small values use exponent notation such as "1e-5" or "2.5e6",
// and log ticks use it for all or none.
func tickLabels(ticks []float64, step float64) []string {
	labels := make([]string, len(ticks))
	if step <= 0 {
		// Log ticks: all plain, or all in exponent notation when any needs it.
		exp := false
		for _, v := range ticks {
			exp = exp || !plain(v)
		}
		for i, v := range ticks {
			if exp {
				labels[i] = cleanExp(strconv.FormatFloat(v, 'e', -1, 64))
			} else {
				labels[i] = strconv.FormatFloat(v, 'f', -1, 64)
			}
		}
		return labels
	}
	maxAbs := 0.0
	for _, v := range ticks {
		maxAbs = math.Max(maxAbs, math.Abs(v))
	}
	e := int(math.Floor(math.Log10(step) + 1e-9))
	exp := maxAbs >= 1e6 || (maxAbs > 0 && maxAbs < 1e-3)
	for i, v := range ticks {
		switch {
		case exp && math.Abs(v) < step*1e-6:
			labels[i] = "0"
		case exp:
			ve := int(math.Floor(math.Log10(math.Abs(v)) + 1e-9))
			labels[i] = cleanExp(strconv.FormatFloat(v, 'e', max(0, ve-e), 64))
		default:
			if math.Abs(v) < step*1e-6 {
				v = 0 // not "-0.0"
			}
			labels[i] = strconv.FormatFloat(v, 'f', max(0, -e), 64)
		}
	}
	return labels
}

// plain reports whether v is best written without an exponent: 0, or a magnitude from
// 0.001 up to 100000.
func plain(v float64) bool {
	a := math.Abs(v)
	return v == 0 || (a >= 1e-3 && a < 1e5)
}

// formatValue formats a single value briefly: plainly between 0.001 and 100000, in
// exponent notation otherwise.
func formatValue(v float64) string {
	if plain(v) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return cleanExp(strconv.FormatFloat(v, 'e', -1, 64))
}

// cleanExp shortens Go's exponent notation: "1.50e+06" becomes "1.5e6", "1e-05" "1e-5".
func cleanExp(s string) string {
	mant, exp, ok := strings.Cut(s, "e")
	if !ok {
		return s
	}
	if strings.Contains(mant, ".") {
		mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
	}
	x, err := strconv.Atoi(exp)
	if err != nil {
		return s
	}
	return mant + "e" + strconv.Itoa(x)
}

// padRange widens a range of data so that it can be drawn: a single value gets a range
// around it, and any other range a margin of frac of its span at each end.
func padRange(lo, hi, frac, single float64) (float64, float64) {
	if lo == hi {
		d := math.Abs(lo) * 0.1
		if single > 0 {
			d = single
		}
		if d == 0 || !finite(lo-d) || !finite(hi+d) {
			d = 1
		}
		return lo - d, hi + d
	}
	d := (hi - lo) * frac
	if !finite(lo-d) || !finite(hi+d) {
		return lo, hi
	}
	return lo - d, hi + d
}
