package dataset

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// maxProblems is how many problems Write lists.
const maxProblems = 30

// maxListed is how many files Write names in a list before it says how many more there are.
const maxListed = 5

// Write writes the report as text, for people: one block per split, then the classes,
// the warnings, the problems, and a last line that says whether training can start.
func (r *Report) Write(out io.Writer) error {
	b := bufio.NewWriter(out)
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	c := Classes{Colour: r.valueSpaceColour}
	if r.Classes != nil {
		c = *r.Classes
	}
	p("data set %s\n", r.Dir)
	p("layout   %s", r.Layout)
	if r.HeldOut > 0 {
		p(" (no val/: %s of train held out for validation)", plural(r.HeldOut, "pair", "pairs"))
	}
	p("\n")
	for _, sr := range r.Splits {
		p("\n%s: %s (%s)\n", sr.Name, plural(sr.Pairs, "pair", "pairs"), sr.Dir)
		listFiles(b, "images without a mask", sr.NoMask)
		listFiles(b, "masks without an image", sr.NoImage)
		listFiles(b, "skipped, not images", sr.Ignored)
		if sr.Pairs == 0 {
			continue
		}
		p("  sizes      %s\n", counts(sr.Sizes))
		p("  images     %s\n", counts(sr.Images))
		if sr.Decoded > 0 {
			p("  intensity  mean %.3f, range %.3f-%.3f (0-1 scale)\n", sr.MeanGray, sr.MinGray, sr.MaxGray)
		}
		p("  masks      %s\n", counts(sr.Masks))
		if len(sr.Values) > 0 {
			var total int64
			for _, v := range sr.Values {
				total += v.Pixels
			}
			parts := make([]string, 0, 16)
			for i, v := range sr.Values {
				if i == 16 {
					parts = append(parts, fmt.Sprintf("... (%d values in all)", len(sr.Values)))
					break
				}
				parts = append(parts, fmt.Sprintf("%s %s", c.formatValue(v.Value), percent(v.Pixels, total)))
			}
			p("  values     %s\n", strings.Join(parts, "  "))
		}
		if sr.ClassPixels != nil && r.Classes != nil {
			var total int64
			for _, n := range sr.ClassPixels {
				total += n
			}
			total += sr.IgnoredPixels
			if r.Classes.Binary() {
				p("  classes    background %s, foreground %s", percent(sr.ClassPixels[0], total), percent(sr.ClassPixels[1], total))
			} else {
				parts := make([]string, len(sr.ClassPixels))
				for k, n := range sr.ClassPixels {
					parts[k] = fmt.Sprintf("%d:%s", k, percent(n, total))
				}
				p("  classes    %s", strings.Join(parts, " "))
			}
			if r.Classes.Ignore != nil {
				p(", ignored %s", percent(sr.IgnoredPixels, total))
			}
			p("\n")
			switch {
			case r.Classes.Binary():
				p("  empty      %s without foreground, %s with under 0.1%%\n", plural(sr.Empty, "mask", "masks"), plural(sr.Tiny, "mask", "masks"))
			default:
				p("  single     %s holding one class only\n", plural(sr.Empty, "mask", "masks"))
			}
		}
	}
	p("\n")
	p("inputs     %d %s\n", r.Channels, map[int]string{1: "channel (gray)", 3: "channels (RGB)"}[r.Channels])
	if r.Classes != nil {
		p("classes    %s\n", r.Classes)
		if r.Classes.Binary() {
			p("model      1 output channel (sigmoid)\n")
		} else {
			p("model      %d output channels (softmax)\n", len(r.Classes.Values))
		}
		p("mask values stored with the model: %s\n", r.Classes.valueList())
	} else {
		p("classes    unknown (see problems)\n")
	}
	if len(r.Warnings) > 0 {
		p("\nwarnings\n")
		for _, w := range r.Warnings {
			p("  - %s\n", w)
		}
	}
	if len(r.Problems) > 0 {
		p("\nproblems\n")
		for i, e := range r.Problems {
			if i == maxProblems {
				p("  ... and %d more\n", len(r.Problems)-maxProblems)
				break
			}
			p("  - %s\n", e)
		}
		p("\nFAIL: training would fail: %s (Open reports the first)\n", plural(len(r.Problems), "problem", "problems"))
	} else {
		var parts []string
		for _, sr := range r.Splits {
			n := sr.Pairs
			if sr.Name == "train" {
				n -= r.HeldOut
			}
			parts = append(parts, fmt.Sprintf("%s %d", sr.Name, n))
			if sr.Name == "train" && r.HeldOut > 0 {
				parts = append(parts, fmt.Sprintf("val %d (held out of train)", r.HeldOut))
			}
		}
		p("\nOK: ready to train (%s)\n", strings.Join(parts, ", "))
	}
	return b.Flush()
}

func percent(n, total int64) string {
	if total == 0 {
		return "-"
	}
	f := 100 * float64(n) / float64(total)
	if f > 0 && f < 0.1 {
		return "<0.1%"
	}
	return fmt.Sprintf("%.1f%%", f)
}

func counts(cs []Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%d x %s", c.N, c.What)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func listFiles(b io.Writer, what string, files []string) {
	if len(files) == 0 {
		return
	}
	fmt.Fprintf(b, "  %s: %d\n", what, len(files))
	for i, f := range files {
		if i == maxListed {
			fmt.Fprintf(b, "    ... and %d more\n", len(files)-maxListed)
			break
		}
		fmt.Fprintf(b, "    %s\n", f)
	}
}
