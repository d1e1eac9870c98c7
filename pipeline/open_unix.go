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
