package dataset

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestInferClasses(t *testing.T) {
	m := func(path string, vals ...int32) maskScan {
		h := map[int32]int64{}
		for _, v := range vals {
			h[v] += 10
		}
		return maskScan{path: path, format: formatPNG, hist: h}
	}
	tests := []struct {
		name   string
		masks  []maskScan
		opts   Options
		values []int
		file   string // the path an error names; "" for success
		is     error
	}{
		{"binary", []maskScan{m("a", 0, 255), m("b", 0)}, Options{}, []int{0, 255}, "", nil},
		{"binary, any two values", []maskScan{m("a", 3, 7)}, Options{Classes: 1}, []int{3, 7}, "", nil},
		{"multi-class sorted", []maskScan{m("a", 0, 2), m("b", 1, 9)}, Options{}, []int{0, 1, 2, 9}, "", nil},
		{"ignore left out", []maskScan{m("a", 0, 255, 128)}, Options{Ignore: intp(128)}, []int{0, 255}, "", nil},
		{"classes given, all present", []maskScan{m("a", 0, 128, 255)}, Options{Classes: 3}, []int{0, 128, 255}, "", nil},
		{"classes given, indices with one missing", []maskScan{m("a", 0, 2)}, Options{Classes: 3}, []int{0, 1, 2}, "", nil},
		{"classes given, too few values", []maskScan{m("a", 5, 9)}, Options{Classes: 3}, nil, "dir", ErrBadOptions},
		{"union over the limit names the mask", []maskScan{m("a", 0, 1), m("b", 0, 2)}, Options{Classes: 1}, nil, "b", ErrValues},
		{"one mask over the limit", []maskScan{m("a", 0, 1), m("b", 0, 1, 2)}, Options{Classes: 2}, nil, "b", ErrValues},
		{"one value", []maskScan{m("a", 0), m("b", 0)}, Options{}, nil, "dir", ErrOneValue},
		{"only ignored", []maskScan{m("a", 4)}, Options{Ignore: intp(4)}, nil, "dir", ErrOneValue},
		{"explicit values keep their order", []maskScan{m("a", 0, 255)}, Options{MaskValues: []int{255, 0}}, []int{255, 0}, "", nil},
		{"explicit values, twice", []maskScan{m("a", 0, 255)}, Options{MaskValues: []int{0, 0}}, nil, "dir", ErrBadOptions},
		{"explicit values and ignore overlap", []maskScan{m("a", 0, 255)}, Options{MaskValues: []int{0, 255}, Ignore: intp(0)}, nil, "dir", ErrBadOptions},
		{"explicit values, classes disagree", []maskScan{m("a", 0, 255)}, Options{MaskValues: []int{0, 1, 2}, Classes: 2}, nil, "dir", ErrBadOptions},
		{"negative classes", []maskScan{m("a", 0, 255)}, Options{Classes: -1}, nil, "dir", ErrBadOptions},
		{"names, one per class", []maskScan{m("a", 0, 1, 2)}, Options{ClassNames: []string{"sky", "road", "car"}}, []int{0, 1, 2}, "", nil},
		{"names, too few for the classes found", []maskScan{m("a", 0, 1, 2)}, Options{ClassNames: []string{"sky", "road"}}, nil, "dir", ErrBadOptions},
		{"names, a binary task's two", []maskScan{m("a", 0, 255)}, Options{ClassNames: []string{"background", "membrane"}}, []int{0, 255}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := inferClasses("dir", tt.masks, false, tt.opts)
			if tt.file == "" {
				if err != nil || !slices.Equal(c.Values, tt.values) {
					t.Fatalf("got %v, %v; want %v", c.Values, err, tt.values)
				}
				if !slices.Equal(c.Names, tt.opts.ClassNames) {
					t.Fatalf("names %q, want %q", c.Names, tt.opts.ClassNames)
				}
				return
			}
			if err == nil || err.Path != tt.file || !errors.Is(err, tt.is) {
				t.Fatalf("got %v, want an error naming %s, %v", err, tt.file, tt.is)
			}
		})
	}
}

func TestClassesString(t *testing.T) {
	for _, tt := range []struct {
		c    Classes
		want string
	}{
		{Classes{Values: []int{0, 255}}, "binary: 0 = background, 255 = foreground"},
		{Classes{Values: []int{0, 1, 2, 3}, Ignore: intp(255)}, "4 classes: values 0-3, ignore 255"},
		{Classes{Values: []int{0, 128, 255}}, "3 classes: values 0 128 255"},
		{Classes{Values: []int{0, 0xff0000, 0xff}, Colour: true}, "3 classes: values #000000 #ff0000 #0000ff (RGB colours)"},
		{Classes{Values: []int{0, 255}, Names: []string{"background", "membrane"}}, "binary: 0 = background, 255 = membrane"},
		{Classes{Values: []int{0, 1, 2}, Ignore: intp(11), Names: []string{"sky", "road", "car"}}, "3 classes: values 0-2, ignore 11; sky, road, car"},
	} {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestClassNames(t *testing.T) {
	bin := Classes{Values: []int{0, 255}}
	multi := Classes{Values: []int{0, 1, 2}}
	for _, c := range []struct {
		c    Classes
		i    int
		want string
	}{{bin, 0, "background"}, {bin, 1, "foreground"}, {multi, 0, "class 0"}, {multi, 2, "class 2"},
		{Classes{Values: []int{0, 255}, Names: []string{"rest", "cell"}}, 1, "cell"},
		{Classes{Values: []int{0, 1, 2}, Names: []string{"sky", "road", "car"}}, 2, "car"},
	} {
		if got := c.c.Name(c.i); got != c.want {
			t.Errorf("%v: class %d is %q, want %q", c.c, c.i, got, c.want)
		}
	}
}

// TestCheckNames: one name per class, and none that a list or --overlay-class would misread.
func TestCheckNames(t *testing.T) {
	for _, tt := range []struct {
		names []string
		n     int
		want  string // "" for none
	}{
		{[]string{"sky", "road", "Traffic sign"}, 3, ""},
		{[]string{"sky", "road"}, 3, "2 class names for 3 classes"},
		{[]string{"sky", ""}, 2, "a class name is empty"},
		{[]string{"sky", " road"}, 2, `class name " road" begins or ends with a space`},
		{[]string{"sky", "a,b"}, 2, `class name "a,b" holds a comma`},
		{[]string{"sky", "7"}, 2, `class name "7" is a number`},
		{[]string{"Sky", "sky"}, 2, `class names "Sky" and "sky" are the same name`},
	} {
		err := CheckNames(tt.names, tt.n)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.names, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one containing %q", tt.names, err, tt.want)
		}
	}
}
