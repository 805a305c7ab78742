package main

import "errors"

// errNothingVerified means none of the attestations a command needed verified: it has nothing
// trustworthy to print, and fails rather than print an empty result as if it were the answer.
var errNothingVerified = errors.New("no attestation verified")
