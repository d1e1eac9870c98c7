//go:build !unix

package cloudtrail

import "time"

// cpuTime is not measured here: benchmarks report no per-CPU figure.
func cpuTime() time.Duration { return 0 }
