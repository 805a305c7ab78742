package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/auditlog"
)

// Exit statuses, the same for every command.
const (
	// exitOK: the command did what it was asked, and whatever it checked passed.
	exitOK = 0
	// exitDenied: the evidence or the policy says no, including when there is nothing to
	// verify (no attestation attached, none verified, a difference, a mismatch).
	exitDenied = 1
	// exitError: the command could not check (a registry, file or service failed) or was
	// used wrongly (a flag, an argument, a key or a configuration file).
	exitUnchecked = 2
)

// errNothingVerified means none of the attestations a command needed verified: it has nothing
// trustworthy to print, and fails rather than print an empty result as if it were the answer.
var errNothingVerified = errors.New("no attestation verified")

// deniedError marks err as an answer of the evidence or the policy: exit status 1.
type deniedError struct{ err error }

func (e *deniedError) Error() string { return e.err.Error() }
func (e *deniedError) Unwrap() error { return e.err }

// deniedf returns a denial.
func deniedf(format string, args ...any) error {
	return &deniedError{fmt.Errorf(format, args...)}
}

// usageError marks a usage or configuration error: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usage error.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// configError marks err, when not nil, as a configuration error.
func configError(err error) error {
	if err == nil {
		return nil
	}
	return &usageError{err}
}

// exitError ends a command with code after it has printed its own outcome.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitCode is the exit status err stands for. Only a denial (deniedError, or an error that
// wraps verify.ErrVerification, policy.ErrDenied or errNothingVerified) is 1; a usage error and
// every error not known to be a denial, such as a registry that cannot be reached, is 2: a
// failure to check is never reported as an answer.
func exitCode(err error) int {
	var (
		ex *exitError
		ue *usageError
		de *deniedError
	)
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ex):
		return ex.code
	case errors.As(err, &ue):
		return exitUnchecked
	case errors.As(err, &de), errors.Is(err, errNothingVerified), errors.Is(err, verify.ErrVerification), errors.Is(err, policy.ErrDenied), errors.Is(err, auditlog.ErrTampered):
		return exitDenied
	}
	return exitUnchecked
}
