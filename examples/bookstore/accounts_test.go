package main

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/cosworth/cosworth/internal/dbtest"
)

// TestAccounts walks "Accounts" of version 2 of the contract against the
// built binary: the editors group, password changes that end old
// credentials, and staff user administration.
func TestAccounts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildBookstore(t)
	t.Run("sqlite", func(t *testing.T) {
		svc := startBookstore(t, bin, "-db", filepath.Join(t.TempDir(), "bookstore.db"), "-demo")
		walkAccounts(t, svc)
		svc.stop(t)
	})
	t.Run("postgres+redis", func(t *testing.T) {
		// DRF tokens live in Redis: a password change must end them there.
		dsn, _ := dbtest.PostgresSchemaURL(t)
		_, prefix := dbtest.Redis(t)
		svc := startBookstore(t, bin, "-db", dsn, "-redis", dbtest.RedisURL(), "-redis-prefix", prefix, "-demo")
		walkAccounts(t, svc)
		svc.stop(t)
	})
}

func walkAccounts(t *testing.T, s *service) {
	login := func(user, pass string) (access, refresh string) {
		t.Helper()
		m := object(t, s.api.Post("/api/token/", map[string]any{"username": user, "password": pass}).AssertStatus(t, 200), "access", "refresh")
		return m["access"].(string), m["refresh"].(string)
	}
	alice, _ := login("alice", "alice-pass-123")
	bob, _ := login("bob", "bob-pass-123")
	editor, _ := login("editor", "editor-pass-123")
	admin, _ := login("admin", "admin-pass-123")

	// The editors group may change and delete any book; others only their own.
	author := id(t, object(t, s.as(bearer(alice)).Post("/api/authors/", map[string]any{"name": "Ann", "email": "ann@example.com"}).AssertStatus(t, 201), "id", "name", "email", "created_at", "book_count"))
	book := func() string {
		b := object(t, s.as(bearer(alice)).Post("/api/books/", map[string]any{"title": "T", "isbn": "9780000000001", "author": author, "price_cents": 100}).AssertStatus(t, 201), "id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at")
		return "/api/books/" + itoa(id(t, b)) + "/"
	}
	b1 := book()
	s.as(bearer(bob)).Patch(b1, map[string]any{"title": "Bob's"}).AssertStatus(t, 403).AssertJSON(t, `{"detail":"You do not have permission to perform this action."}`)
	s.as(bearer(editor)).Patch(b1, map[string]any{"title": "Edited"}).AssertStatus(t, 200)
	object(t, s.api.Get(b1).AssertStatus(t, 200), "id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at")
	s.as(bearer(bob)).Delete(b1).AssertStatus(t, 403)
	s.as(bearer(editor)).Delete(b1).AssertStatus(t, 204)
	s.as(bearer(editor)).Post("/api/books/", map[string]any{"title": "E", "isbn": "9780000000002", "author": author, "price_cents": 1}).AssertStatus(t, 201)

	// Staff list users (page-number), others are refused.
	s.as(bearer(alice)).Get("/api/users/").AssertStatus(t, 403)
	s.api.Get("/api/users/").AssertStatus(t, 401)
	pg := object(t, s.as(bearer(admin)).Get("/api/users/?page_size=2").AssertStatus(t, 200), "count", "next", "previous", "results")
	if pg["count"].(float64) != 4 || len(pg["results"].([]any)) != 2 || pg["next"] == nil || pg["previous"] != nil {
		t.Fatalf("users page %v", pg)
	}
	var editorID, bobID int64
	all := object(t, s.as(bearer(admin)).Get("/api/users/?page_size=100").AssertStatus(t, 200), "count", "next", "previous", "results")
	for _, u := range all["results"].([]any) {
		m := u.(map[string]any)
		switch m["username"] {
		case "editor":
			editorID = id(t, m)
			jsonEqualValue(t, m, `{"id":`+itoa(editorID)+`,"username":"editor","is_staff":false,"is_active":true,"groups":["editors"]}`)
		case "bob":
			bobID = id(t, m)
		}
	}
	if editorID == 0 || bobID == 0 {
		t.Fatalf("users %v", all)
	}

	// Staff change users; a deactivated user's JWT is refused at once.
	bobURL := "/api/users/" + itoa(bobID) + "/"
	s.as(bearer(alice)).Patch(bobURL, map[string]any{"is_staff": true}).AssertStatus(t, 403)
	s.as(bearer(admin)).Patch(bobURL, map[string]any{"groups": []string{"editors", "nope"}}).AssertStatus(t, 400).AssertJSON(t, `{"groups":["Object with name=nope does not exist."]}`)
	s.as(bearer(admin)).Patch("/api/users/999999/", map[string]any{"is_staff": true}).AssertStatus(t, 404).AssertJSON(t, `{"detail":"Not found."}`)
	s.as(bearer(admin)).Patch(bobURL, map[string]any{"groups": []string{"editors"}}).
		AssertStatus(t, 200).AssertJSON(t, `{"id":`+itoa(bobID)+`,"username":"bob","is_staff":false,"is_active":true,"groups":["editors"]}`)
	s.as(bearer(bob)).Get("/api/me/").AssertStatus(t, 200)
	s.as(bearer(admin)).Patch(bobURL, map[string]any{"is_active": false}).
		AssertStatus(t, 200).AssertJSON(t, `{"id":`+itoa(bobID)+`,"username":"bob","is_staff":false,"is_active":false,"groups":["editors"]}`)
	s.as(bearer(bob)).Get("/api/me/").AssertStatus(t, 401)
	s.api.Post("/api/token/", map[string]any{"username": "bob", "password": "bob-pass-123"}).AssertStatus(t, 401)
	s.as(bearer(admin)).Patch(bobURL, map[string]any{"is_active": true, "is_staff": true, "groups": []string{}}).
		AssertStatus(t, 200).AssertJSON(t, `{"id":`+itoa(bobID)+`,"username":"bob","is_staff":true,"is_active":true,"groups":[]}`)
	s.as(bearer(bob)).Get("/api/users/").AssertStatus(t, 200)

	// A password change ends every refresh token and DRF token issued before.
	_, oldRefresh := login("alice", "alice-pass-123")
	drf := object(t, s.api.Post("/api/token-auth/", map[string]any{"username": "alice", "password": "alice-pass-123"}).AssertStatus(t, 200), "token")["token"].(string)
	s.as(token(drf)).Get("/api/me/").AssertStatus(t, 200)
	s.api.Post("/api/me/password/", map[string]any{"old_password": "x", "new_password": "y"}).AssertStatus(t, 401)
	s.as(bearer(alice)).Post("/api/me/password/", map[string]any{}).
		AssertStatus(t, 400).AssertJSON(t, `{"old_password":["This field is required."],"new_password":["This field is required."]}`)
	s.as(bearer(alice)).Post("/api/me/password/", map[string]any{"old_password": "wrong-pass-123", "new_password": "a-good-new-secret"}).
		AssertStatus(t, 400).AssertJSON(t, `{"old_password":["Your old password was entered incorrectly. Please enter it again."]}`)
	s.as(bearer(alice)).Post("/api/me/password/", map[string]any{"old_password": "alice-pass-123", "new_password": "1234567"}).
		AssertStatus(t, 400).AssertJSON(t, `{"new_password":["This password is too short. It must contain at least 8 characters.","This password is too common.","This password is entirely numeric."]}`)
	s.as(bearer(alice)).Post("/api/me/password/", map[string]any{"old_password": "alice-pass-123", "new_password": "Password"}).
		AssertStatus(t, 400).AssertJSON(t, `{"new_password":["This password is too common."]}`)
	// Nothing changed so far: the old refresh token still works.
	s.api.Post("/api/token/refresh/", map[string]any{"refresh": oldRefresh}).AssertStatus(t, 200)
	rp := s.as(bearer(alice)).Post("/api/me/password/", map[string]any{"old_password": "alice-pass-123", "new_password": "a-good-new-secret"})
	if rp.Status != 204 || len(rp.Body) != 0 {
		t.Fatalf("password change: %d %s", rp.Status, rp.Body)
	}
	s.api.Post("/api/token/refresh/", map[string]any{"refresh": oldRefresh}).
		AssertStatus(t, 401).AssertJSON(t, `{"detail":"Token is invalid or expired","code":"token_not_valid"}`)
	s.as(token(drf)).Get("/api/me/").AssertStatus(t, 401).AssertJSON(t, `{"detail":"Invalid token."}`)
	s.api.Post("/api/token/", map[string]any{"username": "alice", "password": "alice-pass-123"}).AssertStatus(t, 401)
	_, newRefresh := login("alice", "a-good-new-secret")
	s.api.Post("/api/token/refresh/", map[string]any{"refresh": newRefresh}).AssertStatus(t, 200)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// jsonEqualValue compares a decoded JSON value with want.
func jsonEqualValue(t *testing.T, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	if !reflect.DeepEqual(got, w) {
		t.Fatalf("got %v, want %s", got, want)
	}
}
