package main

import (
	"fmt"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/rules"
)

// loadRules returns the built-in catalog with each folder in dirs laid over
// it: a rule file with a built-in's id replaces it.
func loadRules(dirs []string) ([]*detect.Rule, error) {
	all, err := detect.LoadFS(rules.Builtin(), ".")
	if err != nil {
		return nil, fmt.Errorf("built-in rules: %w", err)
	}
	for _, dir := range dirs {
		extra, err := detect.LoadDir(dir)
		if err != nil {
			return nil, err
		}
		all = detect.Merge(all, extra)
	}
	return all, nil
}

// detector builds the rule engine over the catalog and the user's rule
// folders, with threshold state kept in state.
func (e *env) detector(dirs []string, cfg detect.Config, state iamwatch.ThresholdStore) (*detect.Engine, error) {
	rs, err := loadRules(dirs)
	if err != nil {
		return nil, err
	}
	return detect.New(rs, cfg)
}
