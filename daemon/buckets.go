package daemon

import (
	"errors"
	"fmt"
	"time"

	s3src "github.com/iamwatch/iamwatch/source/s3"
)

// addBucketSources adds the trail bucket and SQS sources.
func (dm *Daemon) addBucketSources() error {
	cfg, d := dm.d.Config, dm.d
	if c := cfg.Sources.S3; c != nil {
		src, err := s3src.New(s3src.Options{
			AWS: d.AWS, PathStyle: c.PathStyle, Bucket: c.Bucket, Prefix: c.Prefix, OrgID: c.OrgID,
			Accounts: c.Accounts, Regions: c.Regions,
			Store: d.Store, Processor: dm.proc, Observer: dm.metrics, Logger: d.Logger.With("source", s3src.Name), Now: d.Now,
			Workers: c.Workers, Interval: c.Interval.D(), Start: time.Duration(c.StartDays) * 24 * time.Hour,
		})
		if err != nil {
			return fmt.Errorf("daemon: %w", err)
		}
		dm.sources[s3src.Name] = src
	}
	if cfg.Sources.SQS != nil {
		return errors.New("daemon: the sqs source is not available yet")
	}
	return nil
}
