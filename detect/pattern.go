package detect

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Pattern is a compiled EventBridge event pattern over a CloudTrail record
// (the detail of an EventBridge event). It is immutable and safe for
// concurrent use.
//
// Supported, as AWS documents them: exact strings, numbers, booleans and
// null (an array of values is an OR); nested objects; prefix and suffix
// (either a string or {"equals-ignore-case": s}); anything-but (a value, a
// list of values, or {prefix|suffix|wildcard|equals-ignore-case: s or list});
// exists true/false; equals-ignore-case; wildcard ("*" any run, "\*" a
// literal star); cidr (IPv4 and IPv6); numeric ranges ("<", "<=", "=", ">=",
// ">" with numbers); and "$or" (a list of patterns, one of which must match).
// When the record holds an array where the pattern expects a value, the
// pattern matches if any element does.
//
// Where EventBridge leaves a corner open we chose: exists applies to objects
// too (an object field exists when present), an empty array counts as absent,
// anything-but matches strings and numbers only (never null or booleans) and
// never an absent field, and a nested pattern whose parent object is absent
// is matched against an empty object (so {"a": {"b": [{"exists": false}]}}
// matches a record without "a").
type Pattern struct {
	fields []fieldPattern // all must match
	ors    [][]*Pattern   // for each $or: one of the alternatives must match
}

type fieldPattern struct {
	key      string
	quoted   []byte    // key as a JSON string without its opening quote, for keysIn
	sub      *Pattern  // a nested object pattern, or
	matchers []matcher // a leaf: any matcher matching any value
}

type matchKind uint8

const (
	mExactString matchKind = iota
	mExactNumber
	mExactBool
	mExactNull
	mPrefix
	mSuffix
	mEqualsIgnoreCase
	mWildcard
	mCIDR
	mNumeric
	mExists
	mAnythingBut
)

type matcher struct {
	kind       matchKind
	ignoreCase bool    // prefix/suffix with equals-ignore-case
	s          string  // exact/prefix/suffix (lower-cased when ignoreCase or equals-ignore-case)
	n          float64 // exact number
	b          bool    // exact bool, exists
	glob       *glob
	prefix     netip.Prefix
	ranges     []numericBound
	but        *anythingBut
}

type numericBound struct {
	op string
	v  float64
}

// CompilePattern compiles an event pattern written in YAML or JSON.
func CompilePattern(src []byte) (*Pattern, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("pattern: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("pattern: empty")
	}
	p, err := compilePattern(doc.Content[0], "")
	if err != nil {
		return nil, fmt.Errorf("pattern: %w", err)
	}
	return p, nil
}

// posError is an error at a line of a YAML document.
type posError struct {
	line int
	path string
	msg  string
}

func (e *posError) Error() string {
	if e.path == "" {
		return fmt.Sprintf("line %d: %s", e.line, e.msg)
	}
	return fmt.Sprintf("line %d: %s: %s", e.line, e.path, e.msg)
}

func errAt(n *yaml.Node, path, format string, args ...any) error {
	return &posError{line: n.Line, path: path, msg: fmt.Sprintf(format, args...)}
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func compilePattern(n *yaml.Node, path string) (*Pattern, error) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, errAt(n, path, "a pattern must be an object")
	}
	if len(n.Content) == 0 {
		return nil, errAt(n, path, "a pattern must not be empty")
	}
	p := &Pattern{}
	seen := map[string]bool{}
	for i := 0; i < len(n.Content); i += 2 {
		kn, vn := n.Content[i], resolve(n.Content[i+1])
		key := kn.Value
		if seen[key] {
			return nil, errAt(kn, path, "duplicate key %q", key)
		}
		seen[key] = true
		fpath := joinPath(path, key)
		if key == "$or" {
			if vn.Kind != yaml.SequenceNode || len(vn.Content) < 2 {
				return nil, errAt(vn, fpath, "$or needs a list of at least two patterns")
			}
			var alts []*Pattern
			for j, c := range vn.Content {
				sp, err := compilePattern(c, fmt.Sprintf("%s[%d]", fpath, j))
				if err != nil {
					return nil, err
				}
				alts = append(alts, sp)
			}
			p.ors = append(p.ors, alts)
			continue
		}
		switch vn.Kind {
		case yaml.MappingNode:
			sp, err := compilePattern(vn, fpath)
			if err != nil {
				return nil, err
			}
			p.fields = append(p.fields, fieldPattern{key: key, quoted: quoteKey(key), sub: sp})
		case yaml.SequenceNode:
			if len(vn.Content) == 0 {
				return nil, errAt(vn, fpath, "a list of values must not be empty")
			}
			fp := fieldPattern{key: key, quoted: quoteKey(key)}
			for _, c := range vn.Content {
				m, err := compileMatcher(resolve(c), fpath)
				if err != nil {
					return nil, err
				}
				fp.matchers = append(fp.matchers, m)
			}
			p.fields = append(p.fields, fp)
		default:
			return nil, errAt(vn, fpath, "values must be in a list (write [%s])", vn.Value)
		}
	}
	// Leaves first: every field must match, in any order, and matching a
	// record parses the members it reads (record.get), an object such as
	// userIdentity costing more than a string.
	slices.SortStableFunc(p.fields, func(a, b fieldPattern) int {
		return cmp.Compare(btoi(a.sub != nil), btoi(b.sub != nil))
	})
	return p, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scalar returns the value of a scalar node as string, float64, bool or nil.
func scalar(n *yaml.Node) (any, bool) {
	if n.Kind != yaml.ScalarNode {
		return nil, false
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, true
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		return b, err == nil
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, false
		}
		return f, true
	default:
		return n.Value, true
	}
}

func stringArg(n *yaml.Node, path, op string) (string, error) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return "", errAt(n, path, "%s needs a string", op)
	}
	return n.Value, nil
}

// stringsArg reads a string or a list of strings.
func stringsArg(n *yaml.Node, path, op string) ([]string, error) {
	n = resolve(n)
	if n.Kind == yaml.SequenceNode {
		if len(n.Content) == 0 {
			return nil, errAt(n, path, "%s needs at least one string", op)
		}
		var out []string
		for _, c := range n.Content {
			s, err := stringArg(c, path, op)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := stringArg(n, path, op)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func compileMatcher(n *yaml.Node, path string) (matcher, error) {
	if v, ok := scalar(n); ok {
		switch v := v.(type) {
		case nil:
			return matcher{kind: mExactNull}, nil
		case bool:
			return matcher{kind: mExactBool, b: v}, nil
		case float64:
			return matcher{kind: mExactNumber, n: v}, nil
		case string:
			return matcher{kind: mExactString, s: v}, nil
		}
	}
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return matcher{}, errAt(n, path, "a value must be a string, number, boolean, null or an object with one operator")
	}
	op, arg := n.Content[0].Value, resolve(n.Content[1])
	switch op {
	case "prefix", "suffix":
		kind := mPrefix
		if op == "suffix" {
			kind = mSuffix
		}
		if arg.Kind == yaml.MappingNode {
			if len(arg.Content) != 2 || arg.Content[0].Value != "equals-ignore-case" {
				return matcher{}, errAt(arg, path, "%s takes a string or {equals-ignore-case: string}", op)
			}
			s, err := stringArg(arg.Content[1], path, op)
			if err != nil {
				return matcher{}, err
			}
			return matcher{kind: kind, s: strings.ToLower(s), ignoreCase: true}, nil
		}
		s, err := stringArg(arg, path, op)
		if err != nil {
			return matcher{}, err
		}
		return matcher{kind: kind, s: s}, nil
	case "equals-ignore-case":
		s, err := stringArg(arg, path, op)
		if err != nil {
			return matcher{}, err
		}
		return matcher{kind: mEqualsIgnoreCase, s: strings.ToLower(s)}, nil
	case "wildcard":
		s, err := stringArg(arg, path, op)
		if err != nil {
			return matcher{}, err
		}
		g, err := compileGlob(s)
		if err != nil {
			return matcher{}, errAt(arg, path, "wildcard: %v", err)
		}
		return matcher{kind: mWildcard, glob: g}, nil
	case "cidr":
		s, err := stringArg(arg, path, op)
		if err != nil {
			return matcher{}, err
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return matcher{}, errAt(arg, path, "cidr: %v", err)
		}
		return matcher{kind: mCIDR, prefix: pfx.Masked()}, nil
	case "exists":
		v, ok := scalar(arg)
		b, isBool := v.(bool)
		if !ok || !isBool {
			return matcher{}, errAt(arg, path, "exists takes true or false")
		}
		return matcher{kind: mExists, b: b}, nil
	case "numeric":
		return compileNumeric(arg, path)
	case "anything-but":
		return compileAnythingBut(arg, path)
	default:
		return matcher{}, errAt(n.Content[0], path, "unknown operator %q", op)
	}
}

func compileNumeric(arg *yaml.Node, path string) (matcher, error) {
	if arg.Kind != yaml.SequenceNode || len(arg.Content) == 0 || len(arg.Content)%2 != 0 || len(arg.Content) > 4 {
		return matcher{}, errAt(arg, path, `numeric takes one or two (operator, number) pairs, e.g. [">", 0, "<=", 5]`)
	}
	m := matcher{kind: mNumeric}
	var lower, upper, eq bool
	for i := 0; i < len(arg.Content); i += 2 {
		opn, vn := resolve(arg.Content[i]), resolve(arg.Content[i+1])
		v, ok := scalar(vn)
		f, isNum := v.(float64)
		if !ok || !isNum {
			return matcher{}, errAt(vn, path, "numeric: %q is not a number", vn.Value)
		}
		switch opn.Value {
		case ">", ">=":
			if lower || eq {
				return matcher{}, errAt(opn, path, "numeric: two lower bounds")
			}
			lower = true
		case "<", "<=":
			if upper || eq {
				return matcher{}, errAt(opn, path, "numeric: two upper bounds")
			}
			upper = true
		case "=":
			if lower || upper || eq {
				return matcher{}, errAt(opn, path, "numeric: = cannot be combined")
			}
			eq = true
		default:
			return matcher{}, errAt(opn, path, "numeric: unknown operator %q", opn.Value)
		}
		m.ranges = append(m.ranges, numericBound{op: opn.Value, v: f})
	}
	return m, nil
}

// exactStrings returns the values of a top-level leaf field whose matchers
// are all exact strings (the field can only match one of them), or false.
func (p *Pattern) exactStrings(key string) ([]string, bool) {
	for _, f := range p.fields {
		if f.key != key || f.sub != nil {
			continue
		}
		var out []string
		for _, m := range f.matchers {
			if m.kind != mExactString {
				return nil, false
			}
			out = append(out, m.s)
		}
		return out, true
	}
	return nil, false
}

// mayMatchString reports whether a top-level leaf field holding value could
// satisfy the pattern's matchers of key: true when the pattern does not
// constrain key as a leaf. A cheap pre-check on a field the event carries
// decoded (eventName), before the record is parsed.
func (p *Pattern) mayMatchString(key, value string) bool {
	for _, f := range p.fields {
		if f.key != key || f.sub != nil {
			continue
		}
		for i := range f.matchers {
			m := &f.matchers[i]
			if (m.kind == mExists && m.b) || (m.kind != mExists && m.matchValue(value)) {
				return true
			}
		}
		return false
	}
	return true
}

// requiresPresent reports whether a top-level leaf field must be present for
// the pattern to match (no matcher of it accepts an absent field).
func (p *Pattern) requiresPresent(key string) bool {
	for _, f := range p.fields {
		if f.key != key || f.sub != nil {
			continue
		}
		for _, m := range f.matchers {
			if m.kind == mExists && !m.b {
				return false
			}
		}
		return true
	}
	return false
}

// sub returns the nested pattern of a top-level field, or nil.
func (p *Pattern) sub(key string) *Pattern {
	for _, f := range p.fields {
		if f.key == key && f.sub != nil {
			return f.sub
		}
	}
	return nil
}
