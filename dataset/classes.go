package dataset

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// IgnoreIndex is the class index of pixels that hold Classes.Ignore (void): losses and
// metrics skip them. Padding added by a Loader to reach a size multiple gets it too.
const IgnoreIndex = -1

// MaxInferredClasses is the most distinct mask values Open accepts as classes when it
// infers them; more usually means the masks are images or instance labels.
const MaxInferredClasses = 256

// Classes is the label map of a segmentation task: how mask values become class indices,
// and back, what each class is called, and which value is void. The data set, the model
// file's metadata, prediction and scoring all read it from here.
type Classes struct {
	// Values[i] is the mask value of class i: a gray level, a palette index, or a colour
	// 0xRRGGBB when Colour is set. A model file stores it (as its mask values) so that
	// predictions are written back with the values the masks use. With two values the
	// task is binary: Values[0] is background, Values[1] foreground.
	Values []int
	// Ignore is the mask value whose pixels get IgnoreIndex (void), or nil.
	Ignore *int
	// Colour says the masks are RGB and Values are colours 0xRRGGBB.
	Colour bool
	// Names, when not empty, is the name of each class in class order ("sky", "road",
	// ...), one per value. Masks rarely say what their values mean, so without names the
	// tables, reports and overlays can only say "class 7"; a model file keeps them.
	Names []string
}

// Binary reports whether the task is binary: two values, one model output channel.
func (c Classes) Binary() bool { return len(c.Values) == 2 }

// ModelClasses is the number of output channels of a model for these classes: 1 for a
// binary task (a sigmoid), else the number of classes (a softmax). Targets are the same
// either way (0 and 1 for a binary task), so a trainer that wants a two-channel softmax
// for a binary task can use len(Values) instead.
func (c Classes) ModelClasses() int {
	if c.Binary() {
		return 1
	}
	return len(c.Values)
}

// Index gives the class index of mask value v: IgnoreIndex for the ignored value, and
// false when v is not a class.
func (c Classes) Index(v int) (int32, bool) {
	if c.Ignore != nil && v == *c.Ignore {
		return IgnoreIndex, true
	}
	for i, cv := range c.Values {
		if cv == v {
			return int32(i), true
		}
	}
	return 0, false
}

// Name gives the name of class i: its name in Names when there are names, else "background"
// and "foreground" for a binary task and "class i" otherwise.
func (c Classes) Name(i int) string {
	if i >= 0 && i < len(c.Names) {
		return c.Names[i]
	}
	if c.Binary() && (i == 0 || i == 1) {
		return [2]string{"background", "foreground"}[i]
	}
	return fmt.Sprintf("class %d", i)
}

// CheckNames checks names as the names of n classes: one per class, none empty or with a
// comma (lists of names are comma-separated), none a number (--overlay-class takes a class
// by index or by name), and no two the same but for case (names are matched ignoring it).
func CheckNames(names []string, n int) error {
	if len(names) != n {
		return fmt.Errorf("%d class names for %d classes: give one name per class, in class order", len(names), n)
	}
	seen := make(map[string]string, n)
	for _, name := range names {
		switch {
		case strings.TrimSpace(name) == "":
			return errors.New("a class name is empty")
		case strings.TrimSpace(name) != name:
			return fmt.Errorf("class name %q begins or ends with a space", name)
		case strings.Contains(name, ","):
			return fmt.Errorf("class name %q holds a comma", name)
		}
		if _, err := strconv.Atoi(name); err == nil {
			return fmt.Errorf("class name %q is a number, which would read as a class index", name)
		}
		key := strings.ToLower(name)
		if first, ok := seen[key]; ok {
			return fmt.Errorf("class names %q and %q are the same name", first, name)
		}
		seen[key] = name
	}
	return nil
}

// formatValue writes a mask value as its masks store it.
func (c Classes) formatValue(v int) string {
	if c.Colour {
		return fmt.Sprintf("#%06x", v)
	}
	return strconv.Itoa(v)
}

// String describes the classes in one line, e.g. "binary: 0 = background, 255 = foreground"
// or "11 classes: values 0-10, ignore 11".
func (c Classes) String() string {
	var b strings.Builder
	switch {
	case c.Binary():
		fmt.Fprintf(&b, "binary: %s = %s, %s = %s", c.formatValue(c.Values[0]), c.Name(0), c.formatValue(c.Values[1]), c.Name(1))
	default:
		fmt.Fprintf(&b, "%d classes: values %s", len(c.Values), c.valueList())
	}
	if c.Ignore != nil {
		fmt.Fprintf(&b, ", ignore %s", c.formatValue(*c.Ignore))
	}
	if c.Colour {
		b.WriteString(" (RGB colours)")
	}
	if len(c.Names) > 0 && !c.Binary() {
		fmt.Fprintf(&b, "; %s", strings.Join(c.Names, ", "))
	}
	return b.String()
}

// valueList writes the values compactly: "0-10" for a run, "0 128 255" otherwise.
func (c Classes) valueList() string {
	v := c.Values
	run := len(v) > 2 && !c.Colour
	for i := 1; run && i < len(v); i++ {
		run = v[i] == v[i-1]+1
	}
	if run {
		return fmt.Sprintf("%d-%d", v[0], v[len(v)-1])
	}
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = c.formatValue(x)
	}
	return strings.Join(parts, " ")
}

// mapper returns a function that gives the class index of a mask value, as Index does.
// It is a table lookup for the values of gray and palette masks.
func (c Classes) mapper() func(v int32) (int32, bool) {
	maxV := 0
	for _, v := range c.Values {
		maxV = max(maxV, v)
	}
	if c.Ignore != nil {
		maxV = max(maxV, *c.Ignore)
	}
	if c.Colour || maxV >= 1<<16 {
		m := make(map[int32]int32, len(c.Values)+1)
		for i, v := range c.Values {
			m[int32(v)] = int32(i)
		}
		if c.Ignore != nil {
			m[int32(*c.Ignore)] = IgnoreIndex
		}
		return func(v int32) (int32, bool) { i, ok := m[v]; return i, ok }
	}
	const unknown = -2
	lut := make([]int32, maxV+1)
	for i := range lut {
		lut[i] = unknown
	}
	for i, v := range c.Values {
		lut[v] = int32(i)
	}
	if c.Ignore != nil {
		lut[*c.Ignore] = IgnoreIndex
	}
	return func(v int32) (int32, bool) {
		if v < 0 || int(v) >= len(lut) || lut[v] == unknown {
			return 0, false
		}
		return lut[v], true
	}
}

// maskScan is what scanning one mask found: the count of pixels of each value, with
// values already in the data set's value space (see normalize).
type maskScan struct {
	path   string
	format string
	hist   map[int32]int64
}

// sortedValues gives the distinct values of a histogram in ascending order, leaving out
// the ignored one.
func sortedValues(hist map[int32]int64, ignore *int) []int {
	vs := make([]int, 0, len(hist))
	for v := range hist {
		if ignore != nil && int(v) == *ignore {
			continue
		}
		vs = append(vs, int(v))
	}
	slices.Sort(vs)
	return vs
}

// jpegHint is added to value problems found in JPEG masks.
const jpegHint = "; JPEG is lossy: its compression makes new values near edges, save masks as PNG"

// tooMany reports a mask with more values than the classes allow.
func tooMany(m maskScan, got []int, limit string, colour bool) *Error {
	hint := ""
	if m.format == formatJPEG {
		hint = jpegHint
	}
	return fileError(m.path, fmt.Errorf("%w: %s, more than %s%s", ErrValues, describeValues(got, colour), limit, hint))
}

// describeValues writes "3 values (0 128 255)", listing at most 8.
func describeValues(vs []int, colour bool) string {
	c := Classes{Colour: colour}
	parts := make([]string, 0, 8)
	for i, v := range vs {
		if i == 8 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, c.formatValue(v))
	}
	word := "values"
	if len(vs) == 1 {
		word = "value"
	}
	return fmt.Sprintf("%d distinct %s (%s)", len(vs), word, strings.Join(parts, " "))
}

// inferClasses decides the classes from the masks' values and opts (see inferValues), and
// names them with opts.ClassNames.
func inferClasses(dir string, masks []maskScan, colour bool, opts Options) (Classes, *Error) {
	c, err := inferValues(dir, masks, colour, opts)
	if err != nil || len(opts.ClassNames) == 0 {
		return c, err
	}
	if err := CheckNames(opts.ClassNames, len(c.Values)); err != nil {
		return Classes{}, fileError(dir, fmt.Errorf("%w: %v", ErrBadOptions, err))
	}
	c.Names = slices.Clone(opts.ClassNames)
	return c, nil
}

// inferValues decides the class values from the masks' values and opts (Classes,
// MaskValues, Ignore), checking every mask against them. masks are in a fixed order (by split, then
// by name), and a problem names the first mask at fault. dir names the data set for
// problems that belong to no one mask.
func inferValues(dir string, masks []maskScan, colour bool, opts Options) (Classes, *Error) {
	c := Classes{Ignore: opts.Ignore, Colour: colour}
	bad := func(format string, a ...any) (Classes, *Error) {
		return Classes{}, fileError(dir, fmt.Errorf("%w: "+format, append([]any{ErrBadOptions}, a...)...))
	}
	if opts.Classes < 0 {
		return bad("Classes is %d", opts.Classes)
	}
	if len(opts.MaskValues) > 0 {
		vs := opts.MaskValues
		seen := make(map[int]bool, len(vs))
		for _, v := range vs {
			if seen[v] {
				return bad("mask value %d is listed twice", v)
			}
			if opts.Ignore != nil && v == *opts.Ignore {
				return bad("mask value %d is both a class and ignored", v)
			}
			seen[v] = true
		}
		if len(vs) < 2 {
			return bad("MaskValues %v: want at least two values", vs)
		}
		if opts.Classes != 0 && opts.Classes != len(vs) && !(opts.Classes == 1 && len(vs) == 2) {
			return bad("Classes is %d but MaskValues lists %d values", opts.Classes, len(vs))
		}
		c.Values = slices.Clone(vs)
		for _, m := range masks {
			for _, v := range sortedValues(m.hist, opts.Ignore) {
				if !seen[v] {
					hint := ""
					if m.format == formatJPEG {
						hint = jpegHint
					}
					return Classes{}, fileError(m.path, fmt.Errorf("%w: value %s is not one of the mask values %s%s", ErrValues, c.formatValue(v), c.valueList(), hint))
				}
			}
		}
		return c, nil
	}

	limit, limitText := opts.Classes, fmt.Sprintf("the %d classes", opts.Classes)
	switch opts.Classes {
	case 0:
		limit, limitText = MaxInferredClasses, fmt.Sprintf("the %d classes a mask may have", MaxInferredClasses)
	case 1:
		limit, limitText = 2, "the 2 of a binary mask"
	}
	// A mask that on its own has too many values is the clearest culprit.
	for _, m := range masks {
		vs := sortedValues(m.hist, opts.Ignore)
		if len(vs) > limit {
			return Classes{}, tooMany(m, vs, limitText, colour)
		}
		if opts.Classes == 0 && m.format == formatJPEG && len(vs) > 2 {
			return Classes{}, tooMany(m, vs, "the 2 of a binary mask and classes were not given", colour)
		}
	}
	union := make(map[int32]int64)
	for _, m := range masks {
		for v, n := range m.hist {
			union[v] += n
		}
		if vs := sortedValues(union, opts.Ignore); len(vs) > limit {
			return Classes{}, fileError(m.path, fmt.Errorf("%w: with this mask the masks hold %s, more than %s",
				ErrValues, describeValues(vs, colour), limitText))
		}
	}
	vs := sortedValues(union, opts.Ignore)
	switch {
	case len(vs) == 0:
		return Classes{}, fileError(dir, fmt.Errorf("%w: every mask pixel holds the ignored value", ErrOneValue))
	case len(vs) == 1:
		return Classes{}, fileError(dir, fmt.Errorf("%w: every mask pixel holds the value %s; give the mask values if some class is missing",
			ErrOneValue, c.formatValue(vs[0])))
	case opts.Classes >= 2 && len(vs) < opts.Classes:
		if vs[0] >= 0 && vs[len(vs)-1] < opts.Classes && !colour {
			// The masks hold class indices and some class does not appear.
			vs = make([]int, opts.Classes)
			for i := range vs {
				vs[i] = i
			}
		} else {
			return Classes{}, fileError(dir, fmt.Errorf("%w: masks hold %s, fewer than the %d classes: give the mask values in class order",
				ErrBadOptions, describeValues(vs, colour), opts.Classes))
		}
	}
	c.Values = vs
	return c, nil
}
