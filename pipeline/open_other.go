//go:build !unix

package pipeline

import (
	"io"
	"os"
)

// openSpecial opens a device or pipe; reads of it are cancelled by Read's
// context (see cancelReader).
func openSpecial(p string) (io.ReadCloser, error) { return os.Open(p) }

// openRegular opens a file the walk listed as regular.
func openRegular(p string) (*os.File, error) { return os.Open(p) }
