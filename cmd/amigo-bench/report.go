package main

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"
)

// report collects the figures: rows for the table, values for the JSON.
type report struct {
	rows   []row
	values map[string]float64
}

type row struct {
	figure string
	value  float64
	unit   string
	target string
	ok     string // yes, NO, or - without a target
}

// add records a figure without a target.
func (r *report) add(key, figure string, v float64, unit string) {
	if key != "" {
		r.values[key] = v
	}
	if figure != "" {
		r.rows = append(r.rows, row{figure: figure, value: v, unit: unit, target: "", ok: "-"})
	}
}

// atMost records a figure whose target is an upper bound.
func (r *report) atMost(key, figure string, v float64, unit string, limit float64) {
	r.values[key] = v
	ok := "yes"
	if v > limit {
		ok = "NO"
	}
	r.rows = append(r.rows, row{figure: figure, value: v, unit: unit, target: fmt.Sprintf("<= %s", num(limit)), ok: ok})
}

// below records a figure whose target is a strict upper bound.
func (r *report) below(key, figure string, v float64, unit string, limit float64) {
	r.values[key] = v
	ok := "yes"
	if v >= limit {
		ok = "NO"
	}
	r.rows = append(r.rows, row{figure: figure, value: v, unit: unit, target: fmt.Sprintf("< %s", num(limit)), ok: ok})
}

// value only stores a JSON value.
func (r *report) value(key string, v float64) { r.values[key] = v }

func (r *report) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tvalue\tunit\ttarget\tok?")
	for _, x := range r.rows {
		t := x.target
		if t == "" {
			t = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", x.figure, num(x.value), x.unit, t, x.ok)
	}
	tw.Flush()
}

func num(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e15 && v > -1e15:
		return fmt.Sprintf("%d", int64(v))
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.4f", v)
	}
}

// median of xs (xs is reordered).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// percentile p (0..100) of xs, nearest rank (xs is reordered).
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	k := int(p/100*float64(len(xs))+0.999999) - 1
	return xs[min(max(k, 0), len(xs)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
