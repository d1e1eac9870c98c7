//go:build !linux

package pipeline

import (
	"os"
	"path/filepath"
)

// walkDir lists the files below the directory root as walk lists those of
// os.DirFS(root): file gets each regular file (or symlink to one) as its
// directory, with a trailing separator, and base name; other gets the
// inputs that stand for entries not read; stop, if not nil, is asked
// before each entry.
func walkDir(root string, file func(dir string, base []byte, size int64), other func(Input), stop func() bool) {
	walk(os.DirFS(root), ".", func(name string) string { return filepath.Join(root, filepath.FromSlash(name)) },
		func(_, shown string, size int64) {
			dir, base := filepath.Split(shown)
			file(dir, []byte(base), size)
		}, other, stop)
}
