package desired

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// SetVersion returns a stack file with the value of its top-level version
// field replaced and every other byte (comments, order, layout) kept, so a
// promotion pull request changes one value and nothing else. Quoting of the
// old value is kept.
func SetVersion(content []byte, version string) ([]byte, error) {
	if _, err := parseVersion(version); err != nil {
		return nil, fmt.Errorf("set version: %w", err)
	}
	n, err := versionNode(content)
	if err != nil {
		return nil, fmt.Errorf("set version: %w", err)
	}
	start, end, err := scalarSpan(content, n)
	if err != nil {
		return nil, fmt.Errorf("set version: %w", err)
	}
	repl := version
	if q := content[start]; q == '"' || q == '\'' {
		repl = string(q) + version + string(q)
	}
	out := make([]byte, 0, len(content)-(end-start)+len(repl))
	out = append(append(append(out, content[:start]...), repl...), content[end:]...)
	if n, err := versionNode(out); err != nil || n.Value != version {
		return nil, errors.New("set version: the version field could not be rewritten in place")
	}
	return out, nil
}

// versionNode finds the value node of the top-level version field.
func versionNode(content []byte) (*yaml.Node, error) {
	root, fe := parseYAML("", content)
	if fe != nil {
		return nil, fmt.Errorf("line %d: %s", fe.Line, fe.Msg)
	}
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, errors.New("no top-level version field")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "version" {
			if v.Kind != yaml.ScalarNode || v.Anchor != "" || v.Style&(yaml.TaggedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
				return nil, fmt.Errorf("line %d: version is not a plain value", v.Line)
			}
			return v, nil
		}
	}
	return nil, errors.New("no top-level version field")
}

// scalarSpan returns the byte range a single-line scalar takes in content.
func scalarSpan(content []byte, n *yaml.Node) (int, int, error) {
	start, ok := offset(content, n.Line, n.Column)
	if !ok || start >= len(content) {
		return 0, 0, fmt.Errorf("line %d: version value not found", n.Line)
	}
	var end int
	switch content[start] {
	case '"':
		end = quotedEnd(content, start, '"')
	case '\'':
		end = quotedEnd(content, start, '\'')
	default:
		if bytes.HasPrefix(content[start:], []byte(n.Value)) && n.Value != "" {
			end = start + len(n.Value)
		}
	}
	if end <= start || bytes.ContainsAny(content[start:end], "\r\n") {
		return 0, 0, fmt.Errorf("line %d: version is not a single-line value", n.Line)
	}
	return start, end, nil
}

// offset converts yaml's 1-based line and column (counted in characters)
// to a byte offset. Line breaks are counted as yaml counts them.
func offset(content []byte, line, col int) (int, bool) {
	l, c := 1, 1
	for i := 0; i < len(content); {
		if l == line && c == col {
			return i, true
		}
		r, w := utf8.DecodeRune(content[i:])
		switch {
		case r == '\r' && i+1 < len(content) && content[i+1] == '\n':
			// the \n that follows ends the line
		case r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029:
			l, c = l+1, 0
		}
		c++
		i += w
	}
	return 0, false
}

// quotedEnd returns the offset just past the quoted scalar starting at
// start, or 0 when it does not end on its line.
func quotedEnd(content []byte, start int, q byte) int {
	for i := start + 1; i < len(content); i++ {
		switch {
		case content[i] == '\n' || content[i] == '\r':
			return 0
		case q == '"' && content[i] == '\\':
			i++
		case content[i] == q && q == '\'' && i+1 < len(content) && content[i+1] == '\'':
			i++
		case content[i] == q:
			return i + 1
		}
	}
	return 0
}
