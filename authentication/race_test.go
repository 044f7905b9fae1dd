//go:build race

package authentication_test

func init() { raceEnabled = true }
