//go:build !linux

package testserver

import "syscall"

// dieWithParent is Linux's parent-death signal; elsewhere the process group
// is killed in t.Cleanup only.
func dieWithParent(*syscall.SysProcAttr) {}
