package detect

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

func TestTravelPairs(t *testing.T) {
	tr := &Travel{Speed: DefaultTravelSpeed, MinDistance: DefaultTravelMinDistance}
	if h := tr.Horizon(); h < 20*time.Hour || h > 20*time.Hour+2*time.Minute {
		t.Fatalf("Horizon = %v, want about 20h (half the Earth at 1,000 km/h)", h)
	}
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	ny := sighting{id: "a", at: at, lat: 40.7128, lon: -74.0060, country: "US", city: "New York"}
	place := func(s sighting, id string, after time.Duration, lat, lon float64, country, city string) sighting {
		return sighting{id: id, at: s.at.Add(after), lat: lat, lon: lon, country: country, city: city}
	}
	for _, c := range []struct {
		name string
		b    sighting
		want bool
	}{
		{"Amsterdam 2h later", place(ny, "b", 2*time.Hour, 52.3676, 4.9041, "NL", "Amsterdam"), true},
		{"Amsterdam 9h later (a flight)", place(ny, "b", 9*time.Hour, 52.3676, 4.9041, "NL", "Amsterdam"), false},
		{"Amsterdam the same second", place(ny, "b", 0, 52.3676, 4.9041, "NL", "Amsterdam"), true},
		{"Ashburn 1 minute later (350 km: too near)", place(ny, "b", time.Minute, 39.0438, -77.4874, "US", "Ashburn"), false},
		{"the US centre 1 minute later (no city, same country)", place(ny, "b", time.Minute, 37.751, -97.822, "US", ""), false},
		{"Germany's centre 1 hour later (no city, another country)", place(ny, "b", time.Hour, 51.2993, 9.491, "DE", ""), true},
		{"Sydney 21h later (a flight: 760 km/h)", place(ny, "b", 21*time.Hour, -33.8688, 151.2093, "AU", "Sydney"), false},
		{"Sydney 15h later (16,000 km)", place(ny, "b", 15*time.Hour, -33.8688, 151.2093, "AU", "Sydney"), true},
	} {
		p, ok := tr.impossible(ny, c.b)
		if ok != c.want {
			t.Errorf("%s: impossible = %v (%.0f km, %.0f km/h), want %v", c.name, ok, p.km, p.speed, c.want)
		}
	}
	if p, _ := tr.impossible(ny, place(ny, "b", 0, 52.3676, 4.9041, "NL", "Amsterdam")); !math.IsInf(p.speed, 1) {
		t.Errorf("the same second: speed %v, want +Inf", p.speed)
	}
}

// TestPlaceValue: a sighting survives the trip through Hit.Value, with a
// city holding commas; control characters never reach the store.
func TestPlaceValue(t *testing.T) {
	ev := &iamwatch.Event{ID: "e1", Time: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), SourceIP: "192.0.2.9",
		Geo: iamwatch.Geo{Country: "NL", City: "Den Haag, \x1b[2JZuid", Lat: 52.0705, Lon: 4.3007, HasCoords: true}}
	v := placeValue(ev)
	if strings.ContainsAny(v, "\x1b\n") {
		t.Fatalf("placeValue = %q: control characters", v)
	}
	s, ok := parseSighting(iamwatch.Hit{EventID: ev.ID, Time: ev.Time, Value: v})
	if !ok || s.city != "Den Haag, [2JZuid" || s.country != "NL" || s.ip != "192.0.2.9" || s.lat != 52.0705 || s.lon != 4.3007 {
		t.Errorf("parseSighting(%q) = %+v, %v", v, s, ok)
	}
	// Database text and a zoned source address (netip accepts any zone)
	// never shift the fields after them nor bring control characters.
	for _, c := range []struct {
		name, ip, country, city string
		wantIP, wantCountry     string
	}{
		{"a country with a comma", "192.0.2.9", "N,L", "Delft", "192.0.2.9", "NL"},
		{"a country with a newline", "192.0.2.9", "N\nL", "Delft", "192.0.2.9", "NL"},
		{"a zone with commas and a newline", "2001:db8::9%a,b\nc", "NL", "Delft", "2001:db8::9%abc", "NL"},
	} {
		ev := &iamwatch.Event{ID: "e2", Time: ev.Time, SourceIP: c.ip,
			Geo: iamwatch.Geo{Country: c.country, City: c.city, Lat: 52.0116, Lon: 4.3571, HasCoords: true}}
		v := placeValue(ev)
		if strings.ContainsAny(v, "\x1b\n") {
			t.Errorf("%s: placeValue = %q: control characters", c.name, v)
		}
		s, ok := parseSighting(iamwatch.Hit{EventID: ev.ID, Time: ev.Time, Value: v})
		if !ok || s.ip != c.wantIP || s.country != c.wantCountry || s.city != c.city {
			t.Errorf("%s: parseSighting(%q) = %+v, %v; want ip %q, country %q, city %q", c.name, v, s, ok, c.wantIP, c.wantCountry, c.city)
		}
	}
	for _, bad := range []string{"", "a,b,c,d,e", "1,2,NL"} {
		if _, ok := parseSighting(iamwatch.Hit{Value: bad}); ok {
			t.Errorf("parseSighting(%q) ok", bad)
		}
	}
}

func TestParseTravel(t *testing.T) {
	head := "id: x\ntitle: X\nseverity: high\nmatch: {eventName: [ConsoleLogin]}\nsummary: s\n"
	for _, c := range []struct {
		body, err string
	}{
		{"travel: {by: [user_name]}\n", ""},
		{"travel: {by: [user_name], speed: 900, min_distance: 200}\n", ""},
		{"travel: {by: [user_name], speed: 0.000001}\n", ""}, // a horizon past time.Duration's range
		{"travel: {speed: 900}\n", "needs by"},
		{"travel: {by: [nope]}\n", "unknown field"},
		{"travel: {by: [user_name], speed: -1}\n", "positive number"},
		{"travel: {by: [user_name], min_distance: fast}\n", "positive number"},
		{"travel: {by: [user_name]}\nthreshold: {count: 2, within: 1h, by: [user_name]}\n", "drop threshold"},
	} {
		r, err := ParseRule("x.yaml", []byte(head+c.body))
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.body, err)
		case c.err == "" && (r.Travel == nil || !r.NeedsGeo()):
			t.Errorf("%q: Travel = %+v", c.body, r.Travel)
		case c.err == "" && r.Travel.Horizon() <= 0:
			t.Errorf("%q: Horizon = %v, want positive", c.body, r.Travel.Horizon())
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want %q", c.body, err, c.err)
		}
	}
}
