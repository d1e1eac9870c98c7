// Package detecttest builds small real detection engines for the tests of
// the packages that run one (pipeline, sources), so those tests stay about
// their own package and not the rule catalog.
package detecttest

import (
	"fmt"
	"testing"

	"github.com/iamwatch/iamwatch/detect"
)

// Names returns an Engine with one high-severity rule, id, raising one alert
// per event whose eventName is one of names.
func Names(t testing.TB, id string, names ...string) *detect.Engine {
	t.Helper()
	src := fmt.Sprintf("id: %s\ntitle: %s\nseverity: high\nmatch: {eventName: %q}\nsummary: s\n", id, id, names)
	r, err := detect.ParseRule(id+".yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	e, err := detect.New([]*detect.Rule{r}, detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
