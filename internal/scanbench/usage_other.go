//go:build !linux

package main

import (
	"os/exec"
	"time"
)

// runMeasured runs cmd; outside Linux it measures the time and the CPU
// time only.
func runMeasured(cmd *exec.Cmd) (usage, error) {
	err := cmd.Run()
	if cmd.ProcessState == nil {
		return usage{}, err
	}
	return usage{cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, err
}

// processCPU is not measured outside Linux.
func processCPU() time.Duration { return 0 }
