package detect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

// LoadFS reads every *.yaml and *.yml file directly in dir of fsys as one
// rule each, sorted by file name. Every broken file is reported (a
// *FileError naming file, line and reason, joined); no rule is returned then.
// Two files defining one ID are an error.
func LoadFS(fsys fs.FS, dir string) ([]*Rule, error) {
	return loadFS(fsys, dir, dir)
}

// LoadDir is LoadFS over a directory of the file system; errors name the
// files by their path.
func LoadDir(dir string) ([]*Rule, error) {
	return loadFS(os.DirFS(dir), ".", dir)
}

func loadFS(fsys fs.FS, dir, display string) ([]*Rule, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("detect: load rules: %w", err)
	}
	var rules []*Rule
	var errs []error
	byID := map[string]string{}
	for _, de := range entries {
		name := de.Name()
		if de.IsDir() || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			continue
		}
		file := path.Join(display, name)
		data, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			errs = append(errs, &FileError{File: file, Err: err})
			continue
		}
		r, err := ParseRule(file, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := byID[r.ID]; dup {
			errs = append(errs, &FileError{File: file, Line: 1, Err: fmt.Errorf("rule %q is already defined in %s", r.ID, prev)})
			continue
		}
		byID[r.ID] = file
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rules, nil
}

// Merge returns base with each rule of an overlay replacing the rule of the
// same ID (in place) or appended, overlays applied in order: a user's folder
// overrides a built-in by defining its ID.
func Merge(base []*Rule, overlays ...[]*Rule) []*Rule {
	out := slices.Clone(base)
	for _, ov := range overlays {
		for _, r := range ov {
			i := slices.IndexFunc(out, func(x *Rule) bool { return x.ID == r.ID })
			if i >= 0 {
				out[i] = r
			} else {
				out = append(out, r)
			}
		}
	}
	return out
}
