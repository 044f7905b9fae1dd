package authentication

import (
	"encoding/json"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cosworth/cosworth/models"
)

// ClaimTokenVersion is the claim carrying the user's models.User.TokenVersion
// in tokens issued after a password change (absent while it is 0, so
// tokens of users who never changed their password are simplejwt's). With
// DB set, RefreshHandler refuses a refresh token whose version is not the
// user's current one, so a password change ends every session: the user
// row it already reads holds the version, so the check costs no query.
const ClaimTokenVersion = "token_version"

// tokenVersionClaim returns the extra claims of a token pair for u.
func tokenVersionClaim(u *models.User) map[string]any {
	if u.TokenVersion == 0 {
		return nil
	}
	return map[string]any{ClaimTokenVersion: u.TokenVersion}
}

// tokenVersion reads the token_version claim; absent is 0.
func tokenVersion(c jwt.MapClaims) int64 {
	switch v := c[ClaimTokenVersion].(type) {
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			return -1
		}
		return n
	case float64:
		return int64(v)
	case int64:
		return v
	case nil:
		return 0
	}
	return -1
}
