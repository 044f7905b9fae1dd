package views

import (
	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/httperror"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/pagination"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/throttling"
)

// The error contract: the interfaces views exports and the ones the
// mapping below them uses have the same method sets (each is assignable
// to the other), and every error type of the packages under views
// implements the parts it claims, on purpose.
var (
	_ httperror.Error   = Error(nil)
	_ Error             = httperror.Error(nil)
	_ httperror.Body    = ErrorBody(nil)
	_ ErrorBody         = httperror.Body(nil)
	_ httperror.Headers = ErrorHeaders(nil)
	_ ErrorHeaders      = httperror.Headers(nil)

	_ Error     = (*models.ValidationError)(nil)
	_ ErrorBody = (*models.ValidationError)(nil)
	_ Error     = (*serializers.ParseError)(nil)

	_ Error     = (*pagination.InvalidPageError)(nil)
	_ ErrorBody = (*pagination.InvalidPageError)(nil)

	_ Error        = (*permissions.DeniedError)(nil)
	_ ErrorHeaders = (*permissions.DeniedError)(nil)

	_ Error        = (*authentication.FailedError)(nil)
	_ ErrorBody    = (*authentication.FailedError)(nil)
	_ ErrorHeaders = (*authentication.FailedError)(nil)
	_ Error        = (*authentication.UnavailableError)(nil)
	_ ErrorHeaders = (*authentication.UnavailableError)(nil)

	_ Error        = (*throttling.ThrottledError)(nil)
	_ ErrorHeaders = (*throttling.ThrottledError)(nil)
	_ Error        = (*throttling.UnavailableError)(nil)
	_ ErrorHeaders = (*throttling.UnavailableError)(nil)

	_ Error        = (*methodNotAllowedError)(nil)
	_ Error        = (*unsupportedMediaTypeError)(nil)
	_ Error        = tooLargeError{}
	_ Error        = (*badBodyError)(nil)
	_ Error        = (*unavailableError)(nil)
	_ ErrorHeaders = (*unavailableError)(nil)
)
