// Package sample generates iamwatch's sample CloudTrail data: realistic
// records of two accounts over a few days — ordinary noise and every
// situation the detection catalog alerts on, with look-alikes that must not
// alert — and writes them in every input shape iamwatch reads (trail log
// files in the S3 key layouts, digest and Insights files, EventBridge
// events, LookupEvents output, JSON lines, arrays, a single record, and one
// deliberately broken file).
//
// Everything is deterministic: records come from seeded math/rand/v2
// sources and a fixed start time, never the wall clock, and gzip output has
// a fixed header, so [Build] with the same [Options] yields the same bytes.
// The committed sample in ../../sample is [Build] of the zero Options; its
// test checks that regenerating it changes nothing.
//
// [TrailWriter] also streams large trails for benchmarks
// (cmd/gentrail) without holding the records in memory.
//
// All data is our own: documentation account ids (111122223333,
// 444455556666, 777788889999), documentation IP ranges and a few
// GeoIP-test addresses, invented people and resources.
package sample
