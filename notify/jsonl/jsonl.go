package jsonl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/untrusted"
)

// Config is the settings of a jsonl sink.
type Config struct {
	Path   string `yaml:"path"`   // file to append to; "" or "-" is standard output.
	Format string `yaml:"format"` // "json" (default) or "text".
}

// Sink writes alerts as lines. It is safe for concurrent use; each Send is
// one write, so lines of concurrent sends do not interleave.
type Sink struct {
	name string
	text bool
	path string    // "" when writing to w.
	w    io.Writer // standard output.
	mu   sync.Mutex
}

var _ notify.Sink = (*Sink)(nil)

// New returns a sink appending to path, or writing to w when path is "" or "-".
func New(name string, c Config, w io.Writer) (*Sink, error) {
	s := &Sink{name: name, w: w}
	switch c.Format {
	case "", "json":
	case "text":
		s.text = true
	default:
		return nil, fmt.Errorf("format %q: want json or text", c.Format)
	}
	if c.Path != "" && c.Path != "-" {
		s.path = c.Path
	} else if w == nil {
		return nil, fmt.Errorf("no output")
	}
	return s, nil
}

// Build is the notify.Builder of types "jsonl" and "stdout" (deps.Stdout).
func Build(_ context.Context, name string, st notify.Settings, deps notify.Deps) (notify.Sink, error) {
	deps = deps.WithDefaults()
	var c Config
	if err := st.Decode(&c); err != nil {
		return nil, err
	}
	return New(name, c, deps.Stdout)
}

// Name returns the sink's name.
func (s *Sink) Name() string { return s.name }

// Send writes one line per alert (format json) or the message text (format
// text), and for a file syncs it before returning.
func (s *Sink) Send(_ context.Context, alerts []iamwatch.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if s.text {
		m := notify.Format(alerts)
		buf.WriteString(m.Text())
		buf.WriteByte('\n')
	} else {
		for i := range alerts {
			b, err := json.Marshal(&alerts[i])
			if err != nil {
				return notify.Permanent(fmt.Errorf("jsonl: encode alert: %w", err))
			}
			buf.Write(untrusted.JSON(b))
			buf.WriteByte('\n')
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path == "" {
		if _, err := s.w.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("jsonl: write: %w", err)
		}
		return nil
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("jsonl: open: %w", err)
	}
	_, werr := f.Write(buf.Bytes())
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("jsonl: write %s: %w", s.path, werr)
	}
	return nil
}
