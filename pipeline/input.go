package pipeline

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Input is one thing to read: a file, an S3 object, standard input.
type Input struct {
	Name string // shown in errors and reports: a path, s3://bucket/key or "-".
	Size int64  // bytes, or -1 when unknown.
	Open func() (io.ReadCloser, error)
}

// Expand turns command-line PATH arguments into inputs, in a stable order:
// a file; a directory, walked recursively (hidden entries skipped); a glob;
// or "-" for stdin. A path that names nothing is an error naming it.
func Expand(args []string, stdin io.Reader) ([]Input, error) {
	var out []Input
	seen := map[string]bool{}
	add := func(in Input) {
		if !seen[in.Name] {
			seen[in.Name] = true
			out = append(out, in)
		}
	}
	for _, arg := range args {
		if arg == "-" {
			add(Input{Name: "-", Size: -1, Open: func() (io.ReadCloser, error) { return io.NopCloser(stdin), nil }})
			continue
		}
		paths := []string{arg}
		if strings.ContainsAny(arg, "*?[") {
			m, err := filepath.Glob(arg)
			if err != nil {
				return nil, fmt.Errorf("glob %q: %w", arg, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("%s: no file matches", arg)
			}
			paths = m
		}
		for _, p := range paths {
			fi, err := os.Stat(p)
			if err != nil {
				return nil, err
			}
			if !fi.IsDir() {
				add(osInput(p, fi.Size()))
				continue
			}
			ins, err := walk(os.DirFS(p), ".", func(name string) string { return filepath.Join(p, filepath.FromSlash(name)) })
			for i := range ins { // open by the shown path: one string a file, not two (a trail is 100,000s of files)
				ins[i].Open = osInput(ins[i].Name, ins[i].Size).Open
			}
			if err != nil {
				return nil, err
			}
			for _, in := range ins {
				add(in)
			}
		}
	}
	return out, nil
}

// FromFS lists every file below root in fsys (e.g. the embedded sample).
func FromFS(fsys fs.FS, root string) ([]Input, error) {
	return walk(fsys, root, func(name string) string { return name })
}

func walk(fsys fs.FS, root string, display func(string) string) ([]Input, error) {
	var out []Input
	err := fs.WalkDir(fsys, root, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := path.Base(name)
		if name != root && strings.HasPrefix(base, ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		size := int64(-1)
		if fi, err := d.Info(); err == nil {
			size = fi.Size()
		}
		out = append(out, Input{
			Name: display(name),
			Size: size,
			Open: func() (io.ReadCloser, error) { return fsys.Open(name) },
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", display(root), err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func osInput(p string, size int64) Input {
	return Input{Name: p, Size: size, Open: func() (io.ReadCloser, error) { return os.Open(p) }}
}
