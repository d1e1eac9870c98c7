package cloudtrail

import "errors"

// Reasons a record or a file is not decoded. Errors returned by this package
// wrap one of them; test with errors.Is.
var (
	// ErrSkipped marks input that is recognised and deliberately not decoded:
	// digest files, Insights files and records. Count it as skipped, not
	// rejected.
	ErrSkipped = errors.New("skipped")
	// ErrTooLarge marks a record longer than Options.MaxRecordBytes or an
	// input that inflates past Options.MaxDecompressedBytes.
	ErrTooLarge = errors.New("too large")
	// ErrInvalidJSON marks bytes that are not JSON.
	ErrInvalidJSON = errors.New("invalid JSON")
	// ErrUnknownShape marks JSON that is neither a record nor any known
	// envelope of one (or not the shape a forced Format expects).
	ErrUnknownShape = errors.New("unknown shape")
	// ErrArchive marks an input that is a zip or tar archive (gzipped or
	// not) rather than CloudTrail: its members are inputs of their own,
	// which the caller opens (pipeline reads them). Nothing was decoded.
	ErrArchive = errors.New("archive")
	// ErrMissingField marks a record without eventID or eventTime.
	ErrMissingField = errors.New("missing required field")
	// ErrBadTime marks an eventTime that is not a UTC instant in one of the
	// forms parseEventTime reads (RFC 3339 and its common re-spellings).
	ErrBadTime = errors.New("bad eventTime")
)
