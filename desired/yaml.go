package desired

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// parseYAML returns the root node of a file's only document, or nil when
// the file holds no document. Syntax errors keep the line yaml reports.
func parseYAML(file string, content []byte) (*yaml.Node, *FieldError) {
	dec := yaml.NewDecoder(bytes.NewReader(content))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(file, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(file, err)
	default:
		return nil, &FieldError{File: file, Line: next.Line, Field: "yaml", Msg: "a second YAML document; want exactly one"}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// syntaxError turns "yaml: line 3: msg" into a FieldError on line 3.
func syntaxError(file string, err error) *FieldError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(n); err == nil {
				line, msg = l, after
			}
		}
	}
	return &FieldError{File: file, Line: line, Field: "yaml", Msg: msg}
}

// lineMap records, for every dotted field a file sets, the line it is on.
type lineMap map[string]int

// at returns the line of field, or of the nearest enclosing field that the
// file sets, or 0.
func (m lineMap) at(field string) int {
	for {
		if l, ok := m[field]; ok {
			return l
		}
		if field == "" {
			return 0
		}
		field = parent(field)
	}
}

func (m lineMap) has(field string) bool {
	_, ok := m[field]
	return ok
}

// parent strips the last component of a dotted field: steps[1].traffic ->
// steps[1] -> steps -> "".
func parent(field string) string {
	i := max(strings.LastIndexByte(field, '.'), strings.LastIndexByte(field, '['))
	if i < 0 {
		return ""
	}
	return field[:i]
}

func join(field, name string) string {
	if field == "" {
		return name
	}
	return field + "." + name
}

// decoder walks yaml nodes along a fixed schema, collecting every error
// instead of stopping at the first, so a user sees them all at once.
// Walking the schema (never the document generically) bounds the work even
// for documents whose aliases refer to themselves.
type decoder struct {
	file  string
	lines lineMap
	errs  []*FieldError
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, lines: lineMap{}}
}

func (d *decoder) fail(line int, field, format string, args ...any) {
	if field == "" {
		field = "document"
	}
	d.errs = append(d.errs, &FieldError{File: d.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// failAt reports an error on the line of field (or of its nearest parent).
func (d *decoder) failAt(field, format string, args ...any) {
	d.fail(d.lines.at(field), field, format, args...)
}

func (d *decoder) wrongKind(n *yaml.Node, field, want string) {
	d.fail(n.Line, field, "want %s, got %s", want, describe(n))
}

// fields maps the keys a mapping may hold to what decodes their values.
type fields map[string]func(field string, v *yaml.Node)

// mapping decodes a mapping node along fs. Null values count as absent but
// their line is recorded, so "required" errors can point at them.
func (d *decoder) mapping(n *yaml.Node, field string, fs fields) {
	n = resolve(n)
	if n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.wrongKind(n, field, "a mapping")
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		d.entry(resolve(n.Content[i]), resolve(n.Content[i+1]), field, fs, seen)
	}
}

func (d *decoder) entry(k, v *yaml.Node, field string, fs fields, seen map[string]bool) {
	if k == nil || v == nil || k.Kind != yaml.ScalarNode {
		d.fail(lineOf(k), field, "keys must be strings")
		return
	}
	name := join(field, k.Value)
	fn, ok := fs[k.Value]
	switch {
	case !ok:
		d.fail(k.Line, name, "unknown field; want one of %s", strings.Join(keys(fs), ", "))
	case seen[k.Value]:
		d.fail(k.Line, name, "given twice")
	default:
		seen[k.Value] = true
		d.lines[name] = v.Line
		if v.Kind == yaml.MappingNode || v.Kind == yaml.SequenceNode {
			// a block collection starts on the line after its key; errors
			// about the whole collection read best at the key
			d.lines[name] = k.Line
		}
		if !isNull(v) {
			fn(name, v)
		}
	}
}

// list decodes a sequence node element by element and reports whether n was
// a sequence.
func (d *decoder) list(n *yaml.Node, field string, each func(field string, v *yaml.Node)) bool {
	if n.Kind != yaml.SequenceNode {
		d.wrongKind(n, field, "a list")
		return false
	}
	for i, e := range n.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		e = resolve(e)
		if e == nil {
			continue
		}
		d.lines[f] = e.Line
		each(f, e)
	}
	return true
}

// str accepts any non-null scalar: an operator who writes a header value
// `true` without quotes means the text "true".
func (d *decoder) str(n *yaml.Node, field string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.wrongKind(n, field, "a string")
		return "", false
	}
	return n.Value, true
}

func (d *decoder) setStr(n *yaml.Node, field string, dst *string) {
	if s, ok := d.str(n, field); ok {
		*dst = s
	}
}

func (d *decoder) integer(n *yaml.Node, field string) (int, bool) {
	var i int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		d.wrongKind(n, field, "an integer")
		return 0, false
	}
	return i, true
}

func (d *decoder) setInt(n *yaml.Node, field string, dst *int) {
	if i, ok := d.integer(n, field); ok {
		*dst = i
	}
}

func (d *decoder) setBool(n *yaml.Node, field string, dst *bool) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		d.wrongKind(n, field, "true or false")
		return
	}
	*dst = b
}

func (d *decoder) setStrList(n *yaml.Node, field string, dst *[]string) {
	out := []string{}
	ok := d.list(n, field, func(f string, e *yaml.Node) {
		if s, ok := d.str(e, f); ok {
			out = append(out, s)
		}
	})
	if ok {
		*dst = out
	}
}

// setStrMap decodes a mapping of free-form keys (header or cookie names);
// the line recorded for each entry is its key's, which is what is checked.
func (d *decoder) setStrMap(n *yaml.Node, field string, dst *map[string]string) {
	if n.Kind != yaml.MappingNode {
		d.wrongKind(n, field, "a mapping")
		return
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k == nil || v == nil || k.Kind != yaml.ScalarNode {
			d.fail(lineOf(k), field, "keys must be strings")
			continue
		}
		f := join(field, k.Value)
		if _, dup := out[k.Value]; dup {
			d.fail(k.Line, f, "given twice")
			continue
		}
		d.lines[f] = k.Line
		if s, ok := d.str(v, f); ok {
			out[k.Value] = s
		}
	}
	*dst = out
}

func (d *decoder) setDuration(n *yaml.Node, field string, dst *time.Duration) bool {
	s, ok := d.str(n, field)
	if !ok {
		return false
	}
	v, err := ParseDuration(s)
	if err != nil {
		d.fail(n.Line, field, "%v", err)
		return false
	}
	*dst = v
	return true
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// describe names what a node holds, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	}
	return fmt.Sprintf("%s %s", strings.TrimPrefix(n.ShortTag(), "!!"), n.Value)
}

func keys(fs fields) []string {
	out := make([]string, 0, len(fs))
	for k := range fs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }
