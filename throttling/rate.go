package throttling

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is a parsed DRF rate: at most Limit requests in any Period.
type Rate struct {
	Limit  int
	Period time.Duration
}

// ParseRate parses a DRF rate string "<number>/<period>", where the
// period's first letter decides, as in DRF's SimpleRateThrottle.parse_rate:
// s (second), m (minute), h (hour), d (day); so "5/min", "5/m" and
// "5/minute" are equal. The number may be 0 (every request waits a full
// period, as in DRF).
func ParseRate(s string) (Rate, error) {
	num, period, ok := strings.Cut(s, "/")
	if !ok || strings.Contains(period, "/") || period == "" {
		return Rate{}, fmt.Errorf("cosworth/throttling: rate %q is not <number>/<period>", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 0 {
		return Rate{}, fmt.Errorf("cosworth/throttling: rate %q: %q is not a number of requests", s, num)
	}
	var d time.Duration
	switch period[0] {
	case 's':
		d = time.Second
	case 'm':
		d = time.Minute
	case 'h':
		d = time.Hour
	case 'd':
		d = 24 * time.Hour
	default:
		return Rate{}, fmt.Errorf("cosworth/throttling: rate %q: period must start with s, m, h or d", s)
	}
	return Rate{Limit: n, Period: d}, nil
}

// MustRate is ParseRate that panics on a bad rate string: rates are set
// up by the program, never taken from requests.
func MustRate(s string) Rate {
	r, err := ParseRate(s)
	if err != nil {
		panic(err.Error())
	}
	return r
}

// String returns the rate in DRF's form, such as "5/m".
func (r Rate) String() string {
	u := "s"
	switch r.Period {
	case time.Minute:
		u = "m"
	case time.Hour:
		u = "h"
	case 24 * time.Hour:
		u = "d"
	}
	return strconv.Itoa(r.Limit) + "/" + u
}
