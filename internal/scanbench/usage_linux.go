package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// waitid(2) arguments; the syscall package has no Waitid.
const (
	pPID    = 1
	wExited = 0x4
	wNoWait = 0x1000000
)

// waitExited waits until process pid has exited, leaving it unreaped.
func waitExited(pid int) error {
	var info [128]byte // siginfo_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid), uintptr(unsafe.Pointer(&info[0])), wExited|wNoWait, 0, 0)
		if errno != syscall.EINTR {
			if errno != 0 {
				return errno
			}
			return nil
		}
	}
}

// runMeasured runs cmd and returns the kernel's accounting of it. It waits
// for the child to exit without reaping it (waitid WNOWAIT), so that
// /proc/PID/io still holds its final counters, then reaps it.
func runMeasured(cmd *exec.Cmd) (usage, error) {
	if err := cmd.Start(); err != nil {
		return usage{}, err
	}
	var u usage
	if err := waitExited(cmd.Process.Pid); err != nil {
		_ = cmd.Wait() // reaps the child; the waitid error is the one to report
		return u, fmt.Errorf("waitid: %w", err)
	}
	wb, ioErr := writeBytes(cmd.Process.Pid)
	err := cmd.Wait()
	u.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.maxRSS = ru.Maxrss << 10 // KiB on Linux.
		u.writeBytes = ru.Oublock << 9
	}
	if ioErr == nil {
		u.writeBytes = wb
	}
	return u, err
}

// writeBytes reads write_bytes from /proc/pid/io.
func writeBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("write_bytes: ")); ok {
			return strconv.ParseInt(string(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/io: no write_bytes", pid)
}

// processCPU is the user + system time this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
