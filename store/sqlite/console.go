package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/iamwatch/iamwatch"
)

// Session is one signed-in console session. IDHash is the hex SHA-256 of
// the cookie value; the value itself is never stored.
type Session struct {
	IDHash   string
	UserName string
	CSRF     string // the token every form of the session carries.
	// ReadOnly is the user's, read with the session (so a change of
	// role applies to sessions already open), unless FixedRole.
	ReadOnly bool
	// FixedRole: the session's user is no console account (an OIDC
	// sign-in) and ReadOnly, given to PutSession, is stored with the
	// session and lasts as long. Otherwise PutSession ignores ReadOnly.
	FixedRole bool
	Created   time.Time
	Expires   time.Time
}

// HasUsers reports whether any console user exists.
func (s *Store) HasUsers(ctx context.Context) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM console_users").Scan(&n); err != nil {
		return false, fmt.Errorf("sqlite: console users: %w", err)
	}
	return n > 0, nil
}

// PutUser creates the console user name, or replaces its password hash
// (keeping its role).
func (s *Store) PutUser(ctx context.Context, name, passwordHash string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO console_users (name, password_hash, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash`, name, passwordHash, wallTime(s.now()))
	if err != nil {
		return fmt.Errorf("sqlite: put console user %q: %w", name, err)
	}
	return nil
}

// PutUserRole creates the console user name with a password hash and a
// role (readOnly: may read every page, may change nothing), or replaces
// both.
func (s *Store) PutUserRole(ctx context.Context, name, passwordHash string, readOnly bool) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO console_users (name, password_hash, created_at, read_only) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, read_only = excluded.read_only`,
		name, passwordHash, wallTime(s.now()), readOnly)
	if err != nil {
		return fmt.Errorf("sqlite: put console user %q: %w", name, err)
	}
	return nil
}

// PasswordHash returns the password hash of the console user name; the
// error wraps ErrNotFound when there is no such user.
func (s *Store) PasswordHash(ctx context.Context, name string) (string, error) {
	var h string
	err := s.r.QueryRowContext(ctx, "SELECT password_hash FROM console_users WHERE name = ?", name).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("sqlite: console user %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: console user %q: %w", name, err)
	}
	return h, nil
}

// PutSession stores a new session.
func (s *Store) PutSession(ctx context.Context, ss Session) error {
	var role any // NULL: the account's.
	if ss.FixedRole {
		role = ss.ReadOnly
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO console_sessions (id_hash, user_name, csrf, created_at, expires_at, read_only) VALUES (?, ?, ?, ?, ?, ?)`,
		ss.IDHash, ss.UserName, ss.CSRF, wallTime(ss.Created), wallTime(ss.Expires), role)
	if err != nil {
		return fmt.Errorf("sqlite: put session: %w", err)
	}
	return nil
}

// Session returns the session with idHash, expired or not (the caller
// compares Expires with its clock); the error wraps ErrNotFound when there
// is none.
func (s *Store) Session(ctx context.Context, idHash string) (Session, error) {
	ss := Session{IDHash: idHash}
	var created, expires string
	// A session of a deleted user is read-only.
	err := s.r.QueryRowContext(ctx, `SELECT s.user_name, s.csrf, s.created_at, s.expires_at, COALESCE(s.read_only, u.read_only, 1), s.read_only IS NOT NULL
		FROM console_sessions s LEFT JOIN console_users u ON u.name = s.user_name WHERE s.id_hash = ?`, idHash).
		Scan(&ss.UserName, &ss.CSRF, &created, &expires, &ss.ReadOnly, &ss.FixedRole)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("sqlite: session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("sqlite: session: %w", err)
	}
	if ss.Created, err = parseTime(created); err != nil {
		return Session{}, fmt.Errorf("sqlite: session: %w", err)
	}
	if ss.Expires, err = parseTime(expires); err != nil {
		return Session{}, fmt.Errorf("sqlite: session: %w", err)
	}
	return ss, nil
}

// DeleteSession removes the session with idHash and every session that
// expired before now; removing a missing session is not an error.
func (s *Store) DeleteSession(ctx context.Context, idHash string, now time.Time) error {
	_, err := s.w.ExecContext(ctx, "DELETE FROM console_sessions WHERE id_hash = ? OR expires_at < ?", idHash, wallTime(now))
	if err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	return nil
}

// SetTriage stores t as the triage state of its alert, replacing any
// earlier one. The alert must exist (ErrNotFound otherwise).
func (s *Store) SetTriage(ctx context.Context, t iamwatch.Triage) error {
	if err := t.Validate(); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: set triage %s: %w", t.AlertKey, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM alerts WHERE dedup_key = ?", t.AlertKey).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: set triage %s: %w", t.AlertKey, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: set triage %s: alert %w", t.AlertKey, ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO alert_triage (dedup_key, status, by_user, at, note) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (dedup_key) DO UPDATE SET status = excluded.status, by_user = excluded.by_user, at = excluded.at, note = excluded.note`,
		t.AlertKey, string(t.Status), t.By, wallTime(t.At), t.Note); err != nil {
		return fmt.Errorf("sqlite: set triage %s: %w", t.AlertKey, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: set triage %s: %w", t.AlertKey, err)
	}
	return nil
}

// Triages returns the triage state of every alert that has one, by dedup
// key; an alert missing from the map is open.
func (s *Store) Triages(ctx context.Context) (map[string]iamwatch.Triage, error) {
	out := map[string]iamwatch.Triage{}
	err := eachRow(ctx, s.r, "SELECT dedup_key, status, by_user, at, note FROM alert_triage", nil, func(rows *sql.Rows) error {
		var t iamwatch.Triage
		var status, at string
		if err := rows.Scan(&t.AlertKey, &status, &t.By, &at, &t.Note); err != nil {
			return err
		}
		t.Status = iamwatch.TriageStatus(status)
		var err error
		if t.At, err = parseTime(at); err != nil {
			return err
		}
		out[t.AlertKey] = t
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: triages: %w", err)
	}
	return out, nil
}

// Triage returns the triage state of the alert with key: Status open
// when nobody has set one.
func (s *Store) Triage(ctx context.Context, key string) (iamwatch.Triage, error) {
	t := iamwatch.Triage{AlertKey: key, Status: iamwatch.TriageOpen}
	var status, at string
	err := s.r.QueryRowContext(ctx, "SELECT status, by_user, at, note FROM alert_triage WHERE dedup_key = ?", key).Scan(&status, &t.By, &at, &t.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return t, nil
	}
	if err != nil {
		return t, fmt.Errorf("sqlite: triage %s: %w", key, err)
	}
	t.Status = iamwatch.TriageStatus(status)
	if t.At, err = parseTime(at); err != nil {
		return t, fmt.Errorf("sqlite: triage %s: %w", key, err)
	}
	return t, nil
}

var _ iamwatch.TriageStore = (*Store)(nil)
