package models

// PasswordChecks exposes the count of password comparisons to the external
// tests of User.
func PasswordChecks() int64 { return passwordChecks.Load() }
