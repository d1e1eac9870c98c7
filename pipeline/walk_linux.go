//go:build linux

package pipeline

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// walkDir lists the files below the directory root as walk lists those of
// os.DirFS(root), in the same order, with the same names, failures and
// skips, and the same sizes for the regular files it sizes (see sizeFirst;
// -1, unknown, for the others): file gets each regular file (or
// symlink to one) as its directory, with a trailing separator, and base
// name, the base valid only during the call; other gets the inputs that
// stand for entries not read; stop, if not nil, is asked before each
// entry.
//
// It costs less than walk: it reads each directory once, through a
// descriptor (getdents), trusts the file type getdents gives, and learns
// a file's size, while it still does, with an fstatat relative to that
// descriptor, where walk lstat()s the file's whole path (the kernel looks
// each of its directories up again); and it makes no string a file. The
// entries that are neither files nor directories (symlinks, FIFOs…), rare
// in a trail, and those of a file system that gives no type, are stat()ed
// as walk does.
func walkDir(root string, file func(dir string, base []byte, size int64), other func(Input), stop func() bool) {
	root = filepath.Clean(root)
	prefix := root + string(filepath.Separator) // as filepath.Join(root, name) shows a name
	switch root {
	case ".":
		prefix = ""
	case string(filepath.Separator):
		prefix = root
	}
	w := dirWalker{file: file, other: other, stop: stop, buf: make([]byte, 32<<10)}
	w.dir(root, prefix)
}

// dirWalker is one walkDir: the entries of the directories it is in, from
// the root down, are stacked in ents and names.
type dirWalker struct {
	file  func(dir string, base []byte, size int64)
	other func(Input)
	stop  func() bool
	buf   []byte // getdents' buffer
	names []byte // the entries' names, each followed by a NUL (for fstatat)
	ents  []dirent
	files int // regular files met so far (see sizeFirst)
}

// dirent is an entry of a directory being walked.
type dirent struct {
	start, end int   // its name is names[start:end]
	typ        uint8 // unix.DT_REG, DT_DIR…, as getdents or fstatat said
	size       int64 // a regular file's size in bytes
	err        error // its fstatat's
}

// The fields of a struct linux_dirent64, as getdents returns them.
const (
	direntReclen = int(unsafe.Offsetof(unix.Dirent{}.Reclen))
	direntType   = int(unsafe.Offsetof(unix.Dirent{}.Type))
	direntName   = int(unsafe.Offsetof(unix.Dirent{}.Name))
)

// dir walks the directory at path, whose entries are shown as prefix
// followed by their names. It returns false when stop said to stop.
func (w *dirWalker) dir(path, prefix string) bool {
	first, names := len(w.ents), len(w.names)
	defer func() { w.ents, w.names = w.ents[:first], w.names[:names] }()
	if err := w.read(path); err != nil {
		w.other(failedInput(path, err)) // and not the entries read before the error, as walk
		return true
	}
	for i, last := first, len(w.ents); i < last; i++ {
		if w.stop != nil && w.stop() {
			return false
		}
		e := w.ents[i] // a copy: walking a subdirectory grows w.ents
		name := w.names[e.start:e.end]
		switch {
		case e.err != nil:
			w.other(failedInput(prefix+string(name), e.err))
		case e.typ == unix.DT_REG:
			w.file(prefix, name, e.size)
		case e.typ == unix.DT_DIR:
			sub := prefix + string(name)
			if !w.dir(sub, sub+string(filepath.Separator)) {
				return false
			}
		default:
			p := prefix + string(name)
			link := e.typ == unix.DT_LNK
			var fi fs.FileInfo
			var err error
			if link {
				fi, err = os.Stat(p)
			} else {
				fi, err = os.Lstat(p)
			}
			if in, ok := unread(p, fi, err, link); ok {
				w.other(in)
			} else {
				w.file(prefix, name, fi.Size())
			}
		}
	}
	return true
}

// read appends the entries of the directory at path to w.ents, sorted by
// name, leaving out the hidden ones ("." and ".." among them), and stats
// those that are regular files or of a type getdents did not say.
func (w *dirWalker) read(path string) error {
	var fd int
	if err := retry(func() (err error) {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		return err
	}); err != nil {
		return err
	}
	defer unix.Close(fd)
	first := len(w.ents)
	for {
		var n int
		if err := retry(func() (err error) {
			n, err = unix.Getdents(fd, w.buf)
			return err
		}); err != nil {
			return err
		}
		if n == 0 {
			break
		}
		for b := w.buf[:n]; len(b) > 0; {
			reclen := int(binary.NativeEndian.Uint16(b[direntReclen:]))
			typ, name := b[direntType], b[direntName:reclen]
			name = name[:bytes.IndexByte(name, 0)]
			b = b[reclen:]
			if name[0] == '.' {
				continue
			}
			start := len(w.names)
			w.names = append(append(w.names, name...), 0)
			w.ents = append(w.ents, dirent{start: start, end: start + len(name), typ: typ})
		}
	}
	ents := w.ents[first:]
	slices.SortFunc(ents, func(a, b dirent) int {
		return bytes.Compare(w.names[a.start:a.end], w.names[b.start:b.end])
	})
	for i := range ents {
		e := &ents[i]
		if e.typ == unix.DT_REG {
			w.files++
			if w.files > sizeFirst && w.files%sizeEvery != 0 {
				e.size = -1
				continue
			}
		}
		if e.typ != unix.DT_REG && e.typ != unix.DT_UNKNOWN {
			continue
		}
		var st unix.Stat_t
		name := string(w.names[e.start:e.end])
		if e.err = retry(func() error { return unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) }); e.err != nil {
			continue
		}
		e.size = st.Size
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			e.typ = unix.DT_REG
		case unix.S_IFDIR:
			e.typ = unix.DT_DIR
		case unix.S_IFLNK:
			e.typ = unix.DT_LNK
		default:
			e.typ = unix.DT_UNKNOWN // dir stats it again, by path
		}
	}
	return nil
}

// retry calls f again while it fails with EINTR, as package os does: a
// signal (the Go runtime sends some) can interrupt a call to a slow file
// system (NFS, FUSE).
func retry(f func() error) error {
	for {
		if err := f(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
