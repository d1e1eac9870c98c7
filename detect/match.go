package detect

import (
	"math"
	"net/netip"
	"strings"
)

// Match reports whether the record (a JSON object decoded into
// map[string]any, numbers as float64) matches.
func (p *Pattern) Match(record map[string]any) bool {
	for i := range p.fields {
		if !p.fields[i].match(record) {
			return false
		}
	}
	for _, alts := range p.ors {
		ok := false
		for _, a := range alts {
			if a.Match(record) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// matchRecord is Match over a record, reading only the members p names.
func (p *Pattern) matchRecord(r *record) bool {
	for i := range p.fields {
		f := &p.fields[i]
		if !f.matchMember(r.get(f.key)) {
			return false
		}
	}
	for _, alts := range p.ors {
		ok := false
		for _, a := range alts {
			if a.matchRecord(r) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

var emptyObject = map[string]any{}

func (f *fieldPattern) match(obj map[string]any) bool {
	v, present := obj[f.key]
	return f.matchMember(v, present)
}

// matchMember applies f to the value v of its key in an object (present or
// not).
func (f *fieldPattern) matchMember(v any, present bool) bool {
	if f.sub != nil {
		switch v := v.(type) {
		case map[string]any:
			return f.sub.Match(v)
		case []any:
			sawObject := false
			for _, e := range v {
				if m, ok := e.(map[string]any); ok {
					sawObject = true
					if f.sub.Match(m) {
						return true
					}
				}
			}
			if sawObject {
				return false
			}
		}
		return f.sub.Match(emptyObject)
	}
	if arr, ok := v.([]any); ok && len(arr) == 0 {
		present = false
	}
	return f.matchLeaf(v, present)
}

// matchLeaf applies a leaf field's matchers to its value v (present or not).
func (f *fieldPattern) matchLeaf(v any, present bool) bool {
	for i := range f.matchers {
		m := &f.matchers[i]
		if m.kind == mExists {
			if m.b == present {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		if matchAny(m, v) {
			return true
		}
	}
	return false
}

// matchAny applies m to v, or to any element when v is an array.
func matchAny(m *matcher, v any) bool {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if matchAny(m, e) {
				return true
			}
		}
		return false
	}
	return m.matchValue(v)
}

func (m *matcher) matchValue(v any) bool {
	switch m.kind {
	case mExactString:
		s, ok := v.(string)
		return ok && s == m.s
	case mExactNumber:
		f, ok := toFloat(v)
		return ok && f == m.n
	case mExactBool:
		b, ok := v.(bool)
		return ok && b == m.b
	case mExactNull:
		return v == nil
	case mPrefix:
		s, ok := v.(string)
		if !ok {
			return false
		}
		if m.ignoreCase {
			return len(s) >= len(m.s) && strings.EqualFold(s[:len(m.s)], m.s)
		}
		return strings.HasPrefix(s, m.s)
	case mSuffix:
		s, ok := v.(string)
		if !ok {
			return false
		}
		if m.ignoreCase {
			return len(s) >= len(m.s) && strings.EqualFold(s[len(s)-len(m.s):], m.s)
		}
		return strings.HasSuffix(s, m.s)
	case mEqualsIgnoreCase:
		s, ok := v.(string)
		return ok && strings.EqualFold(s, m.s)
	case mWildcard:
		s, ok := v.(string)
		return ok && m.glob.match(s)
	case mCIDR:
		s, ok := v.(string)
		if !ok {
			return false
		}
		a, err := netip.ParseAddr(s)
		return err == nil && m.prefix.Contains(a.Unmap())
	case mNumeric:
		f, ok := toFloat(v)
		if !ok {
			return false
		}
		for _, r := range m.ranges {
			var ok bool
			switch r.op {
			case ">":
				ok = f > r.v
			case ">=":
				ok = f >= r.v
			case "<":
				ok = f < r.v
			case "<=":
				ok = f <= r.v
			case "=":
				ok = f == r.v
			}
			if !ok {
				return false
			}
		}
		return true
	case mAnythingBut:
		return m.but.match(v)
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, !math.IsNaN(v)
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	}
	return 0, false
}
