package notify

// Length bounds, in runes, for untrusted text in a message; the text
// itself is made safe by untrusted.Text.
const (
	MaxTitle   = 120
	MaxSummary = 500
	MaxValue   = 160 // a field value: user name, source IP, event name, …
)
