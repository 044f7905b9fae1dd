package openapitest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cosworth/cosworth/openapi/openapitest"
)

const doc = `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/n/":{"get":{"responses":{"200":{"description":"OK","content":{"application/json":{"schema":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}}}}}}}}}`

func TestNew(t *testing.T) {
	if _, err := openapitest.New([]byte(doc)); err != nil {
		t.Fatalf("valid document refused: %v", err)
	}
	for name, bad := range map[string]string{
		"3.0":          strings.Replace(doc, "3.1.0", "3.0.3", 1),
		"not json":     `{"openapi": `,
		"bad response": strings.Replace(doc, `"description":"OK",`, ``, 1),
	} {
		if _, err := openapitest.New([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestResponse(t *testing.T) {
	v, err := openapitest.New([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"n":1}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	check := func() error {
		req, _ := http.NewRequest("GET", srv.URL+"/n/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		err = v.Response(req, resp)
		buf := new(strings.Builder)
		if _, cerr := io.Copy(buf, resp.Body); cerr != nil || buf.String() != body {
			t.Errorf("body not restored: %q %v", buf.String(), cerr)
		}
		return err
	}
	if err := check(); err != nil {
		t.Errorf("valid response refused: %v", err)
	}
	body = `{"n":"one"}`
	if err := check(); err == nil {
		t.Error("invalid response accepted")
	}
}
