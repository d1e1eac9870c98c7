package testserver

import "syscall"

// dieWithParent has the kernel kill the server when the test binary dies
// without running its cleanups (a test timeout's panic, a crash, a kill):
// a left-over emulator kept a core busy until someone noticed.
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
