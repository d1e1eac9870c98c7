package detect

import (
	"fmt"
	"strings"
)

// glob is a compiled wildcard: literal parts separated by "*".
type glob struct {
	parts []string // len(parts) == stars+1
}

// compileGlob compiles an EventBridge wildcard: "*" matches any run of
// characters, "\*" a literal star and "\\" a literal backslash. Consecutive
// stars are refused, as EventBridge does.
func compileGlob(s string) (*glob, error) {
	g := &glob{}
	var cur strings.Builder
	prevStar := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return nil, fmt.Errorf("%q: a backslash must escape * or \\", s)
			}
			i++
			cur.WriteByte(s[i])
			prevStar = false
		case '*':
			if prevStar {
				return nil, fmt.Errorf("%q: consecutive wildcards", s)
			}
			g.parts = append(g.parts, cur.String())
			cur.Reset()
			prevStar = true
		default:
			cur.WriteByte(c)
			prevStar = false
		}
	}
	g.parts = append(g.parts, cur.String())
	return g, nil
}

func (g *glob) match(s string) bool {
	parts := g.parts
	if len(parts) == 1 {
		return s == parts[0]
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}
