package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/query"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// PageSize is how many rows a list page shows.
const PageSize = 50

// maxAlertScan bounds the alerts one list request reads before filtering
// by triage status (the status lives in another table).
const maxAlertScan = 10000

var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(iamwatch.TimeFormat)
	},
	"statusLabel": func(s iamwatch.TriageStatus) string { return strings.ReplaceAll(string(s), "_", " ") },
	"severities": func() []string {
		var out []string
		for sev := iamwatch.SeverityCritical; sev >= iamwatch.SeverityInfo; sev-- {
			out = append(out, sev.String())
		}
		return out
	},
}

// alertFilters are the alert list's filters, as in its URL query string.
type alertFilters struct {
	Severity, Rule, Account, Actor, Since, Until, Status string
	Page                                                 int
}

func (f alertFilters) values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"severity", f.Severity}, {"rule", f.Rule}, {"account", f.Account}, {"actor", f.Actor}, {"since", f.Since}, {"until", f.Until}, {"status", f.Status}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return v
}

// pageURL is the list URL with the same filters at page p.
func pageURL(path string, v url.Values, p int) string {
	v = maps(v)
	if p > 1 {
		v.Set("page", strconv.Itoa(p))
	} else {
		v.Del("page")
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

func maps(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func pageOf(v url.Values) (int, error) {
	s := v.Get("page")
	if s == "" {
		return 1, nil
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 1_000_000 {
		return 0, fmt.Errorf("page %q is not a page number", s)
	}
	return p, nil
}

func (s *Server) timeRange(v url.Values) (since, until time.Time, err error) {
	now := s.cfg.Now()
	if x := v.Get("since"); x != "" {
		if since, err = query.ParseTime(x, now, time.UTC); err != nil {
			return since, until, fmt.Errorf("since: %w", err)
		}
	}
	if x := v.Get("until"); x != "" {
		if until, err = query.ParseTime(x, now, time.UTC); err != nil {
			return since, until, fmt.Errorf("until: %w", err)
		}
	}
	return since, until, nil
}

type alertRow struct {
	iamwatch.Alert
	Triage iamwatch.Triage
}

type alertsData struct {
	Filters    alertFilters
	Severities []string
	Statuses   []iamwatch.TriageStatus
	Rows       []alertRow
	Total      int
	Truncated  bool // more than maxAlertScan matched: the list is partial.
	Prev, Next string
	Error      string
}

// badRequest renders page name with a message about the request.
func (s *Server) badRequest(w http.ResponseWriter, r *http.Request, msg string) {
	s.render(w, r, http.StatusBadRequest, "error", "Bad request", msg)
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := alertsData{
		Filters: alertFilters{Severity: q.Get("severity"), Rule: q.Get("rule"), Account: q.Get("account"), Actor: q.Get("actor"),
			Since: q.Get("since"), Until: q.Get("until"), Status: q.Get("status")},
		Statuses: iamwatch.TriageStatuses,
	}
	for sev := iamwatch.SeverityInfo; sev <= iamwatch.SeverityCritical; sev++ {
		d.Severities = append(d.Severities, sev.String())
	}
	f := iamwatch.AlertFilter{Rule: d.Filters.Rule, AccountID: d.Filters.Account, UserName: d.Filters.Actor, Limit: maxAlertScan + 1}
	var err error
	if d.Filters.Severity != "" {
		if f.MinSeverity, err = iamwatch.ParseSeverity(d.Filters.Severity); err != nil {
			s.badRequest(w, r, "severity: "+err.Error())
			return
		}
	}
	var status iamwatch.TriageStatus
	if d.Filters.Status != "" {
		if status, err = iamwatch.ParseTriageStatus(d.Filters.Status); err != nil {
			s.badRequest(w, r, err.Error())
			return
		}
	}
	if f.Since, f.Until, err = s.timeRange(q); err != nil {
		s.badRequest(w, r, err.Error())
		return
	}
	if d.Filters.Page, err = pageOf(q); err != nil {
		s.badRequest(w, r, err.Error())
		return
	}
	as, err := s.cfg.Store.Alerts(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(as) > maxAlertScan {
		as, d.Truncated = as[:maxAlertScan], true
	}
	ts, err := s.cfg.Store.Triages(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var rows []alertRow
	for _, a := range as {
		t, ok := ts[a.DedupKey]
		if !ok {
			t = iamwatch.Triage{AlertKey: a.DedupKey, Status: iamwatch.TriageOpen}
		}
		if status != "" && t.Status != status {
			continue
		}
		rows = append(rows, alertRow{Alert: a, Triage: t})
	}
	// Open first, then acknowledged, then the closed ones; newest first
	// within each (the store's order, kept by the stable sort).
	slices.SortStableFunc(rows, func(a, b alertRow) int { return triageRank(a.Triage.Status) - triageRank(b.Triage.Status) })
	d.Total = len(rows)
	d.Rows, d.Prev, d.Next = paginate(rows, d.Filters.Page, "/alerts", d.Filters.values())
	s.render(w, r, http.StatusOK, "alerts", "Alerts", d)
}

func triageRank(s iamwatch.TriageStatus) int {
	switch s {
	case iamwatch.TriageOpen, "":
		return 0
	case iamwatch.TriageAcknowledged:
		return 1
	}
	return 2
}

// paginate returns page p of rows and the links to the pages around it.
func paginate[T any](rows []T, p int, path string, v url.Values) (out []T, prev, next string) {
	start := (p - 1) * PageSize
	if start > len(rows) {
		start = len(rows)
	}
	end := min(start+PageSize, len(rows))
	if p > 1 {
		prev = pageURL(path, v, p-1)
	}
	if end < len(rows) {
		next = pageURL(path, v, p+1)
	}
	return rows[start:end], prev, next
}

type alertData struct {
	CSRF        string // the session's, for the triage form.
	ReadOnly    bool   // the user may not triage or retry: no forms.
	Alert       iamwatch.Alert
	Triage      iamwatch.Triage
	Statuses    []iamwatch.TriageStatus
	Description string
	Action      string
	References  []string
	Deliveries  []iamwatch.Delivery
	Events      []eventRow
	EventsTotal int
	Prev, Next  string
}

type eventRow struct {
	ID     string
	Event  iamwatch.Event
	Pruned bool
}

func (s *Server) alert(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := q.Get("key")
	p, err := pageOf(q)
	if err != nil {
		s.badRequest(w, r, err.Error())
		return
	}
	ctx := r.Context()
	as, err := s.cfg.Store.Alerts(ctx, iamwatch.AlertFilter{Key: key})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if key == "" || len(as) == 0 {
		s.render(w, r, http.StatusNotFound, "error", "No such alert", "There is no alert with dedup key "+strconv.Quote(key)+".")
		return
	}
	d := alertData{CSRF: sessionOf(r).CSRF, ReadOnly: sessionOf(r).ReadOnly, Alert: as[0], Statuses: iamwatch.TriageStatuses}
	a := d.Alert
	if rule, ok := s.rules[a.Rule]; ok {
		d.Description, d.References = rule.Description, rule.References
		d.Action = rule.Action
	}
	if a.Action != "" {
		d.Action = a.Action
	}
	if d.Triage, err = s.cfg.Store.Triage(ctx, key); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Deliveries, err = s.cfg.Store.Deliveries(ctx, key); err != nil {
		s.fail(w, r, err)
		return
	}
	// The alert's events, as `iamwatch alerts --events KEY` lists them: the
	// threshold hits of its rule and group over its span, or its event IDs.
	ids := a.EventIDs
	if a.Count > 1 || a.Group != "" {
		hits, err := s.cfg.Store.Hits(ctx, a.Rule, a.Group, a.FirstSeen, a.LastSeen)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(hits) > 0 {
			ids = make([]string, len(hits))
			for i, h := range hits {
				ids[i] = h.EventID
			}
		}
	}
	d.EventsTotal = len(ids)
	v := url.Values{"key": {key}}
	var pageIDs []string
	pageIDs, d.Prev, d.Next = paginate(ids, p, "/alert", v)
	for _, id := range pageIDs {
		ev, err := s.cfg.Store.Event(ctx, id)
		switch {
		case errors.Is(err, sqlite.ErrNotFound):
			d.Events = append(d.Events, eventRow{ID: id, Pruned: true})
		case err != nil:
			s.fail(w, r, err)
			return
		default:
			d.Events = append(d.Events, eventRow{ID: id, Event: ev})
		}
	}
	s.render(w, r, http.StatusOK, "alert", a.Title, d)
}

func (s *Server) triage(w http.ResponseWriter, r *http.Request) {
	key := r.PostFormValue("key")
	status, err := iamwatch.ParseTriageStatus(r.PostFormValue("status"))
	if err != nil {
		s.badRequest(w, r, err.Error())
		return
	}
	t := iamwatch.Triage{AlertKey: key, Status: status, By: sessionOf(r).UserName, At: s.cfg.Now(), Note: r.PostFormValue("note")}
	if err := t.Validate(); err != nil {
		s.badRequest(w, r, err.Error())
		return
	}
	if err := s.cfg.Store.SetTriage(r.Context(), t); err != nil {
		if errors.Is(err, sqlite.ErrNotFound) {
			s.render(w, r, http.StatusNotFound, "error", "No such alert", "There is no alert with dedup key "+strconv.Quote(key)+".")
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/alert?"+url.Values{"key": {key}}.Encode(), http.StatusSeeOther)
}

// retry sets one failed delivery of an alert back to pending, due now: the
// notifier (iamwatch run, or the Lambda flusher) sends it at its next poll,
// as `iamwatch notify retry` does for a whole sink.
func (s *Server) retry(w http.ResponseWriter, r *http.Request) {
	key, sink := r.PostFormValue("key"), r.PostFormValue("sink")
	ok, err := s.cfg.Store.RetryDelivery(r.Context(), key, sink, s.cfg.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.render(w, r, http.StatusConflict, "error", "Nothing to retry",
			"The delivery of alert "+strconv.Quote(key)+" to "+strconv.Quote(sink)+" is not failed (it is pending, sent, or does not exist): nothing was changed.")
		return
	}
	s.cfg.Log.Info("delivery retry asked", "alert", key, "sink", sink, "user", sessionOf(r).UserName)
	http.Redirect(w, r, "/alert?"+url.Values{"key": {key}}.Encode(), http.StatusSeeOther)
}

type eventsData struct {
	Filters    url.Values
	F          map[string]string
	Errors     bool
	Rows       []iamwatch.Event
	Prev, Next string
}

// eventFilterNames are the events page's filters, as `iamwatch events`
// names its flags.
var eventFilterNames = []string{"user", "event-name", "event-source", "source-ip", "account", "region", "since", "until"}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := eventsData{F: map[string]string{}, Filters: url.Values{}, Errors: q.Get("errors") != ""}
	for _, n := range eventFilterNames {
		if v := q.Get(n); v != "" {
			d.F[n] = v
			d.Filters.Set(n, v)
		}
	}
	if d.Errors {
		d.Filters.Set("errors", "1")
	}
	p, err := pageOf(q)
	if err != nil {
		s.badRequest(w, r, err.Error())
		return
	}
	f := sqlite.EventFilter{UserName: d.F["user"], EventName: d.F["event-name"], EventSource: d.F["event-source"],
		AccountID: d.F["account"], Region: d.F["region"], ErrorsOnly: d.Errors, NewestFirst: true,
		// This page and one more row (to know whether there is a next
		// page); SQLite skips the rows before it without reading them.
		Offset: (p - 1) * PageSize, Limit: PageSize + 1}
	if err := f.SetSource(d.F["source-ip"]); err != nil {
		s.badRequest(w, r, err.Error())
		return
	}
	if f.Since, f.Until, err = s.timeRange(q); err != nil {
		s.badRequest(w, r, err.Error())
		return
	}
	evs, err := s.cfg.Store.Events(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(evs) > PageSize {
		evs, d.Next = evs[:PageSize], pageURL("/events", d.Filters, p+1)
	}
	if p > 1 {
		d.Prev = pageURL("/events", d.Filters, p-1)
	}
	d.Rows = evs
	s.render(w, r, http.StatusOK, "events", "Events", d)
}

type sevCount struct {
	Severity      string
	Open, Ack     int
	Closed, Total int
}

type overviewData struct {
	Counts   []sevCount
	Open     []alertRow
	SignIns  []iamwatch.Event
	Actors   []countRow
	IPs      []countRow
	Scanned  int
	Partial  bool
	OpenMore bool
}

type countRow struct {
	Name  string
	Count int
}

// overviewEvents bounds the events the overview's top lists count.
const overviewEvents = 20000

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	as, err := s.cfg.Store.Alerts(ctx, iamwatch.AlertFilter{Limit: maxAlertScan})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ts, err := s.cfg.Store.Triages(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var d overviewData
	counts := make([]sevCount, iamwatch.SeverityCritical+1)
	for i := range counts {
		counts[i].Severity = iamwatch.Severity(i).String()
	}
	for _, a := range as {
		t, ok := ts[a.DedupKey]
		if !ok {
			t.Status = iamwatch.TriageOpen
		}
		c := &counts[a.Severity]
		c.Total++
		switch {
		case t.Status == iamwatch.TriageOpen:
			c.Open++
			if len(d.Open) < 10 {
				d.Open = append(d.Open, alertRow{Alert: a, Triage: t})
			} else {
				d.OpenMore = true
			}
		case t.Status == iamwatch.TriageAcknowledged:
			c.Ack++
		default:
			c.Closed++
		}
	}
	slices.Reverse(counts) // critical first.
	d.Counts = counts
	slices.SortStableFunc(d.Open, func(a, b alertRow) int { return int(b.Severity) - int(a.Severity) })
	if d.SignIns, err = s.cfg.Store.Events(ctx, sqlite.EventFilter{EventName: "ConsoleLogin", NewestFirst: true, Limit: 20}); err != nil {
		s.fail(w, r, err)
		return
	}
	// Counted in SQLite over the newest overviewEvents events: a bounded
	// cost over any history.
	recent := sqlite.EventFilter{NewestFirst: true, Limit: overviewEvents}
	actors, n, err := s.cfg.Store.EventCounts(ctx, recent, "user_name", 11)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ips, _, err := s.cfg.Store.EventCounts(ctx, recent, "source_ip", 11)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Scanned, d.Partial = n, n == overviewEvents
	d.Actors, d.IPs = topOf(actors, 10), topOf(ips, 10)
	s.render(w, r, http.StatusOK, "overview", "Overview", d)
}

// topOf returns the first n counts with a value, as rows.
func topOf(vs []sqlite.ValueCount, n int) []countRow {
	var out []countRow
	for _, v := range vs {
		if v.Value != "" && len(out) < n {
			out = append(out, countRow{v.Value, v.Count})
		}
	}
	return out
}
