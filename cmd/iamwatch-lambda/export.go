package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/iamwatch/iamwatch/export"
	exports3 "github.com/iamwatch/iamwatch/export/s3"
	"github.com/iamwatch/iamwatch/store/dynamodb"
)

// exporter is the lambda.Exporter of the exporter function: the Parquet
// export (package export) of the events table into the analytics bucket.
// Each run rewrites the days of the last lookback days that changed: later
// events (a poller backfill older than that) reach the export only with a
// manual run over a longer range.
type exporter struct {
	src      export.EventSource
	dst      export.Destination
	lookback time.Duration
	log      *slog.Logger
}

func newExporter(getenv func(string) string, store *dynamodb.Store, client *s3.Client, log *slog.Logger) (*exporter, error) {
	bucket := getenv("IAMWATCH_ANALYTICS_BUCKET")
	if bucket == "" {
		return nil, errors.New("IAMWATCH_ANALYTICS_BUCKET is not set")
	}
	days, err := optionalInt(getenv("IAMWATCH_EXPORT_LOOKBACK_DAYS"))
	if err != nil {
		return nil, fmt.Errorf("IAMWATCH_EXPORT_LOOKBACK_DAYS: %w", err)
	}
	if days == 0 {
		days = 3
	}
	prefix := getenv("IAMWATCH_EXPORT_PREFIX")
	if prefix == "" {
		prefix = "cloudtrail"
	}
	return &exporter{src: store.ExportSourceWithAlerts(), dst: exports3.New(client, bucket, prefix),
		lookback: time.Duration(days) * 24 * time.Hour, log: log}, nil
}

// Export writes the changed days of the last lookback days, in Lambda's
// /tmp (the template gives the function 2 GB of it).
func (x *exporter) Export(ctx context.Context, now time.Time) error {
	rep, err := export.Run(ctx, x.src, x.dst, export.Options{
		Now: func() time.Time { return now }, Since: now.Add(-x.lookback), TempDir: "/tmp", Log: x.log,
	})
	x.log.LogAttrs(ctx, slog.LevelInfo, "export", slog.Int("days", rep.Days), slog.Int("written", rep.Written),
		slog.Int("unchanged", rep.Unchanged), slog.Int64("events", rep.Events), slog.Int64("bytes", rep.Bytes))
	return err
}
