package throttling

import (
	"net/http"
	"strconv"
	"time"

	"github.com/cosworth/cosworth/authentication"
	"github.com/cosworth/cosworth/internal/httperror"
)

// Options configures a throttle.
type Options struct {
	// Store counts requests: when nil, a MemoryStore of the throttle's own.
	// Share one store between throttles freely: keys include the scope.
	Store Store
	// ClientIP finds the client address of anonymous requests: by default
	// r.RemoteAddr only (X-Forwarded-For is ignored unless trusted
	// proxies are configured, see TrustProxies).
	ClientIP ClientIP
}

// rateThrottle is the machinery shared by the three throttles.
type rateThrottle struct {
	scope  string
	prefix string // "throttle_<scope>_"
	rate   Rate
	store  Store
	ip     ClientIP
}

func newRateThrottle(scope, rate string, o Options) rateThrottle {
	if scope == "" {
		panic("cosworth/throttling: a throttle needs a scope")
	}
	t := rateThrottle{scope: scope, prefix: "throttle_" + scope + "_", rate: MustRate(rate), store: o.Store, ip: o.ClientIP}
	if t.store == nil {
		t.store = &MemoryStore{}
	}
	return t
}

// allow asks the store about the key "throttle_<scope>_<ident>", as DRF's
// cache key, where ident is the user's id (or "u:<username>" when it has
// none) or, for an anonymous request, the client address. The key is built
// in one allocation.
func (t *rateThrottle) allow(r *http.Request, p *authentication.Principal) (time.Duration, error) {
	var buf [96]byte
	b := append(buf[:0], t.prefix...)
	switch {
	case p == nil:
		b = t.ip.appendAddr(b, r)
	case p.ID != 0:
		b = strconv.AppendInt(b, p.ID, 10)
	default:
		b = append(append(b, "u:"...), p.Username...)
	}
	return t.store.Allow(r.Context(), string(b), t.rate)
}

// Rate returns the throttle's rate.
func (t *rateThrottle) Rate() Rate { return t.rate }

// AnonRate limits anonymous requests by client address (DRF's
// AnonRateThrottle, scope "anon"); authenticated requests pass.
type AnonRate struct{ rateThrottle }

// NewAnonRate returns an AnonRate with a DRF rate string ("100/day"). It
// panics on a bad rate string.
func NewAnonRate(rate string, o Options) *AnonRate {
	return &AnonRate{newRateThrottle("anon", rate, o)}
}

// Allow implements Throttle.
func (t *AnonRate) Allow(r *http.Request) (time.Duration, error) {
	if authentication.PrincipalFrom(r.Context()) != nil {
		return 0, nil
	}
	return t.allow(r, nil)
}

// UserRate limits authenticated requests by user id and anonymous ones by
// client address (DRF's UserRateThrottle, scope "user").
type UserRate struct{ rateThrottle }

// NewUserRate returns a UserRate with a DRF rate string ("1000/day"). It
// panics on a bad rate string.
func NewUserRate(rate string, o Options) *UserRate {
	return &UserRate{newRateThrottle("user", rate, o)}
}

// Allow implements Throttle.
func (t *UserRate) Allow(r *http.Request) (time.Duration, error) {
	return t.allow(r, authentication.PrincipalFrom(r.Context()))
}

// ScopedRate limits requests per scope and caller (user id, or client
// address when anonymous), as DRF's ScopedRateThrottle: give views that
// share a budget one ScopedRate (or throttles with equal scope and store).
type ScopedRate struct{ rateThrottle }

// NewScopedRate returns a ScopedRate for scope with a DRF rate string. It
// panics on a bad rate string or an empty scope.
func NewScopedRate(scope, rate string, o Options) *ScopedRate {
	return &ScopedRate{newRateThrottle(scope, rate, o)}
}

// Allow implements Throttle.
func (t *ScopedRate) Allow(r *http.Request) (time.Duration, error) {
	return t.allow(r, authentication.PrincipalFrom(r.Context()))
}

var (
	_ Throttle = (*AnonRate)(nil)
	_ Throttle = (*UserRate)(nil)
	_ Throttle = (*ScopedRate)(nil)
)

// Handler wraps next with throttles, for handlers outside the generic
// views (such as the token endpoints): every throttle is consulted, as DRF
// does, and a refused request gets 429 with Retry-After and DRF's message
// (the longest wait); a store that cannot answer gives 503. Mount it after
// authentication.Middleware so UserRate and ScopedRate see the principal:
//
//	r.Method("POST", "/api/token-auth/", throttling.Handler(tok.ObtainHandler(),
//		throttling.NewScopedRate("token-auth", "5/min", throttling.Options{Store: store})))
func Handler(next http.Handler, throttles ...Throttle) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := Check(r, throttles); err != nil {
			httperror.Write(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Check consults every throttle and returns a *ThrottledError with the longest
// wait when any refuses r, the store's error (503) when one fails, or nil.
func Check(r *http.Request, throttles []Throttle) error {
	var wait time.Duration
	refused := false
	for _, t := range throttles {
		d, err := t.Allow(r)
		if err != nil {
			return err
		}
		if d > 0 {
			refused = true
			wait = max(wait, d)
		}
	}
	if refused {
		return &ThrottledError{Wait: wait}
	}
	return nil
}
