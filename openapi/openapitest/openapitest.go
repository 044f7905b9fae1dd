// Package openapitest checks OpenAPI documents, and real HTTP exchanges
// against them, with an independent implementation of the specification
// (github.com/pb33f/libopenapi and libopenapi-validator). It is meant for
// tests: import it from _test.go files only, so services do not link the
// validator.
//
//	doc, _ := openapi.Generate(router, cfg)
//	v, err := openapitest.New(doc.JSON())      // the document is valid OpenAPI 3.1
//	client := &http.Client{Transport: v.Transport(t, nil)}
//	resp, _ := client.Get(srv.URL + "/api/books/") // t.Error on a response the document does not allow
package openapitest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
)

// Validator validates a document and HTTP exchanges against it. It is safe
// for concurrent use.
type Validator struct {
	mu  sync.Mutex
	doc libopenapi.Document
	v   validator.Validator
}

// New parses doc (JSON or YAML), builds its OpenAPI 3 model and validates
// the document against the OpenAPI specification's schema. It returns an
// error listing every problem found. opts are passed to
// libopenapi-validator after the defaults of this package (format
// assertions on: "email", "date", "date-time", "uri" are checked).
func New(doc []byte, opts ...config.Option) (*Validator, error) {
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		return nil, fmt.Errorf("openapitest: parse: %w", err)
	}
	if info := d.GetSpecInfo(); info == nil || !strings.HasPrefix(info.Version, "3.1") {
		v := ""
		if info != nil {
			v = info.Version
		}
		return nil, fmt.Errorf("openapitest: the document is OpenAPI %q, not 3.1", v)
	}
	if _, err := d.BuildV3Model(); err != nil {
		return nil, fmt.Errorf("openapitest: build model: %w", err)
	}
	opts = append([]config.Option{config.WithFormatAssertions()}, opts...)
	v, errs := validator.NewValidator(d, opts...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapitest: validator: %w", errors.Join(errs...))
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("openapitest: the document is not valid OpenAPI: %w", join(verrs))
	}
	return &Validator{doc: d, v: v}, nil
}

// Response validates resp, the answer to req: its status must be
// documented for the operation, and its headers and body must match the
// response's schema. resp.Body is read and replaced, so the caller can
// still read it.
func (v *Validator) Response(req *http.Request, resp *http.Response) error {
	body, err := readBody(&resp.Body)
	if err != nil {
		return err
	}
	defer func() { resp.Body = io.NopCloser(bytes.NewReader(body)) }()
	v.mu.Lock()
	defer v.mu.Unlock()
	if ok, errs := v.v.ValidateHttpResponse(req, resp); !ok {
		return fmt.Errorf("%s %s -> %d %s: %w", req.Method, req.URL.RequestURI(), resp.StatusCode, body, join(errs))
	}
	return nil
}

// Request validates req against the document: its path, method, query
// parameters and body. req.Body is read and replaced.
func (v *Validator) Request(req *http.Request) error {
	if req.Body != nil {
		body, err := readBody(&req.Body)
		if err != nil {
			return err
		}
		defer func() { req.Body = io.NopCloser(bytes.NewReader(body)) }()
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if ok, errs := v.v.ValidateHttpRequest(req); !ok {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.RequestURI(), join(errs))
	}
	return nil
}

// Transport returns an http.RoundTripper that sends requests through next
// (http.DefaultTransport when nil) and reports with t.Errorf every response
// the document does not allow. Requests are not validated: tests send
// invalid ones on purpose.
func (v *Validator) Transport(t testing.TB, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper{t: t, v: v, next: next}
}

type roundTripper struct {
	t    testing.TB
	v    *Validator
	next http.RoundTripper
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			reqBody, _ = io.ReadAll(b)
			_ = b.Close()
		}
	}
	resp, err := rt.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	// The validator may read the request body to find the operation.
	vreq := req.Clone(req.Context())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	if err := rt.v.Response(vreq, resp); err != nil {
		rt.t.Errorf("openapitest: response does not match the document: %v", err)
	}
	return resp, nil
}

func readBody(rc *io.ReadCloser) ([]byte, error) {
	if *rc == nil {
		*rc = http.NoBody
		return nil, nil
	}
	b, err := io.ReadAll(*rc)
	_ = (*rc).Close()
	if err != nil {
		return nil, fmt.Errorf("openapitest: read body: %w", err)
	}
	*rc = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

// join renders validation errors with their schema failures.
func join(errs []*verrors.ValidationError) error {
	var msgs []string
	for _, e := range errs {
		m := e.Message
		if e.Reason != "" {
			m += ": " + e.Reason
		}
		for _, f := range e.SchemaValidationErrors {
			m += "; " + f.Reason
			if f.FieldPath != "" {
				m += " at " + f.FieldPath
			}
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		return errors.New("invalid")
	}
	return errors.New(strings.Join(msgs, " | "))
}
