package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// manifestVersion is the manifest format; a newer one is refused rather
// than overwritten.
const manifestVersion = 1

// Manifest records what has been exported to a destination. It is stored
// as JSON at ManifestKey.
type Manifest struct {
	Version int                 `json:"version"`
	Days    map[string]DayEntry `json:"days"` // by UTC date, YYYY-MM-DD.
	// AlertDays are the exported days of alerts (by the alert's event-time
	// UTC date); Version is the alert source's [AlertDay] version.
	AlertDays map[string]DayEntry `json:"alert_days,omitempty"`
}

// DayEntry is one exported day.
type DayEntry struct {
	Count      int64     `json:"count"`             // events (alerts) written.
	Version    string    `json:"version,omitempty"` // the source's Day.Version when read.
	ByRegion   bool      `json:"by_region,omitempty"`
	Raw        bool      `json:"raw,omitempty"`
	Files      []string  `json:"files"` // keys relative to the destination root.
	Bytes      int64     `json:"bytes"`
	ExportedAt time.Time `json:"exported_at"` // Options.Now of the run.
}

// ReadManifest returns the manifest at dst's root: an empty one when there
// is none, an error when it cannot be read or is of a newer format.
func ReadManifest(ctx context.Context, dst Destination) (*Manifest, error) {
	b, err := dst.Get(ctx, ManifestKey)
	if errors.Is(err, fs.ErrNotExist) {
		return &Manifest{Version: manifestVersion, Days: map[string]DayEntry{}, AlertDays: map[string]DayEntry{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w (move it away to export everything again)", ManifestKey, err)
	}
	if m.Version > manifestVersion {
		return nil, fmt.Errorf("read manifest %s: version %d is newer than this program's %d", ManifestKey, m.Version, manifestVersion)
	}
	if m.Days == nil {
		m.Days = map[string]DayEntry{}
	}
	if m.AlertDays == nil {
		m.AlertDays = map[string]DayEntry{}
	}
	m.Version = manifestVersion
	return &m, nil
}

func (m *Manifest) write(ctx context.Context, dst Destination) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	b = append(b, '\n')
	if err := dst.Put(ctx, ManifestKey, bytes.NewReader(b), int64(len(b))); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}
