package detect

import (
	"bytes"
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
	return loadFS(fsys, dir, dir, false)
}

// LoadFSForEngine is LoadFS for rules checked elsewhere (the built-in
// catalog, in go test) that an Engine is about to compile: it leaves out
// each file's top-level tests section (Rule.Tests stays empty, and is not
// checked), and leaves the check of the expressions and of the summary
// template to New. The tests are most of a catalog file, and the
// expressions and templates were compiled twice: the three were most of
// loading the catalog, before a scan can start.
func LoadFSForEngine(fsys fs.FS, dir string) ([]*Rule, error) {
	return loadFS(fsys, dir, dir, true)
}

// LoadDir is LoadFS over a directory of the file system; errors name the
// files by their path.
func LoadDir(dir string) ([]*Rule, error) {
	return loadFS(os.DirFS(dir), ".", dir, false)
}

func loadFS(fsys fs.FS, dir, display string, lean bool) ([]*Rule, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("detect: load rules: %w", err)
	}
	// The files are read in order, then parsed on GOMAXPROCS goroutines
	// (see forEach); errors and duplicates are reported in file order.
	type file struct {
		name string // as errors name it
		data []byte
		rule *Rule
		err  error
	}
	var files []file
	for _, de := range entries {
		name := de.Name()
		if de.IsDir() || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			continue
		}
		f := file{name: path.Join(display, name)}
		if f.data, err = fs.ReadFile(fsys, path.Join(dir, name)); err != nil {
			f.err = &FileError{File: f.name, Err: err}
		}
		files = append(files, f)
	}
	forEach(len(files), func(i int) {
		f := &files[i]
		if f.err != nil {
			return
		}
		data := f.data
		if lean {
			data = blankTests(data)
		}
		f.rule, f.err = parseRuleFile(f.name, data, lean)
	})
	var pre *prechecked
	if data, err := fs.ReadFile(fsys, path.Join(dir, PrecheckedFile)); err == nil {
		if m, err := decodePrechecked(data); err == nil { // one that does not read: compiled as without
			pre = &prechecked{m}
		}
	}
	var rules []*Rule
	var errs []error
	byID := map[string]string{}
	for _, f := range files {
		if f.err != nil {
			errs = append(errs, f.err)
			continue
		}
		if prev, dup := byID[f.rule.ID]; dup {
			errs = append(errs, &FileError{File: f.name, Line: 1, Err: fmt.Errorf("rule %q is already defined in %s", f.rule.ID, prev)})
			continue
		}
		byID[f.rule.ID] = f.name
		f.rule.prechecked = pre
		rules = append(rules, f.rule)
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

// blankTests returns data with its top-level tests section (the line
// "tests:" at column 0 and the lines under it, up to the next line that
// starts at column 0 with another key) turned into empty lines, so that
// the line numbers of errors stay those of the file.
func blankTests(data []byte) []byte {
	start := -1
	if bytes.HasPrefix(data, []byte("tests:")) {
		start = 0
	} else if i := bytes.Index(data, []byte("\ntests:")); i >= 0 {
		start = i + 1
	}
	if start < 0 {
		return data
	}
	out := append([]byte(nil), data[:start]...)
	rest := data[start:]
	for first := true; len(rest) > 0; first = false {
		line, next, found := bytes.Cut(rest, []byte("\n"))
		if !first && len(line) > 0 && !strings.ContainsRune(" \t-#\r", rune(line[0])) {
			return append(out, rest...) // the next top-level key
		}
		if found {
			out = append(out, '\n')
		}
		rest = next
	}
	return out
}
