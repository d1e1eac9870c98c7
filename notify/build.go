package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Deps are what builders may need, passed in by the command.
type Deps struct {
	Secrets *Resolver
	HTTP    *http.Client     // nil: a client with a 30 s timeout.
	Now     func() time.Time // nil: time.Now.
	Stdout  io.Writer        // for the stdout sink.
	Logger  *slog.Logger
}

// Builder makes the sink called name from its settings, resolving secret
// references through deps.Secrets. Each sink package provides one; the
// command passes the set it links in to [BuildSinks].
type Builder func(ctx context.Context, name string, settings Settings, deps Deps) (Sink, error)

// BuildSinks builds every sink of cfg with the builder of its type. Errors
// name the sink and never hold secret values.
func BuildSinks(ctx context.Context, cfg Config, builders map[string]Builder, deps Deps) (map[string]Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	deps = deps.WithDefaults()
	sinks := make(map[string]Sink, len(cfg.Sinks))
	var errs []error
	for _, name := range cfg.SinkNames() {
		sc := cfg.Sinks[name]
		b := builders[sc.Type]
		if b == nil {
			errs = append(errs, fmt.Errorf("notify: sink %q: unknown type %q", name, sc.Type))
			continue
		}
		s, err := b(ctx, name, sc.Settings, deps)
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: sink %q (%s): %w", name, sc.Type, err))
			continue
		}
		sinks[name] = s
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return sinks, nil
}

// WithDefaults returns d with nil fields filled in; builders may call it.
func (d Deps) WithDefaults() Deps {
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Secrets == nil {
		d.Secrets = &Resolver{}
	}
	if d.Stdout == nil {
		d.Stdout = io.Discard
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return d
}

// RateLimits returns each sink's rate limit from cfg, for [DispatcherOptions].
func (c *Config) RateLimits() map[string]int {
	m := make(map[string]int, len(c.Sinks))
	for n, s := range c.Sinks {
		if s.RateLimit > 0 {
			m[n] = s.RateLimit
		}
	}
	return m
}
