package export

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/iamwatch/iamwatch"
)

// AlertDay is what Run knows of one UTC day of stored alerts.
type AlertDay struct {
	Date  string // YYYY-MM-DD of the alerts' event time.
	Count int64
	// Version is a hash of the day's dedup keys and each alert's count of
	// event IDs: it changes when an alert is added to the day or a stored
	// alert absorbs more events (the only ways a stored alert changes).
	Version string
}

// AlertDays groups alerts by the UTC day of their Time, oldest day first,
// each day's alerts in (Time, DedupKey) order, with the days' versions.
func AlertDays(alerts []iamwatch.Alert) ([]AlertDay, map[string][]iamwatch.Alert) {
	by := map[string][]iamwatch.Alert{}
	for _, a := range alerts {
		d := a.Time.UTC().Format(time.DateOnly)
		by[d] = append(by[d], a)
	}
	days := make([]AlertDay, 0, len(by))
	for d, as := range by {
		slices.SortFunc(as, func(a, b iamwatch.Alert) int {
			return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.DedupKey, b.DedupKey))
		})
		h := sha256.New()
		for _, a := range as {
			h.Write([]byte(a.DedupKey))
			h.Write([]byte{0})
			h.Write(strconv.AppendInt(nil, int64(len(a.EventIDs)), 10))
			h.Write([]byte{0})
		}
		days = append(days, AlertDay{Date: d, Count: int64(len(as)), Version: "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]})
	}
	slices.SortFunc(days, func(a, b AlertDay) int { return cmp.Compare(a.Date, b.Date) })
	return days, by
}

// runAlerts exports the alert days of src in [since, until) that are new
// or changed, as Run does the events: one file per day under AlertsDir,
// never removing a day the store no longer holds (alerts are pruned from
// the store long before the export's history should end).
func runAlerts(ctx context.Context, src AlertSource, dst Destination, m *Manifest, since, until, now time.Time, opt Options, rep *AlertReport) error {
	alerts, err := src.Alerts(ctx, iamwatch.AlertFilter{Since: since, Until: until})
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	days, by := AlertDays(alerts)
	rep.Days = len(days)
	name := AlertFileName(now)
	for _, d := range days {
		old, done := m.AlertDays[d.Date]
		switch {
		case opt.Force || !done:
		case d.Count < old.Count:
			rep.Kept = append(rep.Kept, d.Date)
			continue
		case d.Count == old.Count && d.Version == old.Version:
			rep.Unchanged++
			continue
		}
		ent, err := writeAlertDay(ctx, dst, d, by[d.Date], name, opt, rep)
		if err != nil {
			return fmt.Errorf("day %s: %w", d.Date, err)
		}
		ent.ExportedAt = now
		m.AlertDays[d.Date] = ent
		if err := m.write(ctx, dst); err != nil {
			return fmt.Errorf("day %s: %w", d.Date, err)
		}
		rep.Written++
		if opt.Log != nil {
			opt.Log.Info("exported alert day", "date", d.Date, "alerts", ent.Count, "bytes", ent.Bytes)
		}
	}
	return nil
}

// writeAlertDay writes one day's alert file, uploads it, removes the day's
// other alert files, and returns the manifest entry.
func writeAlertDay(ctx context.Context, dst Destination, d AlertDay, alerts []iamwatch.Alert, name string, opt Options, rep *AlertReport) (DayEntry, error) {
	prefix, err := AlertDayPrefix(d.Date)
	if err != nil {
		return DayEntry{}, err
	}
	key := prefix + name
	ent := DayEntry{Version: d.Version}
	f, err := newTempFile[AlertRow](opt)
	if err != nil {
		return ent, err
	}
	defer f.discard()
	for i := range alerts {
		if err := f.add(AlertRowOf(&alerts[i])); err != nil {
			return ent, err
		}
	}
	size, err := f.finish()
	if err != nil {
		return ent, fmt.Errorf("write %s: %w", key, err)
	}
	if err := dst.Put(ctx, key, f.f, size); err != nil {
		return ent, err
	}
	ent.Files = []string{key}
	ent.Count, ent.Bytes = f.rows, size
	rep.Files = append(rep.Files, File{Key: key, Rows: f.rows, Bytes: size})
	rep.Alerts += f.rows
	rep.Bytes += size
	old, err := dst.List(ctx, prefix)
	if err != nil {
		return ent, err
	}
	for _, k := range old {
		if isAlertFile(k) && k != key {
			if err := dst.Delete(ctx, k); err != nil {
				return ent, err
			}
			rep.Deleted = append(rep.Deleted, k)
		}
	}
	return ent, nil
}
