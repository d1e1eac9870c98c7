package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// ErrRefused is wrapped by the error of CheckReadOnly (and RunSQL) for a
// statement that is not a single read-only query.
var ErrRefused = errors.New("only a single read-only query (SELECT, WITH … SELECT, VALUES or EXPLAIN) may run")

// forbidden are the keywords and functions a read-only query never needs.
// REPLACE followed by "(" is the string function and allowed.
var forbidden = map[string]string{
	"INSERT": "writes", "UPDATE": "writes", "DELETE": "writes", "REPLACE": "writes", "UPSERT": "writes",
	"RETURNING": "writes", "CREATE": "schema changes", "DROP": "schema changes", "ALTER": "schema changes",
	"REINDEX": "schema changes", "ANALYZE": "schema changes", "VACUUM": "schema changes",
	"ATTACH": "attached databases", "DETACH": "attached databases",
	"PRAGMA": "PRAGMA statements", "BEGIN": "transactions", "COMMIT": "transactions",
	"ROLLBACK": "transactions", "SAVEPOINT": "transactions", "RELEASE": "transactions",
	"LOAD_EXTENSION": "loading extensions", "WRITEFILE": "file access", "READFILE": "file access",
	"EDIT": "file access", "FTS3_TOKENIZER": "tokenizer registration",
}

// CheckReadOnly reports whether text is one read-only statement: a SELECT
// (or WITH … SELECT, VALUES, EXPLAIN of one of those), with no second
// statement, no writes, no ATTACH, no PRAGMA and no extension loading,
// whatever comments and quoting hide. Its purpose is a clear message; the
// database connection of RunSQL must enforce read-only access itself
// (sqlite.OpenReadOnly's authorizer), since no lexical check is complete.
func CheckReadOnly(text string) error {
	toks, err := lex(text)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if len(toks) == 0 {
		return fmt.Errorf("%w: the statement is empty", ErrRefused)
	}
	for i, t := range toks {
		if t.kind == tokSemicolon {
			if i != len(toks)-1 {
				return fmt.Errorf("%w: a second statement follows the first ;", ErrRefused)
			}
			continue
		}
		if t.kind != tokWord {
			continue
		}
		what, bad := forbidden[t.text]
		if !bad {
			continue
		}
		if t.text == "REPLACE" && i+1 < len(toks) && toks[i+1].text == "(" {
			continue // replace(x, y, z)
		}
		return fmt.Errorf("%w: %s is not allowed (%s)", ErrRefused, t.text, what)
	}
	switch first := toks[0]; {
	case first.kind == tokWord && (first.text == "SELECT" || first.text == "WITH" || first.text == "VALUES" || first.text == "EXPLAIN"):
	case first.kind == tokPunct && first.text == "(":
		// (SELECT …) UNION …
	default:
		return fmt.Errorf("%w: the statement starts with %s", ErrRefused, first.text)
	}
	return nil
}

// RunSQL runs one ad-hoc read-only statement (checked with CheckReadOnly)
// and returns at most limit rows (0: all). db must itself refuse writes: open
// it with sqlite.OpenReadOnly.
func RunSQL(ctx context.Context, db *sql.DB, text string, limit int) (*Result, error) {
	if err := CheckReadOnly(text); err != nil {
		return nil, fmt.Errorf("query --sql: %w", err)
	}
	res, err := collect(ctx, db, text, nil, limit)
	if err != nil {
		if strings.Contains(err.Error(), "not authorized") {
			return nil, fmt.Errorf("query --sql: refused by the read-only database (%w): %w", err, ErrRefused)
		}
		return nil, fmt.Errorf("query --sql: %w", err)
	}
	return res, nil
}

type tokKind int

const (
	tokWord      tokKind = iota // a bare word, upper-cased: keyword, function or identifier.
	tokQuoted                   // a string literal or quoted identifier.
	tokSemicolon                // ;
	tokPunct                    // any other character.
)

type token struct {
	kind tokKind
	text string
}

// lex splits SQL into tokens the way SQLite does for the purpose of
// CheckReadOnly: comments dropped, literals and quoted identifiers opaque.
func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return out, nil
			}
			i += j + 1
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				// SQLite accepts an unterminated comment to the end of input;
				// nothing can hide after it.
				return out, nil
			}
			i += 2 + j + 2
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for {
				k := strings.IndexByte(s[j:], c)
				if k < 0 {
					return nil, fmt.Errorf("unterminated quote at offset %d", i)
				}
				j += k + 1
				if j < len(s) && s[j] == c { // doubled quote: an escaped quote.
					j++
					continue
				}
				break
			}
			out = append(out, token{tokQuoted, s[i:j]})
			i = j
		case c == '[':
			k := strings.IndexByte(s[i:], ']')
			if k < 0 {
				return nil, fmt.Errorf("unterminated [ at offset %d", i)
			}
			out = append(out, token{tokQuoted, s[i : i+k+1]})
			i += k + 1
		case c == ';':
			out = append(out, token{tokSemicolon, ";"})
			i++
		case isWordByte(c) && !(c >= '0' && c <= '9'):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, token{tokWord, strings.ToUpper(s[i:j])})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isWordByte(s[j]) || s[j] == '.') {
				j++
			}
			out = append(out, token{tokPunct, s[i:j]})
			i = j
		default:
			out = append(out, token{tokPunct, string(c)})
			i++
		}
	}
	return out, nil
}

// isWordByte: identifier characters, including every non-ASCII byte (SQLite
// treats those as identifier characters) and $.
func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
