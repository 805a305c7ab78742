package provenance

import (
	"fmt"
	"strconv"
	"time"
)

// Clock tells the time. Everything in provkit that records a time takes a Clock, so a build can
// be made reproducible by fixing it.
type Clock func() time.Time

// SystemClock returns the wall clock in UTC.
func SystemClock() Clock { return func() time.Time { return time.Now().UTC() } }

// FixedClock returns a clock stopped at t.
func FixedClock(t time.Time) Clock {
	t = t.UTC()
	return func() time.Time { return t }
}

// EnvSourceDateEpoch is the variable of the reproducible-builds convention
// (https://reproducible-builds.org/specs/source-date-epoch/).
const EnvSourceDateEpoch = "SOURCE_DATE_EPOCH"

// ClockFromEnv returns a clock stopped at SOURCE_DATE_EPOCH when env sets it, and the system
// clock otherwise. env is the build's environment as the caller captured it; provkit does not
// read the process environment itself. A value that is not a non-negative integer of seconds
// is an error, not silently ignored.
func ClockFromEnv(env map[string]string) (Clock, error) {
	v, ok := env[EnvSourceDateEpoch]
	if !ok || v == "" {
		return SystemClock(), nil
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs < 0 {
		return nil, fmt.Errorf("%w: %s=%q is not a non-negative integer of seconds", ErrSourceDateEpoch, EnvSourceDateEpoch, v)
	}
	return FixedClock(time.Unix(secs, 0)), nil
}
