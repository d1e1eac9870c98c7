package web

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/iamwatch/iamwatch/query"
)

// chart is a bar chart the template draws as inline SVG: no script (the
// CSP allows none), coordinates computed here in the SVG's user units.
type chart struct {
	Title  string // the accessible name and the visible caption.
	W, H   int
	Left   float64 // the x of the value axis.
	Base   float64 // the y of the zero line.
	Bars   []bar
	Ticks  []tick // value axis.
	Labels []tick // category axis.
}

// bar is one category: the total and, drawn over it, the errors.
type bar struct {
	X, W       float64
	Y, H       float64
	EY, EH     float64
	Title      string // shown on hover (an SVG title element).
	Link       string
	Value, Err int64
}

type tick struct {
	X, Y float64
	Text string
}

const (
	chartW, chartH                = 960, 240
	chartLeft, chartBottom, chTop = 56.0, 28.0, 12.0
)

// barChart lays out the categories (in order) with their totals and errors.
func barChart(title string, names []string, totals, errs []int64, links []string, labelEvery int) *chart {
	c := &chart{Title: title, W: chartW, H: chartH, Left: chartLeft, Base: chartH - chartBottom}
	if len(names) == 0 {
		return nil
	}
	top := niceCeil(slices.Max(totals))
	plotH := c.Base - chTop
	step := (chartW - chartLeft - 8) / float64(len(names))
	bw := math.Max(step*0.8, 1)
	for i, n := range names {
		h := float64(totals[i]) / float64(top) * plotH
		eh := float64(errs[i]) / float64(top) * plotH
		b := bar{X: chartLeft + float64(i)*step + (step-bw)/2, W: bw, Y: c.Base - h, H: h, EY: c.Base - eh, EH: eh,
			Value: totals[i], Err: errs[i], Title: fmt.Sprintf("%s: %d events, %d errors", n, totals[i], errs[i])}
		if links != nil {
			b.Link = links[i]
		}
		c.Bars = append(c.Bars, b)
		if i%labelEvery == 0 {
			c.Labels = append(c.Labels, tick{X: b.X + bw/2, Y: c.Base + 18, Text: n})
		}
	}
	for _, f := range []float64{0, 0.5, 1} {
		v := int64(f * float64(top))
		c.Ticks = append(c.Ticks, tick{X: chartLeft - 6, Y: c.Base - f*plotH + 4, Text: strconv.FormatInt(v, 10)})
	}
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(n int64) int64 {
	if n < 1 {
		return 1
	}
	p := int64(1)
	for p*10 <= n {
		p *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}

// column returns the index of name in res's columns, or -1.
func column(res *query.Result, name string) int { return slices.Index(res.Columns, name) }

func intAt(row []any, i int) int64 {
	if i < 0 {
		return 0
	}
	switch v := row[i].(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	}
	return 0
}

// dailyChart draws daily_summary's events and errors per day, oldest day
// on the left; each bar links to the day's events.
func dailyChart(res *query.Result) *chart {
	iDay, iEv, iErr := column(res, "day"), column(res, "events"), column(res, "errors")
	if iDay < 0 || iEv < 0 || len(res.Rows) < 2 {
		return nil
	}
	var names, links []string
	var totals, errs []int64
	for i := len(res.Rows) - 1; i >= 0; i-- { // the query lists the newest day first.
		row := res.Rows[i]
		day, _ := row[iDay].(string)
		names = append(names, day)
		totals = append(totals, intAt(row, iEv))
		errs = append(errs, intAt(row, iErr))
		link := ""
		if t, err := time.Parse(time.DateOnly, day); err == nil {
			link = "/events?since=" + day + "&until=" + t.AddDate(0, 0, 1).Format(time.DateOnly)
		}
		links = append(links, link)
	}
	return barChart("Events (errors darker) per UTC day", names, totals, errs, links, max(1, (len(names)+11)/12))
}

// hourlyChart draws hourly_activity's events and errors for each of the 24
// hours of the day, hours without events included.
func hourlyChart(res *query.Result, loc *time.Location) *chart {
	iHour, iEv, iErr := column(res, "hour"), column(res, "events"), column(res, "errors")
	if iHour < 0 || iEv < 0 || len(res.Rows) == 0 {
		return nil
	}
	names := make([]string, 24)
	totals, errs := make([]int64, 24), make([]int64, 24)
	for h := range names {
		names[h] = fmt.Sprintf("%02d", h)
	}
	for _, row := range res.Rows {
		if h := intAt(row, iHour); h >= 0 && h < 24 {
			totals[h], errs[h] = intAt(row, iEv), intAt(row, iErr)
		}
	}
	zone := "UTC"
	if loc != nil {
		zone = loc.String()
	}
	return barChart("Events (errors darker) by hour of the day, "+zone, names, totals, errs, nil, 1)
}
