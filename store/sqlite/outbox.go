package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/iamwatch/iamwatch"
)

// Enqueue adds a pending delivery of the alert to each sink, due at now, at
// the alert's stored severity (see iamwatch.Outbox). A pair present at that
// severity or above is left as it is; below it, the pair takes the new
// severity and, once sent or failed, is pending again (pending and due
// later, it is due at now). The alert must have been claimed (stored) first.
func (s *Store) Enqueue(ctx context.Context, alertKey string, sinks []string, now time.Time) error {
	if len(sinks) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: enqueue %s: %w", alertKey, err)
	}
	defer tx.Rollback()
	var sev int
	switch err := tx.QueryRowContext(ctx, `SELECT severity FROM alerts WHERE dedup_key = ?`, alertKey).Scan(&sev); {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: enqueue %s: the alert is not stored: %w", alertKey, ErrNotFound)
	case err != nil:
		return fmt.Errorf("sqlite: enqueue %s: %w", alertKey, err)
	}
	for _, sink := range sinks {
		// In SET, the column names are the stored row's values.
		_, err := tx.ExecContext(ctx, `INSERT INTO deliveries (alert_key, sink, status, next_try, severity)
			VALUES (?, ?, 'pending', ?, ?)
			ON CONFLICT (alert_key, sink) DO UPDATE SET
				severity   = excluded.severity,
				attempts   = CASE status WHEN 'pending' THEN attempts ELSE 0 END,
				next_try   = CASE WHEN status = 'pending' AND next_try <= excluded.next_try THEN next_try ELSE excluded.next_try END,
				last_error = CASE status WHEN 'pending' THEN last_error ELSE '' END,
				sent_at    = CASE status WHEN 'pending' THEN sent_at ELSE '' END,
				status     = 'pending'
			WHERE excluded.severity > deliveries.severity`,
			alertKey, sink, wallTime(now), sev)
		if err != nil {
			return fmt.Errorf("sqlite: enqueue %s to %s: %w", alertKey, sink, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: enqueue %s: commit: %w", alertKey, err)
	}
	return nil
}

const deliveryColumns = "d.alert_key, d.sink, d.status, d.attempts, d.next_try, d.last_error, d.sent_at, d.severity"

// deliveryScan holds the text forms of a delivery row while it is scanned.
type deliveryScan struct {
	d                    iamwatch.Delivery
	status, next, sentAt string
}

func (ds *deliveryScan) dest() []any {
	return []any{&ds.d.AlertKey, &ds.d.Sink, &ds.status, &ds.d.Attempts, &ds.next, &ds.d.LastError, &ds.sentAt, &ds.d.Severity}
}

func (ds *deliveryScan) delivery() (iamwatch.Delivery, error) {
	var err error
	ds.d.Status = iamwatch.DeliveryStatus(ds.status)
	if ds.d.NextTry, err = parseTime(ds.next); err != nil {
		return ds.d, fmt.Errorf("delivery %s/%s: %w", ds.d.AlertKey, ds.d.Sink, err)
	}
	if ds.d.SentAt, err = parseTime(ds.sentAt); err != nil {
		return ds.d, fmt.Errorf("delivery %s/%s: %w", ds.d.AlertKey, ds.d.Sink, err)
	}
	return ds.d, nil
}

// prefixScanner scans pre first and then the destinations it is given, so
// that scanAlert can read the alert columns after the delivery columns.
type prefixScanner struct {
	rows *sql.Rows
	pre  []any
}

func (p prefixScanner) Scan(dst ...any) error { return p.rows.Scan(append(p.pre, dst...)...) }

// Due returns pending deliveries whose NextTry <= now, oldest NextTry first,
// with their alerts; limit <= 0 means no limit.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]iamwatch.DueDelivery, error) {
	q := `SELECT ` + deliveryColumns + `, ` + alertColumnsOf("a") + `
		FROM deliveries d JOIN alerts a ON a.dedup_key = d.alert_key
		WHERE d.status = 'pending' AND d.next_try <= ?
		ORDER BY d.next_try, d.rowid`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := s.r.QueryContext(ctx, q, wallTime(now))
	if err != nil {
		return nil, fmt.Errorf("sqlite: due deliveries: %w", err)
	}
	defer rows.Close()
	var out []iamwatch.DueDelivery
	for rows.Next() {
		var ds deliveryScan
		a, err := scanAlert(prefixScanner{rows, ds.dest()})
		if err != nil {
			return nil, fmt.Errorf("sqlite: due deliveries: %w", err)
		}
		d, err := ds.delivery()
		if err != nil {
			return nil, fmt.Errorf("sqlite: due deliveries: %w", err)
		}
		out = append(out, iamwatch.DueDelivery{Delivery: d, Alert: a})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: due deliveries: %w", err)
	}
	return out, nil
}

// ClaimDelivery leases d until until when it is still pending with the
// Attempts and NextTry Due returned (see iamwatch.Outbox).
func (s *Store) ClaimDelivery(ctx context.Context, d iamwatch.Delivery, until time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE deliveries SET next_try = ?
		WHERE alert_key = ? AND sink = ? AND status = 'pending' AND attempts = ? AND next_try = ?`,
		wallTime(until), d.AlertKey, d.Sink, d.Attempts, wallTime(d.NextTry))
	if err != nil {
		return false, fmt.Errorf("sqlite: claim delivery %s/%s: %w", d.AlertKey, d.Sink, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: claim delivery %s/%s: %w", d.AlertKey, d.Sink, err)
	}
	return n == 1, nil
}

// UpdateDelivery writes d's Status, Attempts, NextTry, LastError and SentAt
// while the stored delivery is pending. The error wraps ErrNotFound when
// (d.AlertKey, d.Sink) was never enqueued, iamwatch.ErrDeliverySettled when
// it is already sent or failed.
func (s *Store) UpdateDelivery(ctx context.Context, d iamwatch.Delivery) error {
	res, err := s.w.ExecContext(ctx, `UPDATE deliveries
		SET status = ?, attempts = ?, next_try = ?, last_error = ?, sent_at = ?
		WHERE alert_key = ? AND sink = ? AND status = 'pending' AND COALESCE(severity, 0) <= ?`,
		string(d.Status), d.Attempts, wallTime(d.NextTry), d.LastError, wallTime(d.SentAt), d.AlertKey, d.Sink, int(d.Severity))
	if err != nil {
		return fmt.Errorf("sqlite: update delivery %s/%s: %w", d.AlertKey, d.Sink, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: update delivery %s/%s: %w", d.AlertKey, d.Sink, err)
	}
	if n == 1 {
		return nil
	}
	var status string
	var sev int
	err = s.w.QueryRowContext(ctx, `SELECT status, COALESCE(severity, 0) FROM deliveries WHERE alert_key = ? AND sink = ?`, d.AlertKey, d.Sink).Scan(&status, &sev)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: update delivery %s/%s: %w", d.AlertKey, d.Sink, ErrNotFound)
	case err != nil:
		return fmt.Errorf("sqlite: update delivery %s/%s: %w", d.AlertKey, d.Sink, err)
	case status == string(iamwatch.DeliveryPending) && sev > int(d.Severity):
		return nil // escalated meanwhile: the rise is still to send
	}
	return fmt.Errorf("sqlite: update delivery %s/%s (%s): %w", d.AlertKey, d.Sink, status, iamwatch.ErrDeliverySettled)
}

// Deliveries lists the deliveries of one alert, by sink.
func (s *Store) Deliveries(ctx context.Context, alertKey string) ([]iamwatch.Delivery, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries d
		WHERE d.alert_key = ? ORDER BY d.sink`, alertKey)
	if err != nil {
		return nil, fmt.Errorf("sqlite: deliveries of %s: %w", alertKey, err)
	}
	defer rows.Close()
	var out []iamwatch.Delivery
	for rows.Next() {
		var ds deliveryScan
		if err := rows.Scan(ds.dest()...); err != nil {
			return nil, fmt.Errorf("sqlite: deliveries of %s: %w", alertKey, err)
		}
		d, err := ds.delivery()
		if err != nil {
			return nil, fmt.Errorf("sqlite: deliveries of %s: %w", alertKey, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: deliveries of %s: %w", alertKey, err)
	}
	return out, nil
}

// RetryFailed sets failed deliveries (of one sink, or all when sink is "")
// back to pending, due at now, and returns how many. Attempts and LastError
// are kept, as history for the notifier and `iamwatch alerts`.
func (s *Store) RetryFailed(ctx context.Context, sink string, now time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_try = ?
		WHERE status = 'failed' AND (? = '' OR sink = ?)`, wallTime(now), sink, sink)
	if err != nil {
		return 0, fmt.Errorf("sqlite: retry failed deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: retry failed deliveries: %w", err)
	}
	return int(n), nil
}

// RetryDelivery sets the failed delivery of one alert to one sink back to
// pending, due at now (as RetryFailed does for a whole sink), so the
// notifier sends it again at its next poll. It reports false when that
// delivery is not failed (pending, sent, or never enqueued): a delivery
// already sent is never sent again.
func (s *Store) RetryDelivery(ctx context.Context, alertKey, sink string, now time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_try = ?
		WHERE alert_key = ? AND sink = ? AND status = 'failed'`, wallTime(now), alertKey, sink)
	if err != nil {
		return false, fmt.Errorf("sqlite: retry delivery %s/%s: %w", alertKey, sink, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: retry delivery %s/%s: %w", alertKey, sink, err)
	}
	return n == 1, nil
}
