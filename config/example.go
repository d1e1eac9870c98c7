package config

import _ "embed"

// Example is a commented configuration file that Parse accepts.
//
//go:embed example.yaml
var Example string
