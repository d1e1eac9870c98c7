package detect

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/untrusted"
)

// Travel makes a rule an impossible-travel rule: it alerts on an event of
// an identity (the By fields, joined with "/") located so far from an
// earlier one of the same identity that getting there in the time between
// them needs a speed above Speed.
//
// Semantics, over event time only (never arrival order). A sighting is a
// matched event whose source IP the GeoIP database places at coordinates
// (a city database: GeoLite2-City, DB-IP City, ip-location-db's city
// files); an event without coordinates is no sighting. A pair of sightings
// (a, b) of one identity, a before b (event time, then event ID), is
// impossible when all of these hold:
//
//   - b comes at most Horizon() after a (farther apart, no speed on Earth's
//     surface exceeds Speed);
//   - they are at least MinDistance apart (GeoIP places an address within
//     tens to hundreds of kilometres: nearer pairs, in one country or across
//     a border, say nothing);
//   - neither is placed at a country's centre (no city) in the same country
//     as the other (such a point is not where the address is);
//   - distance / (b.Time - a.Time) exceeds Speed (same time: any distance).
//
// Each sighting b of at least one impossible pair raises one alert, keyed
// by (rule, identity, b), naming the fastest of its pairs (ties: the
// earlier a, then the smaller event ID) and counting them. Sightings are
// kept as threshold hits (Hit.Value holds the place), so every process and
// both stores see them; a batch reads those within Horizon of its own and
// re-decides every sighting it could pair with. The set of impossible
// pairs only grows as events come in, and an alert that counts more pairs
// replaces the stored one (iamwatch.Merge): whatever the order of arrival,
// the same events end with the same standing alerts, each naming the pair
// computed from all of them. State is one hit per sighting, pruned with
// the other hits (Store.Prune); only the last Horizon of an identity's
// sightings is read.
type Travel struct {
	By          []string
	Speed       float64 // km/h; default 1000.
	MinDistance float64 // km; default 500.
}

// The defaults of a travel block.
const (
	DefaultTravelSpeed       = 1000.0
	DefaultTravelMinDistance = 500.0
	earthRadiusKm            = 6371.0
)

// Horizon is the longest time between two sightings that can still be
// impossible: half Earth's circumference at Speed, or the longest Duration
// when that is longer (a speed under 0.01 km/h).
func (t *Travel) Horizon() time.Duration {
	h := math.Pi * earthRadiusKm / t.Speed * float64(time.Hour)
	if h >= math.MaxInt64 {
		return math.MaxInt64 // converted, it would wrap to a negative horizon: no pair ever impossible
	}
	return time.Duration(h)
}

// sighting is one located event of an identity, as a hit carries it.
type sighting struct {
	id       string
	at       time.Time
	lat, lon float64
	country  string
	ip       string
	city     string
}

// placeValue encodes where ev is as a Hit.Value: lat,lon,country,ip,city
// (the city last: it may hold commas). Control characters are removed and
// the fields bounded, as Hit.Value requires; the country (database text)
// and the address (a zoned IPv6 address may hold any text after its %)
// lose their commas, which would shift the fields after them.
func placeValue(ev *iamwatch.Event) string {
	g := ev.Geo
	return strconv.FormatFloat(g.Lat, 'f', 4, 64) + "," + strconv.FormatFloat(g.Lon, 'f', 4, 64) + "," +
		placeField(g.Country, 8, true) + "," + placeField(ev.SourceIP, 64, true) + "," + placeField(g.City, 100, false)
}

// placeField is s bounded to max bytes, without control characters, and
// without commas when noComma.
func placeField(s string, max int, noComma bool) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || noComma && r == ',' {
			return -1
		}
		return r
	}, untrusted.Truncate(s, max))
}

// parseSighting decodes a hit written by placeValue; ok is false for any
// other value.
func parseSighting(h iamwatch.Hit) (sighting, bool) {
	f := strings.SplitN(h.Value, ",", 5)
	if len(f) != 5 {
		return sighting{}, false
	}
	lat, err1 := strconv.ParseFloat(f[0], 64)
	lon, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil {
		return sighting{}, false
	}
	return sighting{id: h.EventID, at: h.Time, lat: lat, lon: lon, country: f[2], ip: f[3], city: f[4]}, true
}

// before orders sightings by event time, then event ID.
func (s sighting) before(o sighting) bool {
	if c := s.at.Compare(o.at); c != 0 {
		return c < 0
	}
	return s.id < o.id
}

// place is "Amsterdam, NL", or "NL" without a city. Database text:
// sanitised by the summary.
func (s sighting) place() string {
	if s.city == "" {
		return s.country
	}
	return s.city + ", " + s.country
}

// distanceKm is the great-circle distance between two sightings.
func distanceKm(a, b sighting) float64 {
	const rad = math.Pi / 180
	dLat, dLon := (b.lat-a.lat)*rad, (b.lon-a.lon)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.lat*rad)*math.Cos(b.lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(h)))
}

// pair is one impossible pair: a before b.
type pair struct {
	a, b  sighting
	km    float64
	speed float64 // km/h; +Inf when a and b have the same time.
}

// impossible reports whether (a, b), a before b, is an impossible pair
// under t, with its distance and speed.
func (t *Travel) impossible(a, b sighting) (pair, bool) {
	gap := b.at.Sub(a.at)
	if gap > t.Horizon() {
		return pair{}, false
	}
	if a.country == b.country && (a.city == "" || b.city == "") {
		return pair{}, false
	}
	km := distanceKm(a, b)
	if km < t.MinDistance {
		return pair{}, false
	}
	speed := math.Inf(1)
	if gap > 0 {
		speed = km / gap.Hours()
	}
	return pair{a: a, b: b, km: km, speed: speed}, speed > t.Speed
}

// sight records ev as a sighting of the travel rule c, when it is located.
func (b *Batch) sight(c *compiled, ev *iamwatch.Event) {
	if !ev.Geo.HasCoords {
		return
	}
	vals := make([]string, len(c.rule.Travel.By))
	for i, f := range c.rule.Travel.By {
		vals[i] = fieldValue(ev, f)
	}
	h := iamwatch.Hit{Rule: c.rule.ID, Group: strings.Join(vals, "/"), EventID: ev.ID, Time: ev.Time, Value: placeValue(ev)}
	b.Hits = append(b.Hits, h)
	if b.byID == nil {
		b.byID = map[string]*iamwatch.Event{}
	}
	b.byID[ev.ID] = ev
	if b.trips == nil {
		b.trips = map[obsKey][]iamwatch.Hit{}
	}
	k := obsKey{c, h.Group}
	b.trips[k] = append(b.trips[k], h)
}

// resolveTravel returns the impossible-travel alerts the batch's sightings
// decide (see Travel): after the batch's hits are recorded.
func (b *Batch) resolveTravel(ctx context.Context, view iamwatch.StateView) ([]iamwatch.Alert, error) {
	var out []iamwatch.Alert
	for _, k := range byRuleIdentity(b.trips) {
		as, err := b.travelOf(ctx, view, k, b.trips[k])
		if err != nil {
			return nil, fmt.Errorf("detect: rule %s: travel of %q: %w", k.c.rule.ID, k.identity, err)
		}
		out = append(out, as...)
	}
	return out, nil
}

func (b *Batch) travelOf(ctx context.Context, view iamwatch.StateView, k obsKey, batch []iamwatch.Hit) ([]iamwatch.Alert, error) {
	t := k.c.rule.Travel
	h := t.Horizon()
	from, to := batch[0].Time, batch[0].Time
	ours := make(map[string]bool, len(batch))
	for _, x := range batch {
		from, to = minTime(from, x.Time), maxTime(to, x.Time)
		ours[x.EventID] = true
	}
	hits, err := view.Hits(ctx, k.c.rule.ID, k.identity, from.Add(-h), to.Add(h))
	if err != nil {
		return nil, err
	}
	all := make([]sighting, 0, len(hits))
	for _, x := range hits {
		if s, ok := parseSighting(x); ok {
			all = append(all, s)
		}
	}
	slices.SortFunc(all, func(x, y sighting) int { return cmp.Or(x.at.Compare(y.at), cmp.Compare(x.id, y.id)) })
	all = slices.CompactFunc(all, func(x, y sighting) bool { return x.id == y.id })
	// The sightings to re-decide: the batch's, and each later one that
	// pairs impossibly with one of the batch's.
	redo := map[string]bool{}
	for i, s := range all {
		if !ours[s.id] {
			continue
		}
		redo[s.id] = true
		for _, o := range all[i+1:] {
			if o.at.Sub(s.at) > h {
				break
			}
			if _, ok := t.impossible(s, o); ok {
				redo[o.id] = true
			}
		}
	}
	var out []iamwatch.Alert
	for i, s := range all {
		if !redo[s.id] {
			continue
		}
		var best pair
		n := 0
		for j := i - 1; j >= 0 && s.at.Sub(all[j].at) <= h; j-- {
			p, ok := t.impossible(all[j], s)
			if !ok {
				continue
			}
			n++
			if n == 1 || p.speed > best.speed || p.speed == best.speed && p.a.before(best.a) {
				best = p
			}
		}
		if n == 0 {
			continue
		}
		a, err := b.travelAlert(ctx, view, k, best, n)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// travelKey is the dedup key of (rule, identity, the later sighting).
func travelKey(rule, identity, eventID string) string {
	return rule + "/travel/" + shortHash(identity+"\x00"+eventID)
}

// travelAlert is the alert of sighting p.b, naming its fastest pair p
// among n impossible ones.
func (b *Batch) travelAlert(ctx context.Context, view iamwatch.StateView, k obsKey, p pair, n int) (iamwatch.Alert, error) {
	ev, rec, err := raisingEvent(ctx, p.b.id, p.b.at, b.byID, view)
	if err != nil {
		return iamwatch.Alert{}, err
	}
	c := k.c
	a := newAlert(c, ev)
	a.Time, a.FirstSeen, a.LastSeen = p.b.at, p.a.at, p.b.at
	a.DedupKey, a.EventID, a.Group = travelKey(c.rule.ID, k.identity, p.b.id), p.b.id, k.identity
	a.EventIDs = []string{p.a.id, p.b.id}
	a.Count = n + 1
	speed := "any speed (the same second)"
	if !math.IsInf(p.speed, 1) {
		speed = thousands(p.speed) + " km/h"
	}
	a.Summary = b.eng.summary(c, ev, rec, map[string]any{
		"count":            strconv.Itoa(a.Count),
		"group":            sanitize(k.identity, maxValueRunes),
		"first_seen":       p.a.at.UTC().Format(iamwatch.TimeFormat),
		"last_seen":        p.b.at.UTC().Format(iamwatch.TimeFormat),
		"travel_from":      sanitize(p.a.place(), maxValueRunes),
		"travel_from_ip":   sanitize(p.a.ip, maxValueRunes),
		"travel_from_time": p.a.at.UTC().Format(iamwatch.TimeFormat),
		"travel_to":        sanitize(p.b.place(), maxValueRunes),
		"travel_to_time":   p.b.at.UTC().Format(iamwatch.TimeFormat),
		"travel_gap":       gapText(p.b.at.Sub(p.a.at)),
		"travel_km":        thousands(p.km),
		"travel_speed":     speed,
		"travel_pairs":     strconv.Itoa(n),
	})
	return a, nil
}

// thousands writes x rounded, with thousands separated by commas: 5,862.
func thousands(x float64) string {
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// gapText writes a time between two sightings to the minute: 1h05m, 12m, 0m.
func gapText(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Hour {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%dh%02dm", d/time.Hour, d%time.Hour/time.Minute)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func parseTravel(n *yaml.Node) (*Travel, error) {
	m, err := mapping(n, "travel", "by", "speed", "min_distance")
	if err != nil {
		return nil, err
	}
	if m["by"] == nil {
		return nil, errAt(n, "travel", "needs by")
	}
	t := &Travel{Speed: DefaultTravelSpeed, MinDistance: DefaultTravelMinDistance}
	if t.By, err = strs(m["by"], "travel.by"); err != nil {
		return nil, err
	}
	if len(t.By) == 0 {
		return nil, errAt(m["by"], "travel.by", "needs at least one field")
	}
	for _, f := range t.By {
		if !knownField(f) {
			return nil, errAt(m["by"], "travel.by", "unknown field %q (want one of %s)", f, strings.Join(Fields, ", "))
		}
	}
	for key, dst := range map[string]*float64{"speed": &t.Speed, "min_distance": &t.MinDistance} {
		v := m[key]
		if v == nil {
			continue
		}
		x, err := strconv.ParseFloat(v.Value, 64)
		if err != nil || v.Kind != yaml.ScalarNode || !(x > 0) || math.IsInf(x, 0) {
			return nil, errAt(v, "travel."+key, "%q is not a positive number of km/h or km", v.Value)
		}
		*dst = x
	}
	return t, nil
}
