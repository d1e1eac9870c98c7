package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// timelineSummaryEvents bounds the events the timeline's source IP and
// user agent lists count (the actor's newest), so the page costs the same
// over any history.
const timelineSummaryEvents = 2000

// timelineAlerts bounds the actor's alerts read to mark the events.
const timelineAlerts = 1000

type timelineRow struct {
	Event  iamwatch.Event
	Day    string // set on the first row of each UTC day.
	Alerts []iamwatch.Alert
}

type timelineData struct {
	User         string
	Since, Until string
	Errors       bool
	Rows         []timelineRow
	IPs, Agents  []sqlite.ValueCount
	Counted      int // events the IP and agent lists count.
	Alerts       []iamwatch.Alert
	AlertsMore   bool
	Types, ARNs  []string // identity types and principal ARNs seen on the page.
	Older        string   // the next page's URL; "" on the last.
	Newest       string   // the first page's URL, when this is not it.
}

// parseCursor reads a page cursor: an event time (RFC 3339) and an event
// ID, separated by a comma.
func parseCursor(s string) (*sqlite.EventPosition, error) {
	if s == "" {
		return nil, nil
	}
	ts, id, ok := strings.Cut(s, ",")
	t, err := time.Parse(time.RFC3339, ts)
	if !ok || err != nil || id == "" {
		return nil, errors.New("the page cursor is not a time and an event ID")
	}
	return &sqlite.EventPosition{Time: t, ID: id}, nil
}

func cursorOf(e iamwatch.Event) string {
	return e.Time.UTC().Format(iamwatch.TimeFormat) + "," + e.ID
}

// timeline shows everything one actor (Event.UserName: a user, a role
// session, the person behind an Identity Center session) did, newest
// first, PageSize events a page, paged by cursor so the thousandth page
// costs what the first does.
func (s *Server) timeline(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := timelineData{User: q.Get("user"), Since: q.Get("since"), Until: q.Get("until"), Errors: q.Get("errors") != ""}
	if d.User == "" {
		s.badRequest(w, r, "Which actor? The timeline needs a user (?user=NAME).")
		return
	}
	after, err := parseCursor(q.Get("before"))
	if err != nil {
		s.badRequest(w, r, err.Error())
		return
	}
	f := sqlite.EventFilter{UserName: d.User, ErrorsOnly: d.Errors, NewestFirst: true, After: after, Limit: PageSize + 1}
	if f.Since, f.Until, err = s.timeRange(q); err != nil {
		s.badRequest(w, r, err.Error())
		return
	}
	ctx := r.Context()
	evs, err := s.cfg.Store.Events(ctx, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := url.Values{"user": {d.User}}
	for _, k := range []string{"since", "until", "errors"} {
		if v := q.Get(k); v != "" {
			base.Set(k, v)
		}
	}
	if len(evs) > PageSize {
		evs = evs[:PageSize]
		v := maps(base)
		v.Set("before", cursorOf(evs[len(evs)-1]))
		d.Older = "/actor?" + v.Encode()
	}
	if after != nil {
		d.Newest = "/actor?" + base.Encode()
	}

	as, err := s.cfg.Store.Alerts(ctx, iamwatch.AlertFilter{UserName: d.User, Limit: timelineAlerts})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	byEvent := map[string][]iamwatch.Alert{}
	for _, a := range as {
		ids := a.EventIDs
		if a.EventID != "" {
			ids = append(ids[:len(ids):len(ids)], a.EventID)
		}
		for _, id := range ids {
			if l := byEvent[id]; len(l) == 0 || l[len(l)-1].DedupKey != a.DedupKey {
				byEvent[id] = append(l, a)
			}
		}
	}
	d.Alerts = as[:min(len(as), 10)]
	d.AlertsMore = len(as) > 10
	seenType, seenARN := map[string]bool{}, map[string]bool{}
	day := ""
	for _, e := range evs {
		row := timelineRow{Event: e, Alerts: byEvent[e.ID]}
		if dd := e.Date(); dd != day {
			row.Day, day = dd, dd
		}
		d.Rows = append(d.Rows, row)
		if e.IdentityType != "" && !seenType[e.IdentityType] {
			seenType[e.IdentityType] = true
			d.Types = append(d.Types, e.IdentityType)
		}
		if e.PrincipalARN != "" && !seenARN[e.PrincipalARN] && len(d.ARNs) < 10 {
			seenARN[e.PrincipalARN] = true
			d.ARNs = append(d.ARNs, e.PrincipalARN)
		}
	}
	sf := f
	sf.After, sf.Limit, sf.ErrorsOnly = nil, timelineSummaryEvents, false
	if d.IPs, d.Counted, err = s.cfg.Store.EventCounts(ctx, sf, "source_ip", 10); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Agents, _, err = s.cfg.Store.EventCounts(ctx, sf, "user_agent", 10); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "timeline", "Timeline of "+d.User, d)
}

type eventData struct {
	Event  iamwatch.Event
	Raw    string // the stored record, indented; "" when none is stored.
	Alerts []iamwatch.Alert
}

// maxRawShown bounds the record shown (CloudTrail records are at most a
// few hundred kilobytes; a stored one could be anything).
const maxRawShown = 1 << 20

// event shows one stored event and its raw CloudTrail record, as stored.
func (s *Server) event(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	ctx := r.Context()
	e, err := s.cfg.Store.Event(ctx, id)
	if errors.Is(err, sqlite.ErrNotFound) || id == "" {
		s.render(w, r, http.StatusNotFound, "error", "No such event", "There is no stored event with ID "+strconv.Quote(id)+" (it may have been pruned).")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := eventData{Event: e}
	if len(e.Raw) > 0 {
		var buf bytes.Buffer
		if json.Indent(&buf, e.Raw, "", "  ") == nil {
			d.Raw = buf.String()
		} else {
			d.Raw = string(e.Raw)
		}
		if len(d.Raw) > maxRawShown {
			d.Raw = d.Raw[:maxRawShown] + "\n… (cut at 1 MiB)"
		}
	}
	as, err := s.cfg.Store.Alerts(ctx, iamwatch.AlertFilter{UserName: e.UserName, Limit: timelineAlerts})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, a := range as {
		if a.EventID == e.ID || slices.Contains(a.EventIDs, e.ID) {
			d.Alerts = append(d.Alerts, a)
		}
	}
	s.render(w, r, http.StatusOK, "event", e.Name+" by "+e.UserName, d)
}
