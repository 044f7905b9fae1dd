package openapi

// Operations of the token endpoints of package authentication, to
// register in Config.Operations under the paths they are mounted at:
//
//	Operations: map[string]*openapi.Operation{
//		"POST /api/token/":         openapi.TokenObtainPairOperation(),
//		"POST /api/token/refresh/": openapi.TokenRefreshOperation(),
//		"POST /api/token/verify/":  openapi.TokenVerifyOperation(),
//		"POST /api/token-auth/":    openapi.AuthTokenOperation(),
//	}
//
// Their bodies are simplejwt's and DRF's (schemas TokenObtainPairRequest,
// TokenObtainPair, TokenRefreshRequest, TokenRefresh, TokenVerifyRequest,
// AuthTokenRequest, AuthToken).

func stringProps(names []string, writeOnly []string, readOnly bool) *Schema {
	s := &Schema{Type: Types{"object"}, Properties: &Properties{}, Required: names}
	for _, n := range names {
		p := &Schema{Type: Types{"string"}}
		for _, w := range writeOnly {
			if w == n {
				p.WriteOnly = true
			}
		}
		p.ReadOnly = readOnly
		s.Properties.Set(n, p)
	}
	return s
}

func tokenOperation(summary, description, reqName string, req *Schema, respName string, resp *Schema) *Operation {
	op := &Operation{
		Summary:     summary,
		Description: description,
		RequestBody: JSONBody(Ref(reqName)),
		Responses: map[string]*Response{
			"400":     ValidationResponse(),
			"401":     ErrorResponse("No active account found with the given credentials, or the token is invalid or expired."),
			"415":     ErrorResponse("The request body is not JSON."),
			"default": ErrorResponse(`Error: {"detail": message}, e.g. 429 when throttled.`),
		},
		Security: []SecurityRequirement{{}},
		Schemas:  map[string]*Schema{reqName: req, SchemaError: errorSchema(), SchemaValidationError: validationSchema()},
	}
	if resp != nil {
		op.Responses["200"] = JSONResponse("OK", Ref(respName))
		op.Schemas[respName] = resp
	} else {
		op.Responses["200"] = JSONResponse("OK", &Schema{Type: Types{"object"}})
	}
	return op
}

// TokenObtainPairOperation describes authentication.JWT's ObtainPairHandler
// (simplejwt's TokenObtainPairView): {username, password} -> {refresh,
// access}.
func TokenObtainPairOperation() *Operation {
	return tokenOperation("Obtain a JWT pair",
		"Takes a set of user credentials and returns an access and refresh JSON web token pair to prove the authentication of those credentials.",
		"TokenObtainPairRequest", stringProps([]string{"username", "password"}, []string{"password"}, false),
		"TokenObtainPair", stringProps([]string{"refresh", "access"}, nil, true))
}

// TokenRefreshOperation describes authentication.JWT's RefreshHandler:
// {refresh} -> {access} (and a new refresh token when rotating).
func TokenRefreshOperation() *Operation {
	resp := stringProps([]string{"access"}, nil, true)
	resp.Properties.Set("refresh", &Schema{Type: Types{"string"}, ReadOnly: true, Description: "A new refresh token, when tokens are rotated."})
	return tokenOperation("Refresh a JWT",
		"Takes a refresh type JSON web token and returns an access type JSON web token if the refresh token is valid.",
		"TokenRefreshRequest", stringProps([]string{"refresh"}, []string{"refresh"}, false),
		"TokenRefresh", resp)
}

// TokenVerifyOperation describes authentication.JWT's VerifyHandler:
// {token} -> {}.
func TokenVerifyOperation() *Operation {
	return tokenOperation("Verify a JWT",
		"Takes a token and indicates if it is valid. This view provides no information about a token's fitness for a particular use.",
		"TokenVerifyRequest", stringProps([]string{"token"}, []string{"token"}, false),
		"", nil)
}

// AuthTokenOperation describes authentication.Token's ObtainHandler (DRF's
// obtain_auth_token): {username, password} -> {token}.
func AuthTokenOperation() *Operation {
	return tokenOperation("Obtain an API token",
		`Takes a set of user credentials and returns the user's token, to send as "Authorization: Token <key>".`,
		"AuthTokenRequest", stringProps([]string{"username", "password"}, []string{"password"}, false),
		"AuthToken", stringProps([]string{"token"}, nil, true))
}
