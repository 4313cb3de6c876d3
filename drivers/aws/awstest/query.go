package awstest

import (
	"bytes"
	"encoding/xml"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// node is a parsed query-protocol parameter tree. Keys such as
// "DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight"
// become nested nodes; "member" segments are dropped so list items are the
// numeric children of the list node.
type node struct {
	val  string
	kids map[string]*node
}

func parseForm(v url.Values) *node {
	root := &node{}
	for key, vals := range v {
		if len(vals) == 0 {
			continue
		}
		n := root
		for _, seg := range strings.Split(key, ".") {
			if seg == "member" {
				continue
			}
			if n.kids == nil {
				n.kids = map[string]*node{}
			}
			k, ok := n.kids[seg]
			if !ok {
				k = &node{}
				n.kids[seg] = k
			}
			n = k
		}
		n.val = vals[0]
	}
	return root
}

// get walks a dotted path; a missing path yields an empty node.
func (n *node) get(path string) *node {
	cur := n
	if path == "" {
		return n
	}
	for _, seg := range strings.Split(path, ".") {
		if cur == nil || cur.kids == nil {
			return &node{}
		}
		cur = cur.kids[seg]
	}
	if cur == nil {
		return &node{}
	}
	return cur
}

func (n *node) str(path string) string { return n.get(path).val }

func (n *node) has(path string) bool {
	g := n.get(path)
	return g.val != "" || len(g.kids) > 0
}

func (n *node) int(path string) int {
	i, _ := strconv.Atoi(n.str(path))
	return i
}

// list returns the numeric children in index order.
func (n *node) list(path string) []*node {
	g := n.get(path)
	var idx []int
	for k := range g.kids {
		if i, err := strconv.Atoi(k); err == nil {
			idx = append(idx, i)
		}
	}
	sort.Ints(idx)
	out := make([]*node, 0, len(idx))
	for _, i := range idx {
		out = append(out, g.kids[strconv.Itoa(i)])
	}
	return out
}

func (n *node) strs(path string) []string {
	var out []string
	for _, k := range n.list(path) {
		out = append(out, k.val)
	}
	return out
}

func isList(n *node) bool {
	if len(n.kids) == 0 {
		return false
	}
	for k := range n.kids {
		if _, err := strconv.Atoi(k); err != nil {
			return false
		}
	}
	return true
}

// x is an XML element to render.
type x struct {
	name string
	text string
	kids []x
	leaf bool
}

func el(name string, kids ...x) x { return x{name: name, kids: kids} }

func tx(name, text string) x { return x{name: name, text: text, leaf: true} }

func members(name string, items []x) x {
	for i := range items {
		items[i].name = "member"
	}
	return x{name: name, kids: items}
}

// tree renders a stored parameter tree back as awsQuery XML.
func tree(name string, n *node) x {
	if len(n.kids) == 0 {
		return tx(name, n.val)
	}
	if isList(n) {
		var items []x
		for _, k := range (&node{kids: map[string]*node{"l": n}}).list("l") {
			items = append(items, tree("member", k))
		}
		return x{name: name, kids: items}
	}
	keys := make([]string, 0, len(n.kids))
	for k := range n.kids {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := x{name: name}
	for _, k := range keys {
		out.kids = append(out.kids, tree(k, n.kids[k]))
	}
	return out
}

func (e x) write(b *bytes.Buffer) {
	b.WriteString("<" + e.name + ">")
	if e.leaf {
		xml.EscapeText(b, []byte(e.text))
	}
	for _, k := range e.kids {
		k.write(b)
	}
	b.WriteString("</" + e.name + ">")
}

// clone deep-copies a stored tree so later writes do not alias requests.
func (n *node) clone() *node {
	if n == nil {
		return nil
	}
	c := &node{val: n.val}
	if n.kids != nil {
		c.kids = map[string]*node{}
		for k, v := range n.kids {
			c.kids[k] = v.clone()
		}
	}
	return c
}
