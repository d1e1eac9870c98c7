package detect

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// anythingBut is the compiled argument of an "anything-but" matcher: the
// values, prefixes, suffixes and wildcards a field must not match.
type anythingBut struct {
	strs       []string // exact values, or lower-cased for ignoreCase
	nums       []float64
	ignoreCase bool
	prefix     []string
	suffix     []string
	globs      []*glob
}

func compileAnythingBut(arg *yaml.Node, path string) (matcher, error) {
	but := &anythingBut{}
	addValue := func(n *yaml.Node) error {
		v, ok := scalar(n)
		switch v := v.(type) {
		case string:
			but.strs = append(but.strs, v)
			return nil
		case float64:
			but.nums = append(but.nums, v)
			return nil
		}
		_ = ok
		return errAt(n, path, "anything-but takes strings or numbers")
	}
	switch arg.Kind {
	case yaml.ScalarNode:
		if err := addValue(arg); err != nil {
			return matcher{}, err
		}
	case yaml.SequenceNode:
		if len(arg.Content) == 0 {
			return matcher{}, errAt(arg, path, "anything-but needs at least one value")
		}
		for _, c := range arg.Content {
			if err := addValue(resolve(c)); err != nil {
				return matcher{}, err
			}
		}
	case yaml.MappingNode:
		if len(arg.Content) != 2 {
			return matcher{}, errAt(arg, path, "anything-but takes one operator")
		}
		op := arg.Content[0].Value
		vals, err := stringsArg(arg.Content[1], path, "anything-but "+op)
		if err != nil {
			return matcher{}, err
		}
		switch op {
		case "prefix":
			but.prefix = vals
		case "suffix":
			but.suffix = vals
		case "equals-ignore-case":
			but.ignoreCase = true
			for _, v := range vals {
				but.strs = append(but.strs, strings.ToLower(v))
			}
		case "wildcard":
			for _, v := range vals {
				g, err := compileGlob(v)
				if err != nil {
					return matcher{}, errAt(arg, path, "anything-but wildcard: %v", err)
				}
				but.globs = append(but.globs, g)
			}
		default:
			return matcher{}, errAt(arg.Content[0], path, "anything-but: unknown operator %q", op)
		}
	default:
		return matcher{}, errAt(arg, path, "anything-but takes a value, a list or an operator")
	}
	return matcher{kind: mAnythingBut, but: but}, nil
}

func (b *anythingBut) match(v any) bool {
	if f, ok := toFloat(v); ok {
		return !slices.Contains(b.nums, f)
	}
	s, ok := v.(string)
	if !ok {
		return false
	}
	for _, x := range b.strs {
		if x == s || (b.ignoreCase && strings.EqualFold(x, s)) {
			return false
		}
	}
	for _, p := range b.prefix {
		if strings.HasPrefix(s, p) {
			return false
		}
	}
	for _, p := range b.suffix {
		if strings.HasSuffix(s, p) {
			return false
		}
	}
	for _, g := range b.globs {
		if g.match(s) {
			return false
		}
	}
	return true
}
