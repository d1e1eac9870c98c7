package query

// WithoutRollup returns p asking to read the events table even where a
// roll-up could answer, so that tests can compare the two.
func WithoutRollup(p Params) Params {
	p.noRollup = true
	return p
}
