package views

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/permissions"
	"github.com/cosworth/cosworth/serializers"
	"github.com/cosworth/cosworth/throttling"
)

// APIView is DRF's APIView for endpoints that are not a generic view over
// a model (/api/me/, token endpoints, actions). Each method has a handler
// field; a nil field means the method is not allowed (405 with Allow).
// Requests go through the same flow as the generic views: the
// authentication outcome, Permissions, Throttles, method dispatch; HEAD
// runs Get without the body and OPTIONS answers DRF's metadata. A handler
// returns an error to have it answered by WriteError (a
// *models.ValidationError, models.ErrNotFound, a *permissions.DeniedError,
// or any other error, which becomes a logged 500). Set the fields before
// first use and do not change them afterwards.
type APIView struct {
	// Permissions are checked in order; nil means AllowAny.
	Permissions []permissions.Permission
	// Throttles are checked after permissions; the longest wait is reported.
	Throttles []throttling.Throttle

	// Get, Post, Put, Patch and Delete handle their method.
	Get    func(w http.ResponseWriter, r *http.Request) error
	Post   func(w http.ResponseWriter, r *http.Request) error
	Put    func(w http.ResponseWriter, r *http.Request) error
	Patch  func(w http.ResponseWriter, r *http.Request) error
	Delete func(w http.ResponseWriter, r *http.Request) error

	// Name and Description appear in OPTIONS responses.
	Name        string
	Description string

	once    sync.Once
	allow   []string
	options []byte
}

func (v *APIView) init() {
	var m []string
	for _, h := range []struct {
		method string
		set    bool
	}{
		{http.MethodGet, v.Get != nil},
		{http.MethodPost, v.Post != nil},
		{http.MethodPut, v.Put != nil},
		{http.MethodPatch, v.Patch != nil},
		{http.MethodDelete, v.Delete != nil},
		{http.MethodHead, v.Get != nil},
		{http.MethodOptions, true},
	} {
		if h.set {
			m = append(m, h.method)
		}
	}
	v.allow = []string{strings.Join(m, ", ")}
	v.options = optionsBody(v.Name, v.Description)
}

// ServeHTTP runs the request flow and the handler of r's method.
func (v *APIView) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.once.Do(v.init)
	method := r.Method
	if method == http.MethodHead {
		w = headWriter{w}
		if v.Get != nil {
			method = http.MethodGet
		}
	}
	w.Header()["Allow"] = v.allow
	if err := initial(r, v.Permissions, v.Throttles); err != nil {
		WriteError(w, r, err)
		return
	}
	var h func(http.ResponseWriter, *http.Request) error
	switch method {
	case http.MethodGet:
		h = v.Get
	case http.MethodPost:
		h = v.Post
	case http.MethodPut:
		h = v.Put
	case http.MethodPatch:
		h = v.Patch
	case http.MethodDelete:
		h = v.Delete
	case http.MethodOptions:
		jsonbody.Write(w, http.StatusOK, v.options)
		return
	}
	if h == nil {
		WriteError(w, r, &methodNotAllowedError{method: r.Method})
		return
	}
	if err := h(w, r); err != nil {
		WriteError(w, r, err)
	}
}

// WriteJSON writes v, encoded by encoding/json, with the given status and
// Content-Type application/json. When v cannot be encoded nothing is
// written and the error is returned.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	jsonbody.Write(w, status, b)
	return nil
}

// ReadJSON decodes r's JSON body into dst with encoding/json, with the
// generic views' rules: at most 1 MiB (413 beyond), Content-Type
// application/json (415 otherwise), an empty body read as {}, and a
// *serializers.ParseError (400 "JSON parse error - ...") for malformed
// JSON or trailing data. Unknown fields are ignored, as in DRF.
func ReadJSON(r *http.Request, dst any) error {
	b := jsonbody.GetBuffer()
	defer jsonbody.PutBuffer(b)
	body, err := readBody(r, defaultMaxBody, b, nil)
	if err != nil {
		return err
	}
	return decodeJSON(body, dst)
}

// decodeJSON unmarshals body into dst, turning encoding/json's errors into
// DRF's: a *serializers.ParseError for malformed JSON, a field error for a
// value of the wrong type.
func decodeJSON(body []byte, dst any) error {
	err := json.Unmarshal(body, dst)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		ve := &models.ValidationError{}
		ve.Add(te.Field, typeMessage(te.Type))
		return ve
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &serializers.ParseError{Reason: se.Error()}
	}
	if errors.As(err, &te) {
		return &models.ValidationError{Fields: []models.FieldError{{
			Field: models.NonFieldErrors, Messages: []string{drfmsg.NotADict + jsonKind(te.Value) + "."},
		}}}
	}
	return &serializers.ParseError{Reason: "invalid JSON"}
}

// typeMessage is DRF's message for a value of the wrong JSON type.
func typeMessage(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return drfmsg.InvalidString
	case reflect.Bool:
		return "Must be a valid boolean."
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "A valid integer is required."
	case reflect.Float32, reflect.Float64:
		return "A valid number is required."
	}
	return "Invalid value."
}

// jsonKind names a JSON value kind the way DRF names Python types.
func jsonKind(v string) string {
	switch v {
	case "array":
		return "list"
	case "string":
		return "str"
	case "number":
		return "int"
	case "bool":
		return "bool"
	}
	return v
}
