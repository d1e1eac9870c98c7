// Package config reads iamwatch's one configuration file: YAML, unknown keys
// rejected, every mistake reported with its line. It embeds the detection
// (detect.Config) and notification (notify.Config) sections as their
// packages define them. [Example] is the commented file `iamwatch init`
// writes.
//
// The package reads no environment itself: [Config.ApplyEnv] takes the
// command's getenv.
package config
