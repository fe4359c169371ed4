package httpcache

import (
	"net/http"
	"time"
)

// parseHTTPDate parses an HTTP-date exactly as RFC 9110 5.6.7 defines it:
// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), or one of the two
// obsolete forms a recipient must still accept, rfc850-date ("Sunday,
// 06-Nov-94 08:49:37 GMT") and asctime-date ("Sun Nov  6 08:49:37 1994").
// Unlike http.ParseTime it refuses everything else: a doubled space, a
// one-digit hour, a lower-case month or "gmt", a zone other than GMT, a
// day that the month does not have. Only the leading and trailing
// whitespace that a field value cannot hold anyway is trimmed. A
// two-digit year more than 50 years in the future is taken as the most
// recent past year with those digits (RFC 9110 5.6.7).
func parseHTTPDate(s string) (time.Time, bool) {
	s = trimOWS(s)
	switch {
	case len(s) == len(http.TimeFormat) && s[3] == ',':
		return parseIMFFixdate(s)
	case len(s) == 24 && s[3] == ' ':
		return parseASCTime(s)
	default:
		return parseRFC850(s)
	}
}

// parseIMFFixdate parses "Sun, 06 Nov 1994 08:49:37 GMT".
func parseIMFFixdate(s string) (time.Time, bool) {
	if _, ok := shortDay(s[0:3]); !ok || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[25:] != " GMT" {
		return time.Time{}, false
	}
	day, ok1 := digits(s[5:7])
	month, ok2 := monthOf(s[8:11])
	year, ok3 := digits(s[12:16])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	return build(year, month, day, s[17:25])
}

// parseRFC850 parses "Sunday, 06-Nov-94 08:49:37 GMT".
func parseRFC850(s string) (time.Time, bool) {
	name, rest, found := cut(s, ',')
	if !found || !longDay(name) || len(rest) != 23 || rest[0] != ' ' || rest[3] != '-' || rest[7] != '-' ||
		rest[10] != ' ' || rest[19:] != " GMT" {
		return time.Time{}, false
	}
	day, ok1 := digits(rest[1:3])
	month, ok2 := monthOf(rest[4:7])
	yy, ok3 := digits(rest[8:10])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	return build(fullYear(yy, time.Now().UTC().Year()), month, day, rest[11:19])
}

// fullYear is the year of a two-digit yy seen in year now: the one in
// now's century, or the century before when that is more than 50 years
// ahead.
func fullYear(yy, now int) int {
	y := now/100*100 + yy
	if y > now+50 {
		y -= 100
	}
	return y
}

// parseASCTime parses "Sun Nov  6 08:49:37 1994".
func parseASCTime(s string) (time.Time, bool) {
	if _, ok := shortDay(s[0:3]); !ok || s[7] != ' ' || s[10] != ' ' || s[19] != ' ' {
		return time.Time{}, false
	}
	month, ok1 := monthOf(s[4:7])
	var day int
	var ok2 bool
	if s[8] == ' ' {
		day, ok2 = digits(s[9:10])
	} else {
		day, ok2 = digits(s[8:10])
	}
	year, ok3 := digits(s[20:24])
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	return build(year, month, day, s[11:19])
}

// build checks the time-of-day "hh:mm:ss" and that the day exists in its
// month, and returns the UTC time.
func build(year int, month time.Month, day int, tod string) (time.Time, bool) {
	if len(tod) != 8 || tod[2] != ':' || tod[5] != ':' {
		return time.Time{}, false
	}
	h, ok1 := digits(tod[0:2])
	m, ok2 := digits(tod[3:5])
	sec, ok3 := digits(tod[6:8])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 60 || day < 1 {
		return time.Time{}, false
	}
	// Day-of-month validity is checked at second 0: second 60 (a leap
	// second, which the grammar allows) then rolls into the next minute.
	t := time.Date(year, month, day, h, m, 0, 0, time.UTC)
	if t.Day() != day || t.Month() != month {
		return time.Time{}, false
	}
	return t.Add(time.Duration(sec) * time.Second), true
}

// digits parses a fixed run of ASCII digits.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// monthOf reads a case-sensitive month name (RFC 9110 5.6.7).
func monthOf(s string) (time.Month, bool) {
	for i, m := range months {
		if s == m {
			return time.Month(i + 1), true
		}
	}
	return 0, false
}

var shortDays = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

func shortDay(s string) (time.Weekday, bool) {
	for i, d := range shortDays {
		if s == d {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

func longDay(s string) bool {
	for _, d := range [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"} {
		if s == d {
			return true
		}
	}
	return false
}

func cut(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// trimOWS removes leading and trailing spaces and tabs.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
