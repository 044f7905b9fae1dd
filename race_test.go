//go:build race

package cosworth_test

func init() { raceEnabled = true }
