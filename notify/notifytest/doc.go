// Package notifytest holds what the tests of notify and its sinks share:
// fixture alerts, the table of hostile strings every sink must render
// safely, a recording HTTP server with scripted replies, and golden-file
// comparison. It is for tests only.
package notifytest
