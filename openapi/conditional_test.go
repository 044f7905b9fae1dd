package openapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/openapi"
	"github.com/cosworth/cosworth/openapi/openapitest"
	"github.com/cosworth/cosworth/views"
)

// Lamp is a model with nothing but a name.
type Lamp struct {
	bun.BaseModel `bun:"table:lamps,alias:lamp"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id" cosworth:"read_only"`
	Name          string `bun:"name,notnull" json:"name" validate:"required,max=50"`
}

// conditionalRouter serves lamps twice: with ETags (the default) and
// without (NoETag).
func conditionalRouter(t *testing.T) chi.Router {
	db := dbtest.SQLite(t, (*Lamp)(nil))
	r := chi.NewRouter()
	r.Handle("/lamps/", &views.ListCreateView[Lamp]{DB: db})
	r.Handle("/lamps/{id}/", &views.RetrieveUpdateDestroyView[Lamp]{DB: db})
	r.Handle("/plain/", &views.ListCreateView[Lamp]{DB: db, NoETag: true})
	r.Handle("/plain/{id}/", &views.RetrieveUpdateDestroyView[Lamp]{DB: db, NoETag: true})
	return r
}

func paramNames(op *openapi.Operation, in string) []string {
	var out []string
	for _, p := range op.Parameters {
		if p.In == in {
			out = append(out, p.Name)
		}
	}
	return out
}

// TestConditionalDocumented: a view with ETags documents the ETag of its
// 200 answers to GET, PUT and PATCH, If-Match and If-None-Match on reads
// and on writes of an object, 304 on reads and 412; a NoETag view none of
// it. Every operation documents ?format= (404 when not json) and 406.
func TestConditionalDocumented(t *testing.T) {
	doc, err := openapi.Generate(conditionalRouter(t), openapi.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openapitest.New(doc.JSON()); err != nil {
		t.Fatal(err)
	}
	type want struct {
		headers  []string // header parameters
		etag     []string // the responses whose headers hold ETag
		has, not []string // responses present, absent
	}
	conditional := []string{"If-Match", "If-None-Match"}
	read, write := []string{"200", "304"}, []string{"200"}
	for _, c := range []struct {
		path, method string
		want
	}{
		{"/lamps/", "GET", want{conditional, read, []string{"200", "304", "412"}, nil}},
		{"/lamps/", "POST", want{nil, nil, []string{"201"}, []string{"304", "412"}}},
		{"/lamps/{id}/", "GET", want{conditional, read, []string{"200", "304", "412"}, nil}},
		{"/lamps/{id}/", "PUT", want{conditional, write, []string{"200", "412"}, []string{"304"}}},
		{"/lamps/{id}/", "PATCH", want{conditional, write, []string{"200", "412"}, []string{"304"}}},
		{"/lamps/{id}/", "DELETE", want{conditional, nil, []string{"204", "412"}, []string{"304"}}},
		{"/plain/", "GET", want{nil, nil, []string{"200"}, []string{"304", "412"}}},
		{"/plain/", "POST", want{nil, nil, []string{"201"}, []string{"304", "412"}}},
		{"/plain/{id}/", "GET", want{nil, nil, []string{"200"}, []string{"304", "412"}}},
		{"/plain/{id}/", "PUT", want{nil, nil, []string{"200"}, []string{"304", "412"}}},
		{"/plain/{id}/", "PATCH", want{nil, nil, []string{"200"}, []string{"304", "412"}}},
		{"/plain/{id}/", "DELETE", want{nil, nil, []string{"204"}, []string{"304", "412"}}},
	} {
		op := doc.Paths[c.path].Operation(c.method)
		if op == nil {
			t.Fatalf("%s %s: no operation", c.method, c.path)
		}
		if got := paramNames(op, "header"); !slices.Equal(got, c.headers) {
			t.Errorf("%s %s: header parameters %q, want %q", c.method, c.path, got, c.headers)
		}
		if got := paramNames(op, "query"); !slices.Equal(got, []string{"format"}) {
			t.Errorf("%s %s: query parameters %q, want [format]", c.method, c.path, got)
		}
		for code, r := range op.Responses {
			if _, ok := r.Headers["ETag"]; ok != slices.Contains(c.etag, code) {
				t.Errorf("%s %s: response %s has an ETag header: %v", c.method, c.path, code, ok)
			}
		}
		for _, code := range append([]string{"404", "406"}, c.has...) {
			if op.Responses[code] == nil {
				t.Errorf("%s %s: no %s response", c.method, c.path, code)
			}
		}
		for _, code := range c.not {
			if op.Responses[code] != nil {
				t.Errorf("%s %s: a %s response", c.method, c.path, code)
			}
		}
		if r := op.Responses["304"]; r != nil && r.Content != nil {
			t.Errorf("%s %s: 304 has content", c.method, c.path)
		}
	}
	if d := doc.Paths["/lamps/{id}/"].Patch.Responses["412"].Description; !strings.Contains(d, `{"detail": "Precondition failed."}`) {
		t.Errorf("412: %q", d)
	}
	if d := doc.Paths["/lamps/"].Get.Responses["406"].Description; !strings.Contains(d, `{"detail": "Could not satisfy the request Accept header."}`) {
		t.Errorf("406: %q", d)
	}
}

// TestConditionalAnswersMatchDocument sends conditional and negotiated
// requests over HTTP and checks every answer against the document with
// libopenapi-validator, and that the ETag the document promises is sent
// (and not by a NoETag view).
func TestConditionalAnswersMatchDocument(t *testing.T) {
	r := conditionalRouter(t)
	doc, err := openapi.Generate(r, openapi.Config{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := openapitest.New(doc.JSON())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	defer srv.Close()
	client := &http.Client{Transport: v.Transport(t, nil)}
	do := func(method, path, body string, header map[string]string, want int) (http.Header, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, val := range header {
			req.Header.Set(k, val)
		}
		if want < 300 {
			vreq := req.Clone(req.Context())
			vreq.Body = io.NopCloser(strings.NewReader(body))
			if err := v.Request(vreq); err != nil {
				t.Errorf("request does not match the document: %v", err)
			}
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
		}
		return resp.Header, b
	}
	const lamp = `{"name":"desk"}`
	for _, base := range []string{"/lamps/", "/plain/"} {
		etags := base == "/lamps/"
		_, b := do("POST", base, lamp, nil, 201)
		var created Lamp
		if err := json.Unmarshal(b, &created); err != nil {
			t.Fatal(err)
		}
		detail := fmt.Sprintf("%s%d/", base, created.ID)
		h, _ := do("GET", detail, "", nil, 200)
		tag := h.Get("ETag")
		if (tag != "") != etags {
			t.Fatalf("GET %s: ETag %q", detail, tag)
		}
		h, _ = do("GET", base+"?format=json", "", nil, 200)
		list := h.Get("ETag")
		if (list != "") != etags {
			t.Fatalf("GET %s: ETag %q", base, list)
		}
		do("GET", base+"?format=xml", "", nil, 404)
		do("GET", detail, "", map[string]string{"Accept": "text/html"}, 406)
		do("PATCH", detail, `{"name":"floor"}`, map[string]string{"Accept": "text/csv"}, 406)
		if !etags {
			// Preconditions are not evaluated: the answers are plain.
			do("GET", detail, "", map[string]string{"If-None-Match": "*"}, 200)
			do("PATCH", detail, `{"name":"floor"}`, map[string]string{"If-Match": `"0000000000000000"`}, 200)
			continue
		}
		do("GET", detail, "", map[string]string{"If-None-Match": tag}, 304)
		do("GET", base, "", map[string]string{"If-None-Match": list}, 304)
		do("GET", detail, "", map[string]string{"If-Match": `"0000000000000000"`}, 412)
		do("PATCH", detail, `{"name":"floor"}`, map[string]string{"If-Match": `"0000000000000000"`}, 412)
		h, _ = do("PATCH", detail, `{"name":"floor"}`, map[string]string{"If-Match": tag}, 200)
		if h.Get("ETag") == "" || h.Get("ETag") == tag {
			t.Errorf("PATCH: ETag %q, the old one %q", h.Get("ETag"), tag)
		}
		tag = h.Get("ETag")
		h, _ = do("PUT", detail, lamp, map[string]string{"If-Match": tag}, 200)
		if h.Get("ETag") == "" {
			t.Error("PUT: no ETag")
		}
		do("DELETE", detail, "", map[string]string{"If-Match": tag}, 412)
		do("DELETE", detail, "", map[string]string{"If-Match": h.Get("ETag")}, 204)
	}
}
