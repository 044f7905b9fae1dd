//go:build race

package realtime_test

func init() { raceEnabled = true }
