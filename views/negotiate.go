package views

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/models"
)

// negotiate is DRF's DefaultContentNegotiation.select_renderer with JSON
// as the only renderer, run first in initial as DRF's APIView.initial
// does (before authentication and permissions). A format, from the
// route's {format} suffix or else the last ?format= value, other than
// "json" is 404 (DRF's filter_renderers); then the Accept header (absent
// means */*) must hold a media range JSON satisfies, or the request is
// 406. As in DRF, parameters of the ranges (q included) neither exclude
// nor rank: "application/json;q=0" still selects JSON. The common
// requests (no query, no Accept or */*) allocate nothing.
func negotiate(r *http.Request) error {
	format := chi.URLParam(r, "format")
	if format == "" && r.URL.RawQuery != "" {
		format = queryLast(r.URL.RawQuery, "format")
	}
	if format != "" && format != "json" {
		return models.ErrNotFound
	}
	accepts, ok := r.Header["Accept"]
	if !ok {
		return nil
	}
	for _, h := range accepts {
		for {
			tok, rest, more := strings.Cut(h, ",")
			if acceptsJSON(tok) {
				return nil
			}
			if !more {
				break
			}
			h = rest
		}
	}
	return notAcceptable{}
}

// acceptsJSON reports whether the media range tok (one element of an
// Accept header, parameters included) is satisfied by application/json,
// as DRF's _MediaType.match: the type and subtype compare without case,
// "*" matches anything, parameters do not matter (the renderer's media
// type has none).
func acceptsJSON(tok string) bool {
	typ, _, _ := strings.Cut(tok, ";")
	typ = strings.TrimSpace(typ)
	main, sub, _ := strings.Cut(typ, "/")
	main, sub = strings.TrimSpace(main), strings.TrimSpace(sub)
	return (main == "*" || strings.EqualFold(main, "application")) &&
		(sub == "*" || strings.EqualFold(sub, "json"))
}

// queryLast returns the last value of key in the raw query q, as Django's
// QueryDict.get, "" when absent. It allocates only for escaped text.
func queryLast(q, key string) string {
	val := ""
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(k, "%+") {
			if u, err := url.QueryUnescape(k); err == nil {
				k = u
			}
		}
		if k != key {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			u, err := url.QueryUnescape(v)
			if err != nil {
				continue // Go's ParseQuery drops such a pair too
			}
			v = u
		}
		val = v
	}
	return val
}

// notAcceptable is DRF's NotAcceptable: 406, no media type the client
// accepts can be rendered.
type notAcceptable struct{}

func (notAcceptable) Error() string   { return drfmsg.NotAcceptable }
func (notAcceptable) StatusCode() int { return http.StatusNotAcceptable }
