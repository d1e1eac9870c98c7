package export

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// ManifestKey is the key of the export manifest at the destination root.
const ManifestKey = "_iamwatch_export.json"

// FilePrefix and FileSuffix frame every data file's name:
// events_YYYYMMDD_HHMMSS.parquet.
const (
	FilePrefix = "events_"
	FileSuffix = ".parquet"
)

// UnknownRegion is the region partition of events without a usable
// aws_region (empty, or not of the form of a region name).
const UnknownRegion = "unknown"

// FileName is the data file name of an export run at t (UTC).
func FileName(t time.Time) string {
	return FilePrefix + t.UTC().Format("20060102_150405") + FileSuffix
}

// isDataFile reports whether the last element of key is a data file name.
func isDataFile(key string) bool {
	b := path.Base(key)
	return strings.HasPrefix(b, FilePrefix) && strings.HasSuffix(b, FileSuffix)
}

// DayPrefix is the partition directory of a UTC day (YYYY-MM-DD), with a
// trailing slash: year=2024/month=1/day=15/. No leading zeros, as Athena's
// integer partition projection expects.
func DayPrefix(date string) (string, error) {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return "", fmt.Errorf("export: bad date %q: %w", date, err)
	}
	y, m, d := t.Date()
	return fmt.Sprintf("year=%d/month=%d/day=%d/", y, int(m), d), nil
}

// RegionPrefix is the partition directory of one region of a day.
func RegionPrefix(dayPrefix, region string) string {
	return dayPrefix + "region=" + partitionRegion(region) + "/"
}

// partitionRegion maps aws_region to a safe partition value: region names
// are lower-case letters, digits and dashes. Anything else (the field comes
// from the record, which anyone can write) becomes UnknownRegion, so it can
// never climb out of the day's directory.
func partitionRegion(r string) string {
	if r == "" || len(r) > 32 {
		return UnknownRegion
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return UnknownRegion
		}
	}
	return r
}

// AlertsDir is the directory of the alert history under the destination
// root; AlertFilePrefix starts its data files' names:
// alerts/year=2024/month=1/day=15/alerts_YYYYMMDD_HHMMSS.parquet.
const (
	AlertsDir       = "alerts/"
	AlertFilePrefix = "alerts_"
)

// AlertFileName is the alert data file name of an export run at t (UTC).
func AlertFileName(t time.Time) string {
	return AlertFilePrefix + t.UTC().Format("20060102_150405") + FileSuffix
}

// AlertDayPrefix is the partition directory of a UTC day of alerts, with a
// trailing slash: alerts/year=2024/month=1/day=15/.
func AlertDayPrefix(date string) (string, error) {
	p, err := DayPrefix(date)
	if err != nil {
		return "", err
	}
	return AlertsDir + p, nil
}

// isAlertFile reports whether the last element of key is an alert data
// file name.
func isAlertFile(key string) bool {
	b := path.Base(key)
	return strings.HasPrefix(b, AlertFilePrefix) && strings.HasSuffix(b, FileSuffix)
}
