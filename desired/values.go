package desired

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// CompareVersions compares application versions such as v1.6, v1.10 and
// v2.0.1 number by number (v1.10 is newer than v1.9): it returns -1 when a
// is older than b, 0 when they are the same, +1 when a is newer. A missing
// patch number counts as 0.
func CompareVersions(a, b string) (int, error) {
	va, err := parseVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := parseVersion(b)
	if err != nil {
		return 0, err
	}
	for i := range va {
		switch {
		case va[i] < vb[i]:
			return -1, nil
		case va[i] > vb[i]:
			return 1, nil
		}
	}
	return 0, nil
}

// parseVersion reads v<major>.<minor>[.<patch>].
func parseVersion(s string) ([3]int, error) {
	var v [3]int
	rest, ok := strings.CutPrefix(s, "v")
	parts := strings.Split(rest, ".")
	if !ok || len(parts) < 2 || len(parts) > 3 {
		return v, fmt.Errorf("version %q: want v<major>.<minor>[.<patch>], e.g. v1.6", s)
	}
	for i, p := range parts {
		n, ok := parseDigits(p)
		if !ok {
			return v, fmt.Errorf("version %q: want v<major>.<minor>[.<patch>], e.g. v1.6", s)
		}
		v[i] = n
	}
	return v, nil
}

// parseDigits reads a non-negative decimal number small enough never to
// overflow once scaled.
func parseDigits(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// ParsePercent reads a percentage such as "0.1%" or "10%" and returns it as
// a fraction (0.001, 0.10). A bare number is a percentage too: "10" is 10%.
func ParsePercent(s string) (float64, error) {
	p, err := parsePercentPoints(s)
	return p / 100, err
}

// parsePercentPoints is ParsePercent without the division, so that fields
// kept in percentage points ("10%" -> 10) stay exact.
func parsePercentPoints(s string) (float64, error) {
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("percentage %q: want a number such as 0.1%% or 10%%", s)
	}
	return f, nil
}

// ParseDuration reads a Go duration ("90s", "15m", "1h30m") or a whole
// number of days or weeks ("2d", "1w"), which pauses of days are written in.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if d, ok := parseDays(t); ok {
		return d, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want e.g. 90s, 15m, 1h30m, 2d or 1w", s)
	}
	return d, nil
}

// parseDays reads "<n>d" and "<n>w". Six digits keep the result far from
// overflowing a time.Duration.
func parseDays(s string) (time.Duration, bool) {
	if len(s) < 2 || len(s) > 7 {
		return 0, false
	}
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	n, ok := parseDigits(s[:len(s)-1])
	if unit == 0 || !ok {
		return 0, false
	}
	return time.Duration(n) * unit, true
}
