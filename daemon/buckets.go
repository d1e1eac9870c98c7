package daemon

import (
	"fmt"
	"time"

	s3src "github.com/iamwatch/iamwatch/source/s3"
	sqssrc "github.com/iamwatch/iamwatch/source/sqs"
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
	if c := cfg.Sources.SQS; c != nil {
		// The SQS configuration has no path_style of its own: objects named
		// by notifications are usually in the trail bucket, so follow its
		// setting. (Endpoints given as an IP address are path-style anyway.)
		pathStyle := cfg.Sources.S3 != nil && cfg.Sources.S3.PathStyle
		src, err := sqssrc.New(sqssrc.Options{
			AWS: d.AWS, PathStyle: pathStyle, QueueURL: c.QueueURL,
			Processor: dm.proc, Store: d.Store, Observer: dm.metrics, Logger: d.Logger.With("source", sqssrc.Name), Now: d.Now,
			Workers: c.Workers, Visibility: c.Visibility.D(), MaxReceives: c.MaxReceives,
		})
		if err != nil {
			return fmt.Errorf("daemon: %w", err)
		}
		dm.sources[sqssrc.Name] = src
	}
	return nil
}
