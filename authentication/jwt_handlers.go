package authentication

import (
	"errors"
	"net/http"
	"time"

	"github.com/uptrace/bun"

	"github.com/cosworth/cosworth/internal/drfmsg"
	"github.com/cosworth/cosworth/internal/httperror"
	"github.com/cosworth/cosworth/internal/jsonbody"
	"github.com/cosworth/cosworth/models"
)

// postOnly answers anything but POST as DRF does for a view with only a
// post method: 200 with Allow for OPTIONS, 405 otherwise. It reports
// whether the request is a POST.
func postOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPost {
		return true
	}
	w.Header().Set("Allow", "POST, OPTIONS")
	if r.Method == http.MethodOptions {
		jsonbody.Write(w, http.StatusOK, []byte("{}"))
		return false
	}
	jsonbody.Detail(w, http.StatusMethodNotAllowed, drfmsg.MethodNotAllowed(r.Method))
	return false
}

// tokenInvalid is simplejwt's InvalidToken with the given reason.
func (j *JWT) tokenInvalid(reason string) *FailedError {
	return &FailedError{Detail: reason, Code: codeTokenNotValid, Challenge: j.challenge}
}

// ObtainPairHandler answers POST {"username", "password"} with 200
// {"refresh", "access"}, as simplejwt's TokenObtainPairView:
//
//   - a missing, null or blank field: 400 {"username": ["This field is required."], ...}
//   - wrong credentials, unknown or inactive user: 401 {"detail": "No active
//     account found with the given credentials"} and WWW-Authenticate
//   - a body that is not JSON: 415; over MaxBodyBytes: 413
//   - a database failure: 503 (or 500), the cause logged only.
//
// The password is compared in equal time whether or not the user exists
// (models.AuthenticateUser). Throttle this route: see
// [github.com/cosworth/cosworth/throttling.Handler].
func (j *JWT) ObtainPairHandler(db bun.IDB) http.Handler {
	j.setup()
	if db == nil {
		panic("cosworth/authentication: ObtainPairHandler needs a database")
	}
	if j.Key == nil {
		panic("cosworth/authentication: ObtainPairHandler needs a signing Key")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !postOnly(w, r) {
			return
		}
		vals, err := readFields(r, credentialField{name: "username"}, credentialField{name: "password"})
		if err != nil {
			httperror.Write(w, r, err)
			return
		}
		u, err := models.AuthenticateUser(r.Context(), db, vals[0], vals[1])
		if err != nil {
			if errors.Is(err, models.ErrNotFound) {
				err = &FailedError{Detail: msgNoActiveAccount, Challenge: j.challenge}
			}
			httperror.Write(w, r, err)
			return
		}
		refresh, access, err := j.IssuePair(u.ID, tokenVersionClaim(u))
		if err != nil {
			httperror.Write(w, r, err)
			return
		}
		writeJSON(w, "refresh", refresh, "access", access)
	})
}

// RefreshHandler answers POST {"refresh"} with 200 {"access"} (and a new
// "refresh" when Rotate is set), as simplejwt's TokenRefreshView. An
// invalid, expired, blacklisted or non-refresh token is a 401
// {"detail": <reason>, "code": "token_not_valid"}; with DB set, a token of
// a deleted or inactive user is a 401 "no_active_account". A Blacklist or
// database that cannot answer gives 503.
func (j *JWT) RefreshHandler() http.Handler {
	j.setup()
	if j.Key == nil {
		panic("cosworth/authentication: RefreshHandler needs a signing Key")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !postOnly(w, r) {
			return
		}
		vals, err := readFields(r, credentialField{name: "refresh"})
		if err != nil {
			httperror.Write(w, r, err)
			return
		}
		ctx := r.Context()
		claims, err := j.Parse(vals[0], RefreshToken)
		if err != nil {
			httperror.Write(w, r, j.tokenInvalid(err.Error()))
			return
		}
		jti := claims["jti"].(string) // Parse checked it
		if j.Blacklist != nil && !j.Rotate {
			revoked, err := j.Blacklist.Revoked(ctx, jti)
			if err != nil {
				httperror.Write(w, r, &UnavailableError{Err: err})
				return
			}
			if revoked {
				httperror.Write(w, r, j.tokenInvalid(msgBlacklisted))
				return
			}
		}
		if j.DB != nil {
			uid, ok := userID(claims)
			if !ok {
				httperror.Write(w, r, j.tokenInvalid(msgNoUserID))
				return
			}
			u, err := models.UserByID(ctx, j.DB, uid)
			if err != nil && !errors.Is(err, models.ErrNotFound) {
				httperror.Write(w, r, err)
				return
			}
			if err != nil || !u.IsActive {
				httperror.Write(w, r, &FailedError{Detail: msgNoActiveForToken, Code: "no_active_account", Challenge: j.challenge})
				return
			}
			if tokenVersion(claims) != u.TokenVersion { // issued before a password change
				httperror.Write(w, r, j.tokenInvalid(MsgTokenInvalid))
				return
			}
		}
		now := time.Now()
		access, err := j.accessFrom(claims, now)
		if err != nil {
			httperror.Write(w, r, err)
			return
		}
		if !j.Rotate {
			writeJSON(w, "access", access)
			return
		}
		if j.Blacklist != nil {
			// Atomic: of concurrent refreshes with one token, one wins.
			already, err := j.Blacklist.Revoke(ctx, jti, j.acceptedUntil(claims))
			if err != nil {
				httperror.Write(w, r, &UnavailableError{Err: err})
				return
			}
			if already {
				httperror.Write(w, r, j.tokenInvalid(msgBlacklisted))
				return
			}
		}
		// simplejwt rotates by renewing jti, exp and iat on the same claims.
		claims["jti"] = newJTI()
		claims["exp"] = now.Add(j.refresh).Unix()
		claims["iat"] = now.Unix()
		refresh, err := j.sign(claims)
		if err != nil {
			httperror.Write(w, r, err)
			return
		}
		writeJSON(w, "access", access, "refresh", refresh)
	})
}

// VerifyHandler answers POST {"token"} with 200 {} when the token (of any
// type) is valid, as simplejwt's TokenVerifyView; otherwise 401
// {"detail": "Token is invalid or expired", "code": "token_not_valid"}. A
// blacklisted token is 400 {"non_field_errors": ["Token is blacklisted"]},
// as simplejwt 5 answers.
func (j *JWT) VerifyHandler() http.Handler {
	j.setup()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !postOnly(w, r) {
			return
		}
		vals, err := readFields(r, credentialField{name: "token"})
		if err != nil {
			httperror.Write(w, r, err)
			return
		}
		claims, err := j.Parse(vals[0], "")
		if err != nil {
			httperror.Write(w, r, j.tokenInvalid(err.Error()))
			return
		}
		if j.Blacklist != nil {
			revoked, err := j.Blacklist.Revoked(r.Context(), claims["jti"].(string))
			if err != nil {
				httperror.Write(w, r, &UnavailableError{Err: err})
				return
			}
			if revoked {
				httperror.Write(w, r, nonFieldError(msgBlacklisted))
				return
			}
		}
		jsonbody.Write(w, http.StatusOK, []byte("{}"))
	})
}

// BlacklistHandler answers POST {"refresh"} by blacklisting the refresh
// token (a logout), with 200 {}, as simplejwt's TokenBlacklistView. It
// panics without a Blacklist.
func (j *JWT) BlacklistHandler() http.Handler {
	j.setup()
	if j.Blacklist == nil {
		panic("cosworth/authentication: BlacklistHandler needs a Blacklist")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !postOnly(w, r) {
			return
		}
		vals, err := readFields(r, credentialField{name: "refresh"})
		if err != nil {
			httperror.Write(w, r, err)
			return
		}
		claims, err := j.Parse(vals[0], RefreshToken)
		if err != nil {
			httperror.Write(w, r, j.tokenInvalid(err.Error()))
			return
		}
		if _, err := j.Blacklist.Revoke(r.Context(), claims["jti"].(string), j.acceptedUntil(claims)); err != nil {
			httperror.Write(w, r, &UnavailableError{Err: err})
			return
		}
		jsonbody.Write(w, http.StatusOK, []byte("{}"))
	})
}
