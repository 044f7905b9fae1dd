package models

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/uptrace/bun"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// User is an account that can log in: the counterpart of Django's auth
// user, reduced to what an API needs. Password holds an argon2id hash (in
// PHC string form) and is never serialized: its JSON tag is "-", so neither
// encoding/json nor a serializers.Serializer can read or write it. Set it
// with SetPassword and check it with CheckPassword.
//
// A registration endpoint therefore decodes its own input struct
// ({username, password}) and calls CreateUser, which hashes the password.
type User struct {
	bun.BaseModel `bun:"table:users,alias:u"`
	Base
	Username string `bun:"username,notnull,unique" json:"username" validate:"required,max=150"`
	Password string `bun:"password,notnull" json:"-"`
	IsStaff  bool   `bun:"is_staff,notnull" json:"is_staff" cosworth:"read_only"`
	IsActive bool   `bun:"is_active,notnull" json:"is_active" cosworth:"read_only"`
	// IsSuperuser grants every permission (Django's is_superuser); see perm.go.
	IsSuperuser bool `bun:"is_superuser,notnull,default:false" json:"is_superuser" cosworth:"read_only"`
	// TokenVersion is raised by a password change: refresh tokens of an older version are refused.
	TokenVersion int64 `bun:"token_version,notnull,default:0" json:"-"`
}

// PasswordMaxLength is the max_length of Django's password field (128),
// which a DRF ModelSerializer of the user model applies to the raw
// password: registration and ChangePassword refuse a longer one (in
// characters) with "Ensure this field has no more than 128 characters.".
// Declare it on input structs as validate:"max=128".
const PasswordMaxLength = 128

// MaxPasswordLength bounds the passwords SetPassword and CheckPassword
// accept (in bytes), so that hashing cost does not grow with user input.
const MaxPasswordLength = 4096

// ErrPasswordTooLong is returned by SetPassword for a password longer than
// MaxPasswordLength.
var ErrPasswordTooLong = errors.New("cosworth/models: password too long")

// Argon2id parameters (RFC 9106 / OWASP's second recommended
// configuration): 19 MiB of memory, two passes, one lane. Hashes are stored
// with their parameters, so these can change without invalidating existing
// passwords.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16

	// Bounds on parameters read back from a stored hash, so a tampered
	// row cannot make a check allocate or spin without limit.
	maxArgonMemory = 256 * 1024
	maxArgonTime   = 16
)

// hashSlots bounds how many password hashes run at once: each holds
// argonMemory of RAM, so a burst of logins cannot exhaust memory. Callers
// beyond it wait (their context still applies through the database calls
// around them).
var hashSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// passwordChecks counts password comparisons, so tests can assert that an
// unknown username costs a comparison too.
var passwordChecks atomic.Int64

// SetPassword hashes password with argon2id and a fresh random salt and
// stores the result in u.Password. It returns ErrPasswordTooLong for a
// password over MaxPasswordLength bytes.
func (u *User) SetPassword(password string) error {
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	u.Password = h
	return nil
}

// CheckPassword reports whether password matches u's stored hash, in time
// independent of where the two differ. A user without a usable hash never
// matches.
func (u *User) CheckPassword(password string) bool {
	return checkPassword(u.Password, password)
}

// HashPassword returns the argon2id hash of password in PHC string form:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(password string) (string, error) {
	if len(password) > MaxPasswordLength {
		return "", ErrPasswordTooLong
	}
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go 1.24+)
	key := argonKey([]byte(password), salt, argonTime, argonMemory, argonThreads)
	var b strings.Builder
	b.Grow(100)
	fmt.Fprintf(&b, "$argon2id$v=%d$m=%d,t=%d,p=%d$", argon2.Version, argonMemory, argonTime, argonThreads)
	b.WriteString(base64.RawStdEncoding.EncodeToString(salt))
	b.WriteByte('$')
	b.WriteString(base64.RawStdEncoding.EncodeToString(key))
	return b.String(), nil
}

func argonKey(password, salt []byte, t, m uint32, p uint8) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(password, salt, t, m, p, argonKeyLen)
}

// checkPassword compares password with an encoded hash: argon2id (what
// HashPassword writes) or bcrypt ($2a$, $2b$, $2y$, for imported accounts).
func checkPassword(encoded, password string) bool {
	passwordChecks.Add(1)
	if len(password) > MaxPasswordLength {
		// Still spend the time of a comparison.
		password = password[:MaxPasswordLength]
		encoded = dummyHash()
		_ = compareArgon(encoded, password)
		return false
	}
	if strings.HasPrefix(encoded, "$2") {
		return bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)) == nil
	}
	return compareArgon(encoded, password)
}

func compareArgon(encoded, password string) bool {
	// $argon2id$v=19$m=19456,t=2,p=1$salt$hash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return false
	}
	var m, t, p uint64
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return false
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return false
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			p = n
		default:
			return false
		}
	}
	if m < 8 || m > maxArgonMemory || t < 1 || t > maxArgonTime || p < 1 || p > 255 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false
	}
	hashSlots <- struct{}{}
	got := argon2.IDKey([]byte(password), salt, uint32(t), uint32(m), uint8(p), uint32(len(want)))
	<-hashSlots
	return subtle.ConstantTimeCompare(got, want) == 1
}

var (
	dummyOnce sync.Once
	dummy     string
)

// dummyHash is a hash no password is known to match, compared against when
// a username does not exist so that the answer takes as long as for a
// wrong password.
func dummyHash() string {
	dummyOnce.Do(func() {
		var b [32]byte
		_, _ = rand.Read(b[:])
		dummy, _ = HashPassword(base64.RawStdEncoding.EncodeToString(b[:]))
	})
	return dummy
}

// NewUser returns an active, non-staff user with the given username and
// password (hashed). It does not touch the database. It returns
// ErrPasswordTooLong for a password over MaxPasswordLength bytes.
func NewUser(username, password string) (*User, error) {
	u := &User{Username: username, IsActive: true}
	if err := u.SetPassword(password); err != nil {
		return nil, err
	}
	return u, nil
}

// CreateUser inserts an active user with a hashed password and returns it
// with its ID set. A duplicate username is the database's unique violation
// (classify it with Classify for a DRF-shaped 400).
func CreateUser(ctx context.Context, db bun.IDB, username, password string, staff bool) (*User, error) {
	u, err := NewUser(username, password)
	if err != nil {
		return nil, err
	}
	u.IsStaff = staff
	if _, err := db.NewInsert().Model(u).Exec(ctx); err != nil {
		return nil, fmt.Errorf("cosworth/models: create user: %w", err)
	}
	return u, nil
}

// UserByID returns the user with the given id, or an error wrapping
// ErrNotFound. Inactive users are returned; callers check IsActive.
func UserByID(ctx context.Context, db bun.IDB, id int64) (*User, error) {
	u := new(User)
	err := db.NewSelect().Model(u).Where("u.id = ?", id).Limit(1).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "user")
	}
	return u, nil
}

// AuthenticateUser returns the active user with the given username and
// password, or an error wrapping ErrNotFound when no active user matches.
// It compares a password hash whether or not the user exists (against a
// dummy hash when not), so the response time does not reveal which
// usernames exist. Database failures are returned as they are (wrapped).
func AuthenticateUser(ctx context.Context, db bun.IDB, username, password string) (*User, error) {
	u := new(User)
	err := db.NewSelect().Model(u).Where("u.username = ?", username).Limit(1).Scan(ctx)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			_ = checkPassword(dummyHash(), password)
			return nil, fmt.Errorf("%w: no such user", ErrNotFound)
		}
		return nil, fmt.Errorf("cosworth/models: look up user: %w", err)
	}
	if !u.CheckPassword(password) || !u.IsActive {
		return nil, fmt.Errorf("%w: no active user with these credentials", ErrNotFound)
	}
	return u, nil
}

// notFound wraps sql.ErrNoRows as ErrNotFound and other errors as they are.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	return fmt.Errorf("cosworth/models: %s: %w", what, err)
}
