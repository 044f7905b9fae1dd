package serializers

import (
	"net/http"

	"github.com/cosworth/cosworth/internal/drfmsg"
)

// ParseError is a request body that is not acceptable JSON: a 400 with
// {"detail": "JSON parse error - <reason>"}.
type ParseError struct {
	Reason string
}

// Error is DRF's detail text: "JSON parse error - <reason>".
func (e *ParseError) Error() string { return drfmsg.ParseErrorPrefix + e.Reason }

// StatusCode is 400.
func (e *ParseError) StatusCode() int { return http.StatusBadRequest }
