package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/iamwatch/iamwatch/query"
)

// Downloads of a question's answer are bounded: DefaultDownloadRows rows
// unless the URL says otherwise (limit=N), never more than MaxDownloadRows.
const (
	DefaultDownloadRows = 10_000
	MaxDownloadRows     = 1_000_000
)

// defaultQuestionDays is the range a question covers when the URL names
// none: the last days of the stored history (ending at its newest event,
// not at the wall clock, so an old trail still answers), whole UTC days so
// that the roll-ups answer the aggregates.
const defaultQuestionDays = 7

type questionsData struct {
	Queries []query.Query
}

func (s *Server) questions(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "questions", "Questions", questionsData{Queries: query.All()})
}

// questionForm is a question's parameters, as in its URL.
type questionForm struct {
	Since, Until, User, Account, TZ, Hours string
	Weekends                               bool
}

func (f questionForm) values() url.Values {
	v := url.Values{"since": {f.Since}, "until": {f.Until}}
	for _, kv := range [][2]string{{"user", f.User}, {"account", f.Account}, {"tz", f.TZ}, {"hours", f.Hours}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	if f.Weekends {
		v.Set("weekends", "1")
	}
	return v
}

type questionData struct {
	Query    query.Query
	Form     questionForm
	Zoned    bool // the question reads a time zone (off_hours, hourly_activity).
	OffHours bool // the question reads business hours.
	Error    string
	Columns  []string
	Rows     [][]cell
	Chart    *chart
	Page     int
	Prev     string
	Next     string
	CSV      string
	JSON     string
}

// cell is one value of an answer, with a link where the column names
// something the console has a page for.
type cell struct {
	Text, Link string
	Num        bool
}

func (s *Server) question(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	q, ok := query.Lookup(name)
	if !ok {
		s.render(w, r, http.StatusNotFound, "error", "No such question", "There is no question named "+strconv.Quote(name)+".")
		return
	}
	v := r.URL.Query()
	d := questionData{Query: q, Zoned: name == "off_hours" || name == "hourly_activity", OffHours: name == "off_hours"}
	d.Form = questionForm{Since: v.Get("since"), Until: v.Get("until"), User: v.Get("user"), Account: v.Get("account"),
		TZ: v.Get("tz"), Hours: v.Get("hours"), Weekends: v.Get("weekends") != ""}
	ctx := r.Context()
	if !v.Has("since") && !v.Has("until") {
		// No range asked: the last days of the history.
		newest, err := s.cfg.Store.NewestEventTime(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !newest.IsZero() {
			day := newest.UTC().Truncate(24 * time.Hour)
			d.Form.Since = day.AddDate(0, 0, 1-defaultQuestionDays).Format(time.DateOnly)
		}
	}
	format := v.Get("format")
	p, msg := s.questionParams(q, d.Form, v)
	if msg != "" {
		if format != "" {
			http.Error(w, msg, http.StatusBadRequest)
			return
		}
		d.Error = msg
		s.render(w, r, http.StatusBadRequest, "question", q.Name, d)
		return
	}
	switch format {
	case "csv", "json":
		s.download(w, r, q, p, v, query.Format(format))
		return
	case "":
	default:
		http.Error(w, "format: csv or json", http.StatusBadRequest)
		return
	}
	var err error
	if d.Page, err = pageOf(v); err != nil {
		s.badRequest(w, r, err.Error())
		return
	}
	// Every row up to this page's end, and one more to know of a next one.
	p.Limit = d.Page * PageSize
	res, err := query.Run(ctx, s.cfg.Store.DB(), q.Name, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := d.Form.values()
	if d.Page > 1 {
		d.Prev = pageURL("/question/"+q.Name, base, d.Page-1)
	}
	if res.Truncated {
		d.Next = pageURL("/question/"+q.Name, base, d.Page+1)
	}
	dl := maps(base)
	dl.Set("format", "csv")
	d.CSV = "/question/" + q.Name + "?" + dl.Encode()
	dl.Set("format", "json")
	d.JSON = "/question/" + q.Name + "?" + dl.Encode()
	d.Columns = res.Columns
	start := min((d.Page-1)*PageSize, len(res.Rows))
	for _, row := range res.Rows[start:] {
		cells := make([]cell, len(row))
		for i, val := range row {
			cells[i] = cellOf(res.Columns[i], val)
		}
		d.Rows = append(d.Rows, cells)
	}
	switch q.Name {
	case "daily_summary":
		d.Chart = dailyChart(res)
	case "hourly_activity":
		d.Chart = hourlyChart(res, p.Location)
	}
	s.render(w, r, http.StatusOK, "question", q.Name, d)
}

// questionParams reads the form into query parameters, or says what is
// wrong with it.
func (s *Server) questionParams(q query.Query, f questionForm, v url.Values) (query.Params, string) {
	var p query.Params
	loc := time.UTC
	if f.TZ != "" {
		l, err := time.LoadLocation(f.TZ)
		if err != nil {
			return p, fmt.Sprintf("Time zone %q: not a zone name such as Europe/Paris.", f.TZ)
		}
		loc = l
	}
	now := s.cfg.Now()
	var err error
	if f.Since != "" {
		if p.Since, err = query.ParseTime(f.Since, now, loc); err != nil {
			return p, "Since: " + err.Error()
		}
	}
	if f.Until != "" {
		if p.Until, err = query.ParseTime(f.Until, now, loc); err != nil {
			return p, "Until: " + err.Error()
		}
	}
	if q.NeedsUser && f.User == "" {
		return p, "This question needs a user: type an actor's name (as the timeline and events show it)."
	}
	p.User, p.Account, p.Location, p.Weekends = f.User, f.Account, loc, f.Weekends
	if f.Hours != "" {
		if p.BusinessStart, p.BusinessEnd, err = query.ParseBusinessHours(f.Hours); err != nil {
			return p, "Business hours: " + err.Error()
		}
	}
	if !p.Since.IsZero() && !p.Until.IsZero() && !p.Since.Before(p.Until) {
		return p, "Since must be before until."
	}
	p.Limit = DefaultDownloadRows
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxDownloadRows {
			return p, fmt.Sprintf("Limit %q: a number of rows from 1 to %d.", l, MaxDownloadRows)
		}
		p.Limit = n
	}
	return p, ""
}

// download answers the question as a CSV or JSON-lines file, through the
// query package's writers: CSV cells a spreadsheet would run as formulas
// are written as text.
func (s *Server) download(w http.ResponseWriter, r *http.Request, q query.Query, p query.Params, v url.Values, f query.Format) {
	res, err := query.Run(r.Context(), s.cfg.Store.DB(), q.Name, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ext, ctype := "csv", "text/csv; charset=utf-8"
	if f == query.JSON {
		ext, ctype = "jsonl", "application/x-ndjson"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="iamwatch-%s.%s"`, q.Name, ext))
	if res.Truncated {
		h.Set("X-Iamwatch-Truncated", strconv.Itoa(p.Limit))
	}
	if err := query.Write(w, res, query.Options{Format: f}); err != nil {
		s.cfg.Log.Error("download", "question", q.Name, "err", err)
	}
}

// cellOf renders one answer value; user names, source IPs and event IDs
// link to their pages.
func cellOf(col string, v any) cell {
	var c cell
	switch v := v.(type) {
	case nil:
	case string:
		c.Text = v
	case int64:
		c.Text, c.Num = strconv.FormatInt(v, 10), true
	case float64:
		c.Text, c.Num = strconv.FormatFloat(v, 'f', -1, 64), true
	default:
		c.Text = fmt.Sprint(v)
	}
	if c.Text == "" {
		return c
	}
	switch col {
	case "user_name":
		c.Link = "/actor?" + url.Values{"user": {c.Text}}.Encode()
	case "source_ip":
		c.Link = "/events?" + url.Values{"source-ip": {c.Text}}.Encode()
	case "event_id":
		c.Link = "/event?" + url.Values{"id": {c.Text}}.Encode()
	case "day":
		if t, err := time.Parse(time.DateOnly, c.Text); err == nil {
			c.Link = "/events?" + url.Values{"since": {c.Text}, "until": {t.AddDate(0, 0, 1).Format(time.DateOnly)}}.Encode()
		}
	}
	return c
}
