package main

import (
	"encoding/json"
	"path/filepath"
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
		m := s.req(t, "POST", "/api/token/", "", map[string]any{"username": user, "password": pass}).expect(t, 200, "").object(t, "access", "refresh")
		return m["access"].(string), m["refresh"].(string)
	}
	alice, _ := login("alice", "alice-pass-123")
	bob, _ := login("bob", "bob-pass-123")
	editor, _ := login("editor", "editor-pass-123")
	admin, _ := login("admin", "admin-pass-123")

	// The editors group may change and delete any book; others only their own.
	author := id(t, s.req(t, "POST", "/api/authors/", bearer(alice), map[string]any{"name": "Ann", "email": "ann@example.com"}).expect(t, 201, "").object(t, "id", "name", "email", "created_at", "book_count"))
	book := func() string {
		b := s.req(t, "POST", "/api/books/", bearer(alice), map[string]any{"title": "T", "isbn": "9780000000001", "author": author, "price_cents": 100}).expect(t, 201, "").object(t, "id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at")
		return "/api/books/" + itoa(id(t, b)) + "/"
	}
	b1 := book()
	s.req(t, "PATCH", b1, bearer(bob), map[string]any{"title": "Bob's"}).expect(t, 403, `{"detail":"You do not have permission to perform this action."}`)
	s.req(t, "PATCH", b1, bearer(editor), map[string]any{"title": "Edited"}).expect(t, 200, "")
	s.req(t, "GET", b1, "", nil).expect(t, 200, "").object(t, "id", "title", "isbn", "author", "price_cents", "published_on", "owner", "created_at")
	s.req(t, "DELETE", b1, bearer(bob), nil).expect(t, 403, "")
	s.req(t, "DELETE", b1, bearer(editor), nil).expect(t, 204, "")
	s.req(t, "POST", "/api/books/", bearer(editor), map[string]any{"title": "E", "isbn": "9780000000002", "author": author, "price_cents": 1}).expect(t, 201, "")

	// Staff list users (page-number), others are refused.
	s.req(t, "GET", "/api/users/", bearer(alice), nil).expect(t, 403, "")
	s.req(t, "GET", "/api/users/", "", nil).expect(t, 401, "")
	pg := s.req(t, "GET", "/api/users/?page_size=2", bearer(admin), nil).expect(t, 200, "").object(t, "count", "next", "previous", "results")
	if pg["count"].(float64) != 4 || len(pg["results"].([]any)) != 2 || pg["next"] == nil || pg["previous"] != nil {
		t.Fatalf("users page %v", pg)
	}
	var editorID, bobID int64
	all := s.req(t, "GET", "/api/users/?page_size=100", bearer(admin), nil).expect(t, 200, "").object(t, "count", "next", "previous", "results")
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
	s.req(t, "PATCH", bobURL, bearer(alice), map[string]any{"is_staff": true}).expect(t, 403, "")
	s.req(t, "PATCH", bobURL, bearer(admin), map[string]any{"groups": []string{"editors", "nope"}}).expect(t, 400, `{"groups":["Object with name=nope does not exist."]}`)
	s.req(t, "PATCH", "/api/users/999999/", bearer(admin), map[string]any{"is_staff": true}).expect(t, 404, `{"detail":"Not found."}`)
	s.req(t, "PATCH", bobURL, bearer(admin), map[string]any{"groups": []string{"editors"}}).
		expect(t, 200, `{"id":`+itoa(bobID)+`,"username":"bob","is_staff":false,"is_active":true,"groups":["editors"]}`)
	s.req(t, "GET", "/api/me/", bearer(bob), nil).expect(t, 200, "")
	s.req(t, "PATCH", bobURL, bearer(admin), map[string]any{"is_active": false}).
		expect(t, 200, `{"id":`+itoa(bobID)+`,"username":"bob","is_staff":false,"is_active":false,"groups":["editors"]}`)
	s.req(t, "GET", "/api/me/", bearer(bob), nil).expect(t, 401, "")
	s.req(t, "POST", "/api/token/", "", map[string]any{"username": "bob", "password": "bob-pass-123"}).expect(t, 401, "")
	s.req(t, "PATCH", bobURL, bearer(admin), map[string]any{"is_active": true, "is_staff": true, "groups": []string{}}).
		expect(t, 200, `{"id":`+itoa(bobID)+`,"username":"bob","is_staff":true,"is_active":true,"groups":[]}`)
	s.req(t, "GET", "/api/users/", bearer(bob), nil).expect(t, 200, "")

	// A password change ends every refresh token and DRF token issued before.
	_, oldRefresh := login("alice", "alice-pass-123")
	drf := s.req(t, "POST", "/api/token-auth/", "", map[string]any{"username": "alice", "password": "alice-pass-123"}).expect(t, 200, "").object(t, "token")["token"].(string)
	s.req(t, "GET", "/api/me/", token(drf), nil).expect(t, 200, "")
	s.req(t, "POST", "/api/me/password/", "", map[string]any{"old_password": "x", "new_password": "y"}).expect(t, 401, "")
	s.req(t, "POST", "/api/me/password/", bearer(alice), map[string]any{}).
		expect(t, 400, `{"old_password":["This field is required."],"new_password":["This field is required."]}`)
	s.req(t, "POST", "/api/me/password/", bearer(alice), map[string]any{"old_password": "wrong-pass-123", "new_password": "a-good-new-secret"}).
		expect(t, 400, `{"old_password":["Your old password was entered incorrectly. Please enter it again."]}`)
	s.req(t, "POST", "/api/me/password/", bearer(alice), map[string]any{"old_password": "alice-pass-123", "new_password": "1234567"}).
		expect(t, 400, `{"new_password":["This password is too short. It must contain at least 8 characters.","This password is too common.","This password is entirely numeric."]}`)
	s.req(t, "POST", "/api/me/password/", bearer(alice), map[string]any{"old_password": "alice-pass-123", "new_password": "Password"}).
		expect(t, 400, `{"new_password":["This password is too common."]}`)
	// Nothing changed so far: the old refresh token still works.
	s.req(t, "POST", "/api/token/refresh/", "", map[string]any{"refresh": oldRefresh}).expect(t, 200, "")
	rp := s.req(t, "POST", "/api/me/password/", bearer(alice), map[string]any{"old_password": "alice-pass-123", "new_password": "a-good-new-secret"})
	if rp.status != 204 || len(rp.body) != 0 {
		t.Fatalf("password change: %d %s", rp.status, rp.body)
	}
	s.req(t, "POST", "/api/token/refresh/", "", map[string]any{"refresh": oldRefresh}).
		expect(t, 401, `{"detail":"Token is invalid or expired","code":"token_not_valid"}`)
	s.req(t, "GET", "/api/me/", token(drf), nil).expect(t, 401, `{"detail":"Invalid token."}`)
	s.req(t, "POST", "/api/token/", "", map[string]any{"username": "alice", "password": "alice-pass-123"}).expect(t, 401, "")
	_, newRefresh := login("alice", "a-good-new-secret")
	s.req(t, "POST", "/api/token/refresh/", "", map[string]any{"refresh": newRefresh}).expect(t, 200, "")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// jsonEqualValue compares a decoded JSON value with want.
func jsonEqualValue(t *testing.T, got any, want string) {
	t.Helper()
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, b, want)
}
