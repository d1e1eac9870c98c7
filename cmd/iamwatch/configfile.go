package main

import (
	"context"
	"os"

	"github.com/iamwatch/iamwatch/config"
)

// loadConfig reads the configuration file (path, else $IAMWATCH_CONFIG) and
// applies the IAMWATCH_* environment.
func (e *env) loadConfig(path string) (*config.Config, error) {
	if path == "" {
		path = e.getenv("IAMWATCH_CONFIG")
	}
	if path == "" {
		return nil, usageErrorf("no configuration: give --config FILE or set IAMWATCH_CONFIG (iamwatch init writes an example)")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg, err := config.Parse(f, path)
	if err != nil {
		return nil, err
	}
	if err := checkConfig(context.Background(), cfg); err != nil {
		return nil, err
	}
	if err := cfg.ApplyEnv(e.getenv); err != nil {
		return nil, err
	}
	return cfg, nil
}
