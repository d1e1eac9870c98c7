//go:build unix

package pipeline

import (
	"io"
	"os"
	"syscall"
)

// openSpecial opens a FIFO or device without blocking (opening a FIFO with
// no writer would block for ever). Go then reads it through the runtime
// poller, so closing it ends a pending read.
func openSpecial(p string) (io.ReadCloser, error) {
	return os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// openRegular opens a file the walk listed as regular. os.Open would also
// offer it to the runtime poller, which refuses regular files: four fcntl
// calls and an epoll_ctl a file, as many syscalls again as the open, read
// and close that matter, on trails of 100,000s of small files.
func openRegular(p string) (*os.File, error) {
	for {
		fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		switch err {
		case nil:
			return os.NewFile(uintptr(fd), p), nil
		case syscall.EINTR:
			continue
		}
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
}
