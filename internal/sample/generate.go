package sample

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Shape is the input form a record is written in.
type Shape int

// The shapes, one per input form iamwatch reads.
const (
	ShapeTrail            Shape = iota // trail log files {"Records":[…]}, gzipped, S3 key layout.
	ShapeEventBridgeLines              // EventBridge events, one per line.
	ShapeEventBridgeArray              // EventBridge events, a JSON array.
	ShapeLookup                        // LookupEvents output {"Events":[…]}.
	ShapeLookupLines                   // LookupEvents events, one per line.
	ShapeRecordLines                   // plain records, one per line.
	ShapeRecordArray                   // plain records, a JSON array.
	ShapeSingle                        // one record alone in a file.
	ShapeBroken                        // the file with deliberately broken records.
	ShapeCloudWatchLogs                // the trail's CloudWatch Logs log group, exported and listed.
	numShapes
)

var shapeNames = [...]string{"trail", "eventbridge-lines", "eventbridge-array", "lookup-events", "lookup-events-lines", "record-lines", "record-array", "single-record", "broken", "cloudwatch-logs"}

func (s Shape) String() string {
	if s < 0 || s >= numShapes {
		return fmt.Sprintf("shape(%d)", int(s))
	}
	return shapeNames[s]
}

// Options configure the generator. The zero value is the shipped sample.
type Options struct {
	// Seed selects the pseudo-random sequence; 0 means DefaultSeed.
	Seed uint64
	// Start is midnight UTC of the first day; zero means DefaultStart.
	Start time.Time
	// Days of activity; 0 means 3.
	Days int
	// RecordsPerHour is the mean noise volume in a working hour (both
	// accounts together); 0 means 25, about 2,100 records in 3 days.
	RecordsPerHour float64
}

// DefaultSeed is the seed of Options when none is given.
const DefaultSeed = 20250310

// DefaultStart is a Monday.
var DefaultStart = time.Date(2025, time.March, 10, 0, 0, 0, 0, time.UTC)

func (o Options) withDefaults() Options {
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	o.Start = o.Start.UTC()
	if o.Days <= 0 {
		o.Days = 3
	}
	if o.RecordsPerHour <= 0 {
		o.RecordsPerHour = 25
	}
	return o
}

// Generate returns the sample's records in event-time order (ties broken by
// event ID): the catalog scenarios of the first three days plus noise over
// opt.Days, each with the Shape it is written in. The same Options always
// yield the same records.
func Generate(opt Options) []Record {
	opt = opt.withDefaults()
	w := newWorld(opt.Seed)
	main, dev := newInventory(w, AccountMain), newInventory(w, AccountDev)

	var out []Record
	sc := &scenarios{g: &gen{w: w, id: newIDs(opt.Seed, 2)}, start: opt.Start, main: main, dev: dev,
		emit: func(r Record) { out = append(out, r) }}
	sc.run()
	nScenario := len(out)

	n := newNoise(&gen{w: w, id: newIDs(opt.Seed, 3)}, []*inventory{main, dev}, opt.RecordsPerHour)
	n.run(opt.Start, opt.Start.AddDate(0, 0, opt.Days), func(r Record) bool { out = append(out, r); return true })
	assignShapes(out[nScenario:], newIDs(opt.Seed, 4))

	slices.SortStableFunc(out, func(a, b Record) int {
		if c := a.EventTime.Compare(b.EventTime); c != 0 {
			return c
		}
		return compareStrings(a.EventID, b.EventID)
	})
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// LookupRegion is the region of the sample's LookupEvents page (lookups are
// per region); LookupLinesRegion that of the one-event-per-line file;
// LogsRegion that of the trail's CloudWatch Logs log stream (its home
// region; the stream holds every region's events).
const (
	LookupRegion      = "eu-west-1"
	LookupLinesRegion = "us-east-1"
	LogsRegion        = "us-east-1"
	maxLookupPage     = 25 // as with --max-results 25; the API allows up to 50.
)

// assignShapes spreads noise over the shapes: most goes to trail files, a
// little to each other shape, within what that shape can carry (a
// LookupEvents page holds at most 50 events of one account and region).
func assignShapes(noise []Record, id ids) {
	lookup, lookupLines, broken, logs := 7, 0, 0, 0 // the scenarios put 7 events on the lookup page.
	for i := range noise {
		r := &noise[i]
		r.Shape = ShapeTrail
		acctMain := r.RecipientAccountID == AccountMain
		switch x := id.r.Float64(); {
		case x < 0.01:
			r.Shape = ShapeEventBridgeLines
		case x < 0.015:
			r.Shape = ShapeEventBridgeArray
		case x < 0.035:
			if acctMain && r.AWSRegion == LookupRegion && lookup < maxLookupPage {
				r.Shape = ShapeLookup
				lookup++
			}
		case x < 0.055:
			if acctMain && r.AWSRegion == LookupLinesRegion && lookupLines < 20 {
				r.Shape = ShapeLookupLines
				lookupLines++
			}
		case x < 0.065:
			r.Shape = ShapeRecordLines
		case x < 0.07:
			r.Shape = ShapeRecordArray
		case x < 0.075:
			if broken < 4 {
				r.Shape = ShapeBroken
				broken++
			}
		case x < 0.085:
			// The main account's trail also goes to CloudWatch Logs (CIS
			// asks for it), every region into its home region's stream;
			// some records are read back from there.
			if acctMain && logs < 30 {
				r.Shape = ShapeCloudWatchLogs
				logs++
			}
		}
	}
}

// parseObject decodes a JSON object into an Object, keeping member order.
func parseObject(b []byte) (Object, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	v, err := parseValue(d)
	if err != nil {
		return nil, err
	}
	o, ok := v.(Object)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	return o, nil
}

func parseValue(d *json.Decoder) (any, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := Object{}
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				v, err := parseValue(d)
				if err != nil {
					return nil, err
				}
				o = append(o, Field{k.(string), v})
			}
			_, err := d.Token()
			return o, err
		case '[':
			a := []any{}
			for d.More() {
				v, err := parseValue(d)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := d.Token()
			return a, err
		}
	case json.Number:
		return json.RawMessage(t.String()), nil
	case string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}
