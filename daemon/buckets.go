package daemon

import "errors"

// addBucketSources adds the trail bucket and SQS sources.
func (dm *Daemon) addBucketSources() error {
	if dm.d.Config.Sources.S3 != nil || dm.d.Config.Sources.SQS != nil {
		return errors.New("daemon: the s3 and sqs sources are not available yet")
	}
	return nil
}
