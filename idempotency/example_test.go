package idempotency_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/idempotency"
	"github.com/cosworth/cosworth/models"
	"github.com/cosworth/cosworth/views"
)

// Order is the model of the example.
type Order struct {
	bun.BaseModel `bun:"table:orders"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id" cosworth:"read_only"`
	Item          string `bun:"item,notnull" json:"item" validate:"required"`
}

// ExampleMiddleware serves creates that a client may retry with the same
// Idempotency-Key: the repeat gets the first answer and creates nothing,
// another body under the key is refused. With DBStore the record is
// written by the create's own transaction; RedisStore shares keys between
// instances that do not share a database.
func ExampleMiddleware() {
	dir, err := os.MkdirTemp("", "idempotency-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := models.Open(ctx, filepath.Join(dir, "shop.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := models.CreateTables(ctx, db, (*Order)(nil)); err != nil {
		log.Fatal(err)
	}

	keys := idempotency.Middleware(idempotency.Options{Store: &idempotency.DBStore{DB: db}})
	r := chi.NewRouter()
	r.Use(authentication.Middleware(authentication.AuthenticatorFunc(func(r *http.Request) (*authentication.Principal, error) {
		return &authentication.Principal{Username: "ann"}, nil // everyone is ann here
	})))
	r.With(keys).Handle("/orders/", &views.ListCreateView[Order]{DB: db})

	post := func(key, body string) {
		req := httptest.NewRequest("POST", "/orders/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Println(w.Code, w.Header().Get("Idempotent-Replayed"), strings.TrimSpace(w.Body.String()))
	}
	post("order-1", `{"item": "tea"}`)
	post("order-1", `{"item": "tea"}`)
	post("order-1", `{"item": "coffee"}`)
	post("order-2", `{"item": "tea"}`)
	// Output:
	// 201  {"id":1,"item":"tea"}
	// 201 true {"id":1,"item":"tea"}
	// 422  {"detail":"This Idempotency-Key was already used with a different request body."}
	// 201  {"id":2,"item":"tea"}
}
