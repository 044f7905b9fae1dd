package pagination

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/internal/querystring"
)

// Page describes one page of results; the view writes the envelope with
// AppendOpen, the results, and AppendClose.
type Page struct {
	// Count is the total number of rows; meaningful when HasCount.
	Count    int64
	HasCount bool
	// Next and Previous are absolute URLs, "" when there is none (null).
	Next, Previous string
}

// AppendOpen appends the envelope up to and including `"results":` to dst:
// {"count":N,"next":URL|null,"previous":URL|null,"results": for PageNumber
// and LimitOffset, {"next":...,"previous":...,"results": for Cursor (which
// has no count), in DRF's key order.
func (p *Page) AppendOpen(dst []byte) []byte {
	dst = append(dst, '{')
	if p.HasCount {
		dst = append(dst, `"count":`...)
		dst = strconv.AppendInt(dst, p.Count, 10)
		dst = append(dst, ',')
	}
	dst = append(dst, `"next":`...)
	dst = appendLink(dst, p.Next)
	dst = append(dst, `,"previous":`...)
	dst = appendLink(dst, p.Previous)
	return append(dst, `,"results":`...)
}

// AppendClose appends the envelope's closing brace.
func (p *Page) AppendClose(dst []byte) []byte { return append(dst, '}') }

func appendLink(dst []byte, link string) []byte {
	if link == "" {
		return append(dst, "null"...)
	}
	return jsonbody.AppendString(dst, link)
}

// positiveInt parses s as DRF's _positive_int does: an integer (surrounding
// whitespace and a sign allowed, as Python's int()), negative is an error,
// zero is an error when strict, and the result is capped at cutoff when
// cutoff > 0.
func positiveInt(s string, strict bool, cutoff int) (int, bool) {
	n, ok := parseInt(s)
	if !ok || n < 0 || (n == 0 && strict) {
		return 0, false
	}
	if cutoff > 0 && n > int64(cutoff) {
		return cutoff, true
	}
	return int(n), true
}

// parseInt parses a decimal integer as Python's int(str) does for the
// inputs that matter here: surrounding ASCII whitespace, an optional sign,
// digits with single underscores between them. Values beyond int64
// saturate at its bounds: Python's int() has no 64-bit limit, so a huge
// limit is clamped like any too-large one. As Python (int_max_str_digits),
// more than 4300 digits is not a number.
func parseInt(s string) (int64, bool) {
	const maxDigits = 4300
	s = strings.TrimSpace(s)
	if len(s) > 2*maxDigits { // bounds the work; the exact limit is below
		return 0, false
	}
	if strings.IndexByte(s, '_') >= 0 {
		if strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") ||
			strings.Contains(s, "+_") || strings.Contains(s, "-_") {
			return 0, false
		}
		s = strings.ReplaceAll(s, "_", "")
	}
	if s == "" || s == "+" || s == "-" || len(strings.TrimLeft(s, "+-")) > maxDigits {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return n, true // on ErrRange, n is math.MaxInt64 or math.MinInt64
}

// links builds next and previous URLs from one request the way DRF's
// replace_query_param and remove_query_param do: the query is parsed once
// (blank values kept), the parameter is set or removed, and the query is
// re-encoded with its keys sorted (repeated values of a key keep their
// order) and form encoding (spaces as '+').
type links struct {
	base  string       // scheme://host/path (escaped)
	pairs []queryParam // the request's query, grouped by key in order of first appearance
}

type queryParam struct {
	key    string
	values []string
}

// checkBaseURL reports a BaseURL that cannot prefix a path: it must be
// empty or an absolute http or https URL without a query or fragment.
func checkBaseURL(what, base string) error {
	if base == "" {
		return nil
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(base, "?#") {
		return fmt.Errorf("cosworth/pagination: %s.BaseURL %q must be an absolute http(s) URL without a query or fragment, such as \"https://api.example.com\" or \"https://example.com/api\"", what, base)
	}
	return nil
}

// newLinks prepares link building for r. baseURL, when set, replaces the
// request's scheme and host ("https://api.example.com" or with a path
// prefix, "https://example.com/api").
func newLinks(r *http.Request, baseURL string) links {
	var b strings.Builder
	path := r.URL.EscapedPath()
	if baseURL != "" {
		b.Grow(len(baseURL) + len(path))
		b.WriteString(strings.TrimSuffix(baseURL, "/"))
	} else {
		b.Grow(len("https://") + len(r.Host) + len(path))
		if r.TLS != nil {
			b.WriteString("https://")
		} else {
			b.WriteString("http://")
		}
		b.WriteString(r.Host)
	}
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	l := links{base: b.String()}
	raw := r.URL.RawQuery
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = querystring.Unescape(k), querystring.Unescape(v)
		i := l.index(k)
		if i < 0 {
			l.pairs = append(l.pairs, queryParam{key: k})
			i = len(l.pairs) - 1
		}
		l.pairs[i].values = append(l.pairs[i].values, v)
	}
	slices.SortStableFunc(l.pairs, func(a, b queryParam) int { return strings.Compare(a.key, b.key) })
	return l
}

func (l *links) index(key string) int {
	for i := range l.pairs {
		if l.pairs[i].key == key {
			return i
		}
	}
	return -1
}

// with returns the URL with the given parameters set (value != "") or
// removed (value == ""), each replacing every value the key had.
func (l *links) with(set ...string) string {
	var b strings.Builder
	b.Grow(len(l.base) + 64)
	b.WriteString(l.base)
	first := true
	write := func(k, v string) {
		if first {
			b.WriteByte('?')
			first = false
		} else {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v))
	}
	// Merge the sorted request keys with the (few) keys being set.
	override := func(k string) (string, bool) {
		for i := 0; i+1 < len(set); i += 2 {
			if set[i] == k {
				return set[i+1], true
			}
		}
		return "", false
	}
	pending := make([]bool, len(set)/2)
	for i := range pending {
		pending[i] = set[2*i+1] != "" && l.index(set[2*i]) < 0
	}
	flushBefore := func(k string, all bool) {
		for {
			best := -1
			for i, p := range pending {
				if p && (all || set[2*i] < k) && (best < 0 || set[2*i] < set[2*best]) {
					best = i
				}
			}
			if best < 0 {
				return
			}
			pending[best] = false
			write(set[2*best], set[2*best+1])
		}
	}
	for _, p := range l.pairs {
		flushBefore(p.key, false)
		if v, ok := override(p.key); ok {
			if v != "" {
				write(p.key, v)
			}
			continue
		}
		for _, v := range p.values {
			write(p.key, v)
		}
	}
	flushBefore("", true)
	return b.String()
}
