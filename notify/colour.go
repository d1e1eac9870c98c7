package notify

import "github.com/iamwatch/iamwatch"

// Colour returns the hex colour ("#rrggbb") sinks use for a severity.
func Colour(s iamwatch.Severity) string {
	switch {
	case s >= iamwatch.SeverityCritical:
		return "#b71c1c"
	case s == iamwatch.SeverityHigh:
		return "#e65100"
	case s == iamwatch.SeverityMedium:
		return "#f9a825"
	case s == iamwatch.SeverityLow:
		return "#1565c0"
	default:
		return "#757575"
	}
}
