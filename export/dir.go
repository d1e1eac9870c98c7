package export

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Destination is where the files go: a local directory (Dir) or a bucket
// prefix (export/s3). Keys are slash-separated paths relative to the
// destination's root, without a leading slash.
type Destination interface {
	// Put stores size bytes read from r at key, replacing what is there.
	// Readers never see a partly written object.
	Put(ctx context.Context, key string, r io.ReadSeeker, size int64) error
	// Get returns the object at key; the error wraps fs.ErrNotExist when
	// there is none.
	Get(ctx context.Context, key string) ([]byte, error)
	// List returns the keys under prefix (a directory ending in "/", or ""),
	// at any depth, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes the object at key; a missing object is no error.
	Delete(ctx context.Context, key string) error
}

// Dir is a Destination in a local directory. Put writes a temporary file
// beside the target and renames it into place. Safe for concurrent use on
// distinct keys.
type Dir struct {
	root string
}

var _ Destination = (*Dir)(nil)

// NewDir returns the destination rooted at dir, creating it if needed.
func NewDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("export: dir %s: %w", dir, err)
	}
	return &Dir{root: dir}, nil
}

// Root returns the directory.
func (d *Dir) Root() string { return d.root }

// path returns the file path of key, refusing keys that would leave the root.
func (d *Dir) path(key string) (string, error) {
	if key == "" || !fs.ValidPath(key) {
		return "", fmt.Errorf("export: dir: bad key %q", key)
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

// Put implements Destination.
func (d *Dir) Put(ctx context.Context, key string, r io.ReadSeeker, size int64) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("export: dir: put %s: %w", key, err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("export: dir: put %s: %w", key, err)
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing to remove.
	n, err := io.Copy(f, r)
	if err == nil && n != size {
		err = fmt.Errorf("wrote %d bytes, want %d", n, size)
	}
	if err == nil {
		err = f.Close()
	} else {
		f.Close()
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		return fmt.Errorf("export: dir: put %s: %w", key, err)
	}
	return nil
}

// Get implements Destination.
func (d *Dir) Get(_ context.Context, key string) ([]byte, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("export: dir: get %s: %w", key, err)
	}
	return b, nil
}

// List implements Destination. Temporary files of Put are not listed.
func (d *Dir) List(_ context.Context, prefix string) ([]string, error) {
	start := d.root
	if prefix != "" {
		p, err := d.path(strings.TrimSuffix(prefix, "/"))
		if err != nil {
			return nil, err
		}
		start = p
	}
	var keys []string
	err := filepath.WalkDir(start, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == start {
				return fs.SkipAll
			}
			return err
		}
		if de.IsDir() || strings.HasPrefix(de.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		if k := filepath.ToSlash(rel); strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export: dir: list %s: %w", prefix, err)
	}
	sort.Strings(keys)
	return keys, nil
}

// Delete implements Destination. Directories the deletion leaves empty are
// removed too, up to the root.
func (d *Dir) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("export: dir: delete %s: %w", key, err)
	}
	for dir := path.Dir(key); dir != "." && dir != "/"; dir = path.Dir(dir) {
		if os.Remove(filepath.Join(d.root, filepath.FromSlash(dir))) != nil {
			break // not empty (or gone): stop.
		}
	}
	return nil //nolint:nilerr // a parent not empty (or gone) ends the cleanup of empty directories
}
