package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // timezone must work in minimal CI images without /usr/share/zoneinfo
)

// Window is a weekly time window in one time zone.
type Window struct {
	Days []time.Weekday // empty: every day
	// Start and End are minutes after midnight, Start included and End not;
	// End < Start crosses midnight; Start == End means all day.
	Start, End int
	Location   *time.Location // nil: UTC
}

// Contains reports whether t falls in w. A nil window contains every time,
// a zero time no window. A window across midnight belongs to the day it
// starts: with days [fri] and hours 22:00-06:00, Saturday 05:00 is in it and
// Friday 05:00 is not.
func (w *Window) Contains(t time.Time) bool {
	if w == nil {
		return true
	}
	if t.IsZero() {
		return false
	}
	loc := w.Location
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	day, m := t.Weekday(), t.Hour()*60+t.Minute()
	switch {
	case w.Start == w.End:
	case w.Start < w.End:
		if m < w.Start || m >= w.End {
			return false
		}
	case m >= w.End && m < w.Start:
		return false
	case m < w.End: // the early part of a window that opened yesterday
		day = (day + 6) % 7
	}
	return len(w.Days) == 0 || slices.Contains(w.Days, day)
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// parseDays reads "mon", "FRI" or ranges "mon-fri", "fri-mon" (wrapping).
func parseDays(items []string) ([]time.Weekday, error) {
	var set [7]bool
	for _, s := range items {
		from, to, isRange := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "-")
		if !isRange {
			to = from
		}
		a, b := slices.Index(dayNames, strings.TrimSpace(from)), slices.Index(dayNames, strings.TrimSpace(to))
		if a < 0 || b < 0 {
			return nil, fmt.Errorf("unknown day %q; write mon, tue, wed, thu, fri, sat, sun or a range like mon-fri", s)
		}
		for d := a; ; d = (d + 1) % 7 {
			set[d] = true
			if d == b {
				break
			}
		}
	}
	var days []time.Weekday
	for d, ok := range set {
		if ok {
			days = append(days, time.Weekday(d))
		}
	}
	return days, nil
}

var hoursRE = regexp.MustCompile(`^([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})$`)

// parseHours reads "08:00-18:00" or, across midnight, "22:00-06:00".
func parseHours(s string) (start, end int, err error) {
	m := hoursRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, 0, fmt.Errorf("%q is not a window; write two times HH:MM, like \"08:00-18:00\"", s)
	}
	clock := func(h, min string) (int, bool) {
		hh, _ := strconv.Atoi(h)
		mm, _ := strconv.Atoi(min)
		return hh*60 + mm, hh < 24 && mm < 60 || hh == 24 && mm == 0
	}
	start, okS := clock(m[1], m[2])
	end, okE := clock(m[3], m[4])
	switch {
	case !okS || !okE || start == 24*60:
		return 0, 0, fmt.Errorf("%q has a time out of range; write 00:00 to 23:59 (24:00 as an end)", s)
	case start == end%(24*60):
		return 0, 0, fmt.Errorf("%q starts where it ends; remove hours for all day", s)
	}
	return start, end, nil
}

// loadLocation loads an IANA time zone; "Local" would make a policy mean
// different things on different machines.
func loadLocation(name string) (*time.Location, error) {
	if name == "" || strings.EqualFold(name, "local") {
		return nil, fmt.Errorf("%q is not a time zone; write an IANA name like Europe/Zurich or UTC", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q; write an IANA name like Europe/Zurich or UTC", name)
	}
	return loc, nil
}
