// Package untrusted owns showing untrusted text: everything CloudTrail lets
// an attacker write (user names, role session names, user agents, request
// parameters, event IDs, regions), and file names and receivers' error
// bodies. It has one function per medium; every command, sink and page
// shows such text through it, and nothing else builds display strings from
// it.
//
// The media and their contracts (every function returns valid UTF-8,
// whatever its input, and is safe for concurrent use):
//
//   - [Terminal]: one line for a terminal. C0 controls (escape, carriage
//     return, line feed, NUL), DEL, C1 controls and bytes that are not UTF-8
//     are shown as \xNN; hidden characters (see below) as \uNNNN or
//     \UNNNNNNNN; a tab is a space. Idempotent. Not bounded: callers
//     that lay text out bound it ([Truncate], query's cells).
//   - [TerminalLines]: [Terminal] for several lines: line feeds are kept.
//   - [Text]: one line of plain text for a message (Slack, Teams, PagerDuty,
//     email, SNS, a stored error): as [Terminal], but tabs and line breaks
//     (CR, LF, NEL, U+2028, U+2029) are spaces, so that a value cannot forge
//     a line of the message; trimmed; bounded to max runes with "…".
//     Idempotent for a given max.
//   - [CSV]: a cell of CSV written for a spreadsheet or a terminal: as
//     [Terminal] but tabs and line feeds are kept (the CSV writer quotes
//     them), and text a spreadsheet would run as a formula (starting with
//     =, +, -, @, a tab or CR, and not a number) gets a leading apostrophe.
//     Idempotent.
//   - [Slack]: mrkdwn: [Text] (unbounded), then &, < and > as entities (no
//     <url|text> link, <@U…> mention or <!channel> broadcast is obeyed), and
//     a word joiner after the @ of @channel, @here and @everyone. Not
//     idempotent (entities): apply once, last.
//   - [Markdown]: Adaptive Card (Teams) markdown: [Text] (unbounded), then
//     inline syntax backslash-escaped and a leading list, heading or quote
//     marker escaped. Not idempotent: apply once, last.
//   - [HTML]: HTML element content or a quoted attribute value: [Text]
//     (unbounded), then &, <, >, " and ' escaped. Email bodies and the
//     console's pages use html/template, which escapes by context instead:
//     email bodies get [Text] output from notify's message; the console
//     gives it stored values, so hidden characters reach the browser
//     (escaped, but not made visible).
//   - [Header]: an email header value: [Text] bounded to MaxHeader runes,
//     then RFC 2047 Q-encoded when not printable ASCII. Never holds CR or LF.
//   - [ASCII]: printable ASCII for fields that allow nothing else (the SNS
//     Subject), bounded in bytes.
//   - [JSON]: encoded JSON to be shown on a terminal: every character
//     [Terminal] would escape (and C0 controls other than space and line
//     feed) is written as a \u escape, which denotes the same character
//     inside a string, so valid JSON decodes to the same value; bytes that
//     are not UTF-8 become \ufffd.
//
// Hidden characters are those that show as nothing or change how what
// follows is shown: the Unicode format characters (category Cf: bidi
// embeddings, overrides and isolates, zero-width space, joiners, word
// joiner, BOM, soft hyphen, tag characters), the tag block U+E0000–U+E007F,
// and the line and paragraph separators U+2028 and U+2029. A backslash is
// not escaped: escaping is idempotent, so text made visible once (a stored
// summary) is not escaped again by the medium that shows it.
//
// The copies this package replaced disagreed; this is how each
// disagreement was settled:
//
//   - Dropped or shown: notify.CleanText dropped control, bidi and
//     zero-width characters; the terminal and the tables showed them. They
//     are shown everywhere now, so a reader sees that a name hid something
//     (admin\u202egnp.exe, not admingnp.exe).
//   - Which hidden characters: the summary, the tables and the jsonl sink
//     missed zero-width and tag characters, notify missed U+2028/2029 on
//     the terminal path. All use one set, the one above.
//   - The escape's spelling: tables wrote \u{202e}, summaries \u001b and
//     \ufffd, the terminal \x1b and the raw U+FFFD. One spelling now: \xNN
//     for C0, DEL, C1 and for a byte that is not UTF-8 (its value, which
//     U+FFFD hid), \uNNNN for hidden characters (\UNNNNNNNN above U+FFFF,
//     as Go writes them). U+FFFD itself is a visible character and stays.
//     A summary and the details line now agree (review F18e).
//   - Line breaks: messages turn them into spaces (CleanText), the
//     terminal shows them (\x0d\x0a). Kept: a message line must read well,
//     a terminal line must show what was there.
//   - CSV: cells were written raw (ANSI, OSC and CR reached the terminal,
//     review F5); they are made visible as on a terminal, keeping tabs and
//     line feeds, and formulas are still neutralised.
//   - JSON: query.SafeJSON and jsonl.EscapeTerminal differed on C0
//     controls, invalid UTF-8 and zero-width characters: the union is kept.
package untrusted
