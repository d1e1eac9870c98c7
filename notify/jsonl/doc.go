// Package jsonl writes alerts to standard output or a file, one JSON object
// (the documented alert line, iamwatch.Alert) per line, or as the plain text
// message format. Output is safe for a terminal: JSON escapes C0 controls
// itself, and this package also escapes C1 controls and bidirectional
// overrides, which encoding/json leaves as they are; the text format has
// them removed.
package jsonl
