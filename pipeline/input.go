package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/iamwatch/iamwatch/cloudtrail"
)

// Input is one thing to read: a file, an S3 object, standard input.
type Input struct {
	Name string // shown in errors and reports: a path, s3://bucket/key or "-".
	Size int64  // bytes, or -1 when unknown.
	Open func() (io.ReadCloser, error)
}

// Expand turns command-line PATH arguments into inputs, in a stable order:
// a file; a directory, walked recursively (hidden entries skipped); a glob;
// or "-" for stdin. A glob that matches nothing is an error.
//
// A path that cannot be read (missing, unreadable, a dangling or looping
// symlink, an unreadable subdirectory) does not stop the others: it becomes
// an input whose Open fails, so Read rejects it by name and counts it.
// Inside a directory, a symlink to a file is read like the file; a symlink
// to a directory is not followed, and it and any other non-regular entry
// (FIFO, socket, device) are skipped with the reason (Report.Skipped). A
// FIFO or device named on the command line is opened without blocking and
// read like stdin: Read stops reading it when its context ends.
func Expand(args []string, stdin io.Reader) ([]Input, error) {
	l, err := ExpandList(args, stdin)
	if err != nil {
		return nil, err
	}
	return l.Inputs(), nil
}

// ExpandList is Expand returning a List: what a scan of a whole trail
// holds in memory while it reads.
func ExpandList(args []string, stdin io.Reader) (*List, error) {
	paths, err := globs(args)
	if err != nil {
		return nil, err
	}
	l := &List{}
	l.expand(paths, stdin, true, nil)
	l.trim()
	return l, nil
}

// WalkList is ExpandList that lists the files while they are read: it
// checks the arguments (a glob that matches nothing is an error) and
// returns at once, and a goroutine it starts walks the directories,
// adding their files to the list, until it is done or ctx ends (List.Wait).
// A directory's files come in the walk's order: by name in each directory,
// which puts "a/1" before "a-b", where Expand sorts by path. The walk
// keeps at most maxHeld files ahead of the list's read (ReadList), waiting
// meanwhile, and stops when the read is over before it.
func WalkList(ctx context.Context, args []string, stdin io.Reader) (*List, error) {
	paths, err := globs(args)
	if err != nil {
		return nil, err
	}
	l := &List{walking: true, walked: make(chan struct{}), walkArgs: paths}
	l.grown, l.room = sync.NewCond(&l.mu), sync.NewCond(&l.mu)
	go func() {
		defer func() {
			l.mu.Lock()
			l.walking = false
			l.trim()
			l.grown.Broadcast()
			l.mu.Unlock()
			close(l.walked)
		}()
		// A walk waiting for room (List.waitRoom) stops when ctx ends.
		defer context.AfterFunc(ctx, func() {
			l.mu.Lock()
			l.room.Broadcast()
			l.mu.Unlock()
		})()
		l.expand(paths, stdin, false, func() bool { return ctx.Err() != nil || l.abandoned.Load() })
	}()
	return l, nil
}

// argPaths is one argument: standard input, or the paths it names.
type argPaths struct {
	stdin bool
	paths []string
}

// globs expands the arguments that are globs, in order.
func globs(args []string) ([]argPaths, error) {
	out := make([]argPaths, len(args))
	for i, arg := range args {
		out[i] = argPaths{stdin: arg == "-", paths: []string{arg}}
		if arg == "-" || !strings.ContainsAny(arg, "*?[") {
			continue
		}
		m, err := filepath.Glob(arg)
		if err != nil {
			return nil, fmt.Errorf("glob %q: %w", arg, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no file matches", arg)
		}
		out[i].paths = m
	}
	return out, nil
}

// expand adds to l the inputs of each argument's paths (globs expanded).
// sorted sorts each directory's files by path, as Expand lists them; a
// list being read (WalkList) cannot be reordered, and is locked for each
// addition. stop, if not nil, is asked before each path and entry whether
// to stop; nil means never.
func (l *List) expand(args []argPaths, stdin io.Reader, sorted bool, stop func() bool) {
	var paths []string
	for _, arg := range args {
		paths = append(paths, arg.paths...)
	}
	ov := newOverlaps(paths)
	// The inputs that are not plain files are few: remembered by name,
	// so that standard input, named twice, is read once.
	seen := map[string]bool{}
	var skip []string // the files the walk of a path leaves out, as it shows them (see overlaps)
	addFile := func(dir string, base []byte, size int64) {
		if len(skip) > 0 && listedBefore(dir+string(base), skip) {
			return
		}
		if l.grown == nil {
			l.addFile(dir, base, size)
			return
		}
		l.mu.Lock()
		l.waitRoom(stop)
		l.addFile(dir, base, size)
		l.grown.Signal()
		l.mu.Unlock()
	}
	add := func(in Input) {
		if seen[in.Name] || len(skip) > 0 && listedBefore(in.Name, skip) {
			return
		}
		seen[in.Name] = true
		if l.grown == nil {
			l.add(in)
			return
		}
		l.mu.Lock()
		l.waitRoom(stop)
		l.add(in)
		l.grown.Signal()
		l.mu.Unlock()
	}
	k := -1 // the index of p in paths
	for _, arg := range args {
		if arg.stdin {
			k++
			add(Input{Name: "-", Size: -1, Open: func() (io.ReadCloser, error) { return io.NopCloser(stdin), nil }})
			continue
		}
		for _, p := range arg.paths {
			k++
			if stop != nil && stop() {
				return
			}
			if ov.covered(k) {
				continue
			}
			skip = ov.inside(k, p)
			fi, err := os.Stat(p)
			switch {
			case err != nil:
				add(failedInput(p, err))
			case fi.Mode().IsRegular():
				d, base := filepath.Split(p)
				addFile(d, []byte(base), fi.Size())
			case !fi.IsDir():
				add(Input{Name: p, Size: -1, Open: func() (io.ReadCloser, error) { return openSpecial(p) }})
			default:
				start := l.Len()
				walkDir(p, addFile, add, stop)
				if sorted {
					l.sortFrom(start)
				}
			}
		}
	}
}

// overlaps finds the paths of several arguments that name the same files:
// a path is skipped when an earlier one is it or holds it (a directory
// above it), and the walk of a directory leaves out the earlier paths
// below it. Paths are compared absolute and cleaned, not resolved
// (symlinks), as a walk shows them. Remembering every file listed instead
// cost ~150 bytes a file for a scan of two directories.
type overlaps struct {
	abs    []string       // each path's absolute form; "" for standard input or when unknown
	first  map[string]int // the first index of each absolute path
	sorted []int          // the indexes of the paths with an absolute form, by it
}

func newOverlaps(paths []string) *overlaps {
	o := &overlaps{abs: make([]string, len(paths)), first: map[string]int{}}
	if len(paths) < 2 {
		return o
	}
	for i, p := range paths {
		if p == "-" {
			continue
		}
		a, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		o.abs[i] = a
		if _, ok := o.first[a]; !ok {
			o.first[a] = i
		}
		o.sorted = append(o.sorted, i)
	}
	slices.SortStableFunc(o.sorted, func(a, b int) int { return strings.Compare(o.abs[a], o.abs[b]) })
	return o
}

// covered reports whether an earlier path than path k is it or a
// directory above it: its files are listed already.
func (o *overlaps) covered(k int) bool {
	for a := o.abs[k]; a != ""; {
		if j, ok := o.first[a]; ok && j < k {
			return true
		}
		up := filepath.Dir(a)
		if up == a {
			return false
		}
		a = up
	}
	return false
}

// inside returns the earlier paths than path k (given as p) below it, as
// its walk shows them.
func (o *overlaps) inside(k int, p string) []string {
	a := o.abs[k]
	if a == "" || len(o.sorted) == 0 {
		return nil
	}
	below := strings.TrimSuffix(a, string(filepath.Separator)) + string(filepath.Separator)
	shown := filepath.Clean(p) + string(filepath.Separator) // as walkDir shows the names below p
	switch shown {
	case "." + string(filepath.Separator):
		shown = ""
	case string(filepath.Separator) + string(filepath.Separator):
		shown = string(filepath.Separator)
	}
	var out []string
	i, _ := slices.BinarySearchFunc(o.sorted, below, func(j int, t string) int { return strings.Compare(o.abs[j], t) })
	for ; i < len(o.sorted) && strings.HasPrefix(o.abs[o.sorted[i]], below); i++ {
		if j := o.sorted[i]; j < k {
			out = append(out, shown+o.abs[j][len(below):])
		}
	}
	return out
}

// listedBefore reports whether name is one of paths or lies below one.
func listedBefore(name string, paths []string) bool {
	for _, p := range paths {
		if name == p || strings.HasPrefix(name, p) && name[len(p)] == filepath.Separator {
			return true
		}
	}
	return false
}

// FromFS lists every file below root in fsys (e.g. the embedded sample),
// as Expand lists a directory.
func FromFS(fsys fs.FS, root string) ([]Input, error) {
	l := &List{}
	walk(fsys, root, func(name string) string { return name }, func(name, shown string, size int64) {
		l.add(Input{Name: shown, Size: size, Open: func() (io.ReadCloser, error) { return fsys.Open(name) }})
	}, l.add, nil)
	l.sortFrom(0)
	return l.Inputs(), nil
}

// walk finds the entries below root: each regular file (or symlink to
// one) is passed to file, by its name in fsys and as shown; an entry that
// cannot be listed or followed becomes an input whose Open fails with the
// reason (Size -1), one to skip an input whose Open fails with
// cloudtrail.ErrSkipped, passed to other; the walk goes on, until stop
// (if not nil) says to stop.
func walk(fsys fs.FS, root string, display func(string) string, file func(name, shown string, size int64), other func(Input), stop func() bool) {
	_ = fs.WalkDir(fsys, root, func(name string, d fs.DirEntry, err error) error { // each error becomes an input
		if stop != nil && stop() {
			return fs.SkipAll
		}
		if err != nil {
			other(failedInput(display(name), err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		base := path.Base(name)
		if name != root && strings.HasPrefix(base, ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		var fi fs.FileInfo
		link := d.Type()&fs.ModeSymlink != 0
		if link {
			fi, err = fs.Stat(fsys, name) // follows the link
		} else {
			fi, err = d.Info()
		}
		shown := display(name)
		if in, ok := unread(shown, fi, err, link); ok {
			other(in)
			return nil
		}
		file(name, shown, fi.Size())
		return nil
	})
}

// unread returns the input that stands for a walked entry not to be read,
// given the entry's stat (its target's, if the entry is a symlink, link):
// one whose stat failed, a symlink to a directory, anything but a regular
// file. ok is false for a regular file (or a symlink to one).
func unread(shown string, fi fs.FileInfo, err error, link bool) (in Input, ok bool) {
	switch {
	case err != nil:
		return failedInput(shown, err), true
	case link && fi.IsDir():
		return skippedInput(shown, "symlink to a directory, not followed"), true
	case !fi.Mode().IsRegular():
		return skippedInput(shown, "not a regular file ("+fi.Mode().Type().String()+")"), true
	}
	return Input{}, false
}

// failedInput is an input that could not be listed: Read rejects it with err.
func failedInput(name string, err error) Input {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the name is the input's already
	}
	return Input{Name: name, Size: -1, Open: func() (io.ReadCloser, error) { return nil, err }}
}

// skippedInput is an input deliberately not read: Read counts it as skipped
// with why.
func skippedInput(name, why string) Input {
	err := fmt.Errorf("%w: %s", cloudtrail.ErrSkipped, why)
	return Input{Name: name, Size: -1, Open: func() (io.ReadCloser, error) { return nil, err }}
}

// osInput is the regular file at p, found so by a stat or a walk.
func osInput(p string, size int64) Input {
	return Input{Name: p, Size: size, Open: func() (io.ReadCloser, error) {
		f, err := openRegular(p)
		if err != nil {
			return nil, err
		}
		return regularFile{f}, nil
	}}
}

// regularFile is a file Expand listed as regular: Read need not check
// (an fstat a file) whether its reads can block.
type regularFile struct{ *os.File }
