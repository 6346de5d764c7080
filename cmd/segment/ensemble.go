package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/segment-dev/segment/augment"
	"github.com/segment-dev/segment/predict"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// modelFlagUsage is the --model flag of predict and eval, which take an ensemble.
const modelFlagUsage = "model file; several, comma-separated or a folder of .safetensors files, are an ensemble that averages their probabilities (default: the embedded sample model)"

// loadModels reads what --model names: "" (the embedded sample model), one model file, a
// comma-separated list of them, or a folder, whose models are its .safetensors files other
// than training's side files (NAME.last and NAME.state), in the order of their names.
// Several models are an ensemble (predict.NewEnsemble), averaged in that order; they must
// agree on everything that turns their probabilities into masks, and the first file that
// does not is named. meta is the first model's, and name the files, comma-separated.
func loadModels(spec string) (models []*unet.Model, metas []weights.Meta, name string, err error) {
	// One model: no name, a file that exists (even with a comma in its name), or a name
	// that is neither a list nor a folder, left to loadModel to report.
	fi, statErr := os.Stat(spec)
	if spec == "" || statErr == nil && !fi.IsDir() || statErr != nil && !strings.Contains(spec, ",") {
		m, meta, name, err := loadModel(spec)
		if err != nil {
			return nil, nil, "", err
		}
		return []*unet.Model{m}, []weights.Meta{meta}, name, nil
	}
	paths, err := modelPaths(spec)
	if err != nil {
		return nil, nil, "", err
	}
	metas = make([]weights.Meta, len(paths))
	for i, p := range paths {
		m, mt, err := weights.Load(p)
		if err != nil {
			return nil, nil, "", err
		}
		if i > 0 {
			if err := agree(paths[0], models[0].Config, metas[0], p, m.Config, mt); err != nil {
				return nil, nil, "", err
			}
		}
		models, metas[i] = append(models, m), mt
	}
	return models, metas, strings.Join(paths, ","), nil
}

// newPredictor makes the Predictor of models, as loadModels gave them with their metas,
// with the options of the command's flags, at the resolution the models were trained at
// (see weights.Meta.Downsample): a model trained on shrunk images must see new images
// shrunk alike, or its masks are wrong without a word. Test-time augmentation uses the
// mirror images every model of the ensemble learned (see ttaMirrors).
func newPredictor(models []*unet.Model, metas []weights.Meta, o predict.Options) (*predict.Predictor, error) {
	f, err := metas[0].Downsample()
	if err != nil {
		return nil, err
	}
	o.Downsample = f
	if o.TTA {
		if o.Mirrors, err = ttaMirrors(metas); err != nil {
			return nil, err
		}
	}
	p, err := predict.NewEnsemble(models, o)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return p, nil
}

// ttaMirrors gives the mirror images that every model learned to see as the same image,
// from the augmentation preset its training record names (all of them where it names
// none: a model made elsewhere, trained as it may have been). A model that learned none
// (augment none) is refused: TTA would only show it images it never saw.
func ttaMirrors(metas []weights.Meta) (predict.Mirrors, error) {
	m := predict.Mirrors{LeftRight: true, TopBottom: true}
	for i, meta := range metas {
		name := meta.Augment()
		pipe, err := augment.Preset(name)
		if name == "" || err != nil { // Preset("") is the default preset, not "unknown"
			continue
		}
		lr, tb := pipe.Mirrors()
		if !lr && !tb {
			which := "the model"
			if len(metas) > 1 {
				which = fmt.Sprintf("model %d of the ensemble", i+1)
			}
			return m, usagef("--tta: %s was trained without mirror images (augment %s), so averaging over them would show it images it never learned; leave --tta out", which, name)
		}
		m.LeftRight, m.TopBottom = m.LeftRight && lr, m.TopBottom && tb
	}
	if !m.LeftRight && !m.TopBottom {
		return m, usagef("--tta: the models of the ensemble share no mirror image they were all trained with (one learned left-right mirrors, another top-bottom ones); leave --tta out")
	}
	return m, nil
}

// modelPaths lists the model files of a comma-separated list or a folder, refusing a file
// listed twice (it would count double in the average).
func modelPaths(spec string) ([]string, error) {
	var paths []string
	if fi, err := os.Stat(spec); err == nil && fi.IsDir() {
		entries, err := os.ReadDir(spec)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || !strings.HasSuffix(n, ".safetensors") || strings.HasSuffix(n, ".last.safetensors") || strings.HasSuffix(n, ".state.safetensors") {
				continue
			}
			paths = append(paths, filepath.Join(spec, n))
		}
		if len(paths) == 0 {
			return nil, fmt.Errorf("%s: no model files (*.safetensors other than *.last and *.state)", spec)
		}
		return paths, nil // os.ReadDir sorts by name
	}
	for _, p := range strings.Split(spec, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, usagef("--model %q: an empty name in the list", spec)
		}
		if slices.ContainsFunc(paths, func(q string) bool { return filepath.Clean(q) == filepath.Clean(p) }) {
			return nil, usagef("--model: %s is listed twice", p)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// agree reports the first way in which the model at path (cfg, meta) differs from the
// ensemble's first, at first, in what their masks depend on: input channels, classes, mask
// values, colour masks, the ignored value and the resolution (downsample). Depth, width
// and blocks may differ.
func agree(first string, fc unet.Config, fm weights.Meta, path string, cfg unet.Config, meta weights.Meta) error {
	differ := func(what string, a, b any) error {
		return fmt.Errorf("%s: %s %v, but %s %v: the models of an ensemble must agree", path, what, b, first, a)
	}
	fv, v := fm.ClassesFor(fc), meta.ClassesFor(cfg)
	fd, _ := fm.Downsample() // weights.Load validated both
	d, _ := meta.Downsample()
	switch {
	case cfg.InChannels != fc.InChannels:
		return differ("input channels", fc.InChannels, cfg.InChannels)
	case cfg.Classes != fc.Classes:
		return differ("classes", fc.Classes, cfg.Classes)
	case !slices.Equal(v.Values, fv.Values):
		return differ("mask values", fv.Values, v.Values)
	case v.Colour != fv.Colour:
		return differ("colour masks", fv.Colour, v.Colour)
	case (v.Ignore == nil) != (fv.Ignore == nil) || v.Ignore != nil && *v.Ignore != *fv.Ignore:
		return differ("ignore value", ignoreText(fv.Ignore), ignoreText(v.Ignore))
	case d != fd:
		return differ("downsample", fd, d)
	}
	return nil
}

// ignoreText shows an ignore value, or that there is none.
func ignoreText(v *int) string {
	if v == nil {
		return "none"
	}
	return fmt.Sprint(*v)
}
