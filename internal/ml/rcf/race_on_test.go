//go:build race

package rcf

const raceEnabled = true
