package train

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// meanStd gives the mean and the sample standard deviation (n-1) of xs, leaving out NaNs;
// the deviation is NaN for fewer than two values.
func meanStd(xs []float64) (mean, std float64) {
	var n, s, s2 float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			n, s = n+1, s+x
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	mean = s / n
	if n < 2 {
		return mean, math.NaN()
	}
	for _, x := range xs {
		if !math.IsNaN(x) {
			s2 += (x - mean) * (x - mean)
		}
	}
	return mean, math.Sqrt(s2 / (n - 1))
}

// welch gives the 95% confidence interval of mean(a) - mean(b) by Welch's t interval: the
// difference ± t(0.975, ν) sqrt(sa²/na + sb²/nb), with the Welch–Satterthwaite degrees of
// freedom ν, which does not assume the two variances equal (one variant can be far noisier
// than another). It needs two values on each side; otherwise the interval is NaN. Two
// samples without any spread give the difference itself as both ends.
func welch(a, b []float64) (diff, lo, hi float64) {
	ma, sa := meanStd(a)
	mb, sb := meanStd(b)
	na, nb := count(a), count(b)
	diff = ma - mb
	if na < 2 || nb < 2 {
		return diff, math.NaN(), math.NaN()
	}
	va, vb := sa*sa/na, sb*sb/nb
	se := math.Sqrt(va + vb)
	if se == 0 {
		return diff, diff, diff
	}
	nu := (va + vb) * (va + vb) / (va*va/(na-1) + vb*vb/(nb-1))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: nu}.Quantile(0.975)
	return diff, diff - t*se, diff + t*se
}

func count(xs []float64) float64 {
	n := 0.0
	for _, x := range xs {
		if !math.IsNaN(x) {
			n++
		}
	}
	return n
}
