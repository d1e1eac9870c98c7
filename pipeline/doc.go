// Package pipeline is the one data path every source feeds: decoded events
// go through detection, the keep filter and the store, and the alerts they
// raise are claimed (deduplicated) before anyone is told. Sources call
// [Pipeline.Process] with a batch and advance their checkpoint only after it
// returns without error.
package pipeline
