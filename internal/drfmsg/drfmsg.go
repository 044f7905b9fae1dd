// Package drfmsg holds the standard messages of Django REST Framework 3.14
// (rest_framework.exceptions, fields, serializers, pagination) that more
// than one Cosworth package answers with: each is defined here once, and
// packages that export a message (permissions.MsgDenied, ...) export the
// constant from here. Messages that belong to one package only (simplejwt's,
// django-filter's, the token authenticator's) stay next to their use.
package drfmsg

// Exception details (rest_framework.exceptions default_detail), and the
// server's fixed texts.
const (
	// ServerError is the body of every 500: the cause is logged, never sent.
	ServerError = "A server error occurred."
	// Unavailable is a 503 for a dependency (database, Redis, an auth
	// proxy) that could not answer in time.
	Unavailable = "Service temporarily unavailable, try again later."
	// NotFound is DRF's NotFound (Http404).
	NotFound = "Not found."
	// NotAuthenticated is DRF's NotAuthenticated.
	NotAuthenticated = "Authentication credentials were not provided."
	// AuthenticationFailed is DRF's AuthenticationFailed.
	AuthenticationFailed = "Incorrect authentication credentials."
	// PermissionDenied is DRF's PermissionDenied.
	PermissionDenied = "You do not have permission to perform this action."
	// MalformedRequest is DRF's ParseError default: a body that could
	// not be read.
	MalformedRequest = "Malformed request."
	// TooLarge is a request body beyond the configured limit (413).
	TooLarge = "Request body is too large."
	// InvalidInput is DRF's ValidationError default, the body of a
	// validation error with no field named.
	InvalidInput = "Invalid input."
	// InvalidPage is PageNumberPagination's and LimitOffset's 404.
	InvalidPage = "Invalid page."
	// InvalidCursor is CursorPagination's 404.
	InvalidCursor = "Invalid cursor"
	// NotAcceptable is DRF's NotAcceptable (406): no media type the
	// request's Accept header admits can be rendered.
	NotAcceptable = "Could not satisfy the request Accept header."
	// PreconditionFailed is the 412 of a failed If-Match or If-None-Match
	// (the generic views' conditional requests).
	PreconditionFailed = "Precondition failed."
)

// Field and request body messages (rest_framework.fields and serializers).
const (
	// Required is a missing field.
	Required = "This field is required."
	// Null is a null value for a field that does not allow it.
	Null = "This field may not be null."
	// Blank is an empty string for a field that does not allow it.
	Blank = "This field may not be blank."
	// InvalidString is a value a CharField does not accept.
	InvalidString = "Not a valid string."
	// NullChars is a string holding U+0000 (ProhibitNullCharactersValidator).
	NullChars = "Null characters are not allowed."
	// NoData is a body that is JSON null.
	NoData = "No data provided"
	// NotADict is the start of the message for a body that is JSON but not
	// an object: NotADict + "list" + ".".
	NotADict = "Invalid data. Expected a dictionary, but got "
	// ParseErrorPrefix starts the detail of a body that is not JSON:
	// ParseErrorPrefix + reason.
	ParseErrorPrefix = "JSON parse error - "
)

// MethodNotAllowed is DRF's MethodNotAllowed detail for method.
func MethodNotAllowed(method string) string { return `Method "` + method + `" not allowed.` }

// UnsupportedMediaType is DRF's UnsupportedMediaType detail for a request
// whose Content-Type is contentType.
func UnsupportedMediaType(contentType string) string {
	return `Unsupported media type "` + contentType + `" in request.`
}
