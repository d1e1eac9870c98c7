package deploy

import (
	"reflect"
	"slices"
)

// covers reports whether event pattern a matches every event pattern b
// matches, so that one EventBridge rule with a delivers all a rule with b
// would. It judges conservatively, from the shapes the catalog generates:
// a key of a must be in b with a constraint at least as strict (a nested
// object covering b's, or a value list holding each of b's matchers, or
// {"exists": true} where b's matcher needs a value); a's $or covers b when
// one alternative, merged with a's other keys, does; b's $or is covered
// when each alternative is. Anything else is "no": two rules then deliver
// the event twice, which costs an invocation, never a detection.
func covers(a, b map[string]any) bool {
	if alts, ok := a["$or"].([]any); ok {
		return slices.ContainsFunc(alts, func(alt any) bool {
			m, ok := merged(a, alt)
			return ok && covers(m, b)
		})
	}
	if alts, ok := b["$or"].([]any); ok {
		for _, alt := range alts {
			m, ok := merged(b, alt)
			if !ok || !covers(a, m) {
				return false
			}
		}
		return true
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok {
			return false
		}
		switch av := av.(type) {
		case map[string]any:
			bm, ok := bv.(map[string]any)
			if !ok || !covers(av, bm) {
				return false
			}
		case []any:
			bl, ok := bv.([]any)
			if !ok || !listCovers(av, bl) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// merged returns p without its $or, with alt's keys added, and false when
// alt is not an object or shares a key with p (conservatively not merged).
func merged(p map[string]any, alt any) (map[string]any, bool) {
	am, ok := alt.(map[string]any)
	if !ok {
		return nil, false
	}
	out := make(map[string]any, len(p)+len(am))
	for k, v := range p {
		if k != "$or" {
			out[k] = v
		}
	}
	for k, v := range am {
		if _, dup := out[k]; dup {
			return nil, false
		}
		out[k] = v
	}
	return out, true
}

// listCovers reports whether value list a matches every value list b
// matches: each matcher of b is one of a's, or a holds {"exists": true}
// and b's matcher needs a value.
func listCovers(a, b []any) bool {
	exists := slices.ContainsFunc(a, func(m any) bool { return reflect.DeepEqual(m, map[string]any{"exists": true}) })
	for _, m := range b {
		if slices.ContainsFunc(a, func(x any) bool { return reflect.DeepEqual(x, m) }) {
			continue
		}
		if exists && !reflect.DeepEqual(m, map[string]any{"exists": false}) {
			continue
		}
		return false
	}
	return true
}
