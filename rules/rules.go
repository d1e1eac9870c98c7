// Package rules is the built-in detection catalog: one YAML file per rule
// (rules/<id>.yaml, the format is documented in detect/rule.go), each with
// its own positive and negative test events. The files are embedded in the
// binary; Builtin exposes them and Load parses them.
package rules

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/iamwatch/iamwatch/detect"
)

//go:embed *.yaml prechecked.binpb
var files embed.FS

// Builtin returns the catalog files: a read-only file system holding
// <id>.yaml at its root.
func Builtin() fs.FS { return files }

// Load parses the built-in catalog. Errors can only come from a broken
// build (the catalog's own tests parse every file).
func Load() ([]*detect.Rule, error) {
	rs, err := detect.LoadFS(files, ".")
	if err != nil {
		return nil, fmt.Errorf("rules: built-in catalog: %w", err)
	}
	return rs, nil
}
