package main

import (
	"fmt"
	"io/fs"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/geoip"
	"github.com/iamwatch/iamwatch/rules"
)

// loadRules returns the built-in catalog with each folder in dirs laid over
// it: a rule file with a built-in's id replaces it.
func loadRules(dirs []string) ([]*detect.Rule, error) {
	return loadRulesWith(detect.LoadFS, dirs)
}

// matchingRules is loadRules for an engine: the built-in rules without
// their inline tests (go test runs those), the folders' rules whole (a
// broken test still fails the load).
func matchingRules(dirs []string) ([]*detect.Rule, error) {
	return loadRulesWith(detect.LoadFSForEngine, dirs)
}

func loadRulesWith(builtin func(fs.FS, string) ([]*detect.Rule, error), dirs []string) ([]*detect.Rule, error) {
	all, err := builtin(rules.Builtin(), ".")
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
// folders, with threshold state kept in state, locating source IPs with
// the GeoIP databases of cfg (or, for the sample, the sample database when
// none is configured). close releases the databases.
func (e *env) detector(dirs []string, cfg detect.Config, state iamwatch.ThresholdStore) (eng *detect.Engine, close func(), err error) {
	return e.detectorWith(dirs, cfg, false)
}

func (e *env) detectorWith(dirs []string, cfg detect.Config, sample bool) (*detect.Engine, func(), error) {
	rs, err := matchingRules(dirs)
	if err != nil {
		return nil, nil, err
	}
	close, err := openGeo(&cfg, sample)
	if err != nil {
		return nil, nil, err
	}
	eng, err := detect.New(rs, cfg)
	if err != nil {
		close()
		return nil, nil, err
	}
	return eng, close, nil
}

// openGeo sets cfg.Geo from cfg.GeoIP; with none configured and sample
// set, from the sample database (the sample trail's documentation
// addresses are only in it). close releases what it opened.
func openGeo(cfg *detect.Config, sample bool) (close func(), err error) {
	var db *geoip.DB
	switch {
	case len(cfg.GeoIP) > 0:
		db, err = geoip.Open(cfg.GeoIP...)
	case sample:
		db, err = geoip.Sample()
	default:
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("detection.geoip: %w", err)
	}
	cfg.Geo = db
	return func() { db.Close() }, nil
}
