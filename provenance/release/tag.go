package release

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/mod/semver"

	"github.com/provkit/provkit/provenance"
)

const (
	// maxTagLength is the longest tag, in bytes, that the OCI distribution specification allows.
	maxTagLength = 128
	// tagDateLayout is YYYYMMDD in the layout of package time.
	tagDateLayout = "20060102"
)

// ociTag is the grammar of a tag in the OCI distribution specification.
var ociTag = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// Tag is a release tag, VERSION-YYYYMMDD.COMMIT, such as "1.4.2-20261206.abc1234": the
// release's semantic version, the day it was built and the commit it was built from. The
// package documentation describes the scheme. Make one with NewTag, TagFromEnvironment or
// ParseTag, which validate it. A Tag is a plain value and safe for concurrent use.
type Tag struct {
	// Version is the semantic version without a leading "v" or build metadata, such as
	// "1.4.2" or "2.0.0-rc.1".
	Version string
	// Date is the build day: midnight UTC at its start.
	Date time.Time
	// Commit is the short commit: 7 to 12 lowercase hexadecimal characters.
	Commit string
}

// NewTag returns the tag of version built at built from commit. built is the build time,
// normally SOURCE_DATE_EPOCH's (see TagFromEnvironment); only its day in UTC is kept. commit
// is a short commit of 7 to 12 lowercase hexadecimal characters, kept as given, or a full
// SHA-1 (40) or SHA-256 (64) commit, shortened to its first 7 characters. An invalid version,
// date or commit, or a tag longer than 128 bytes, is a *FieldError naming "version",
// "date" or "commit".
func NewTag(version string, built time.Time, commit string) (Tag, error) {
	if (len(commit) == 40 || len(commit) == 64) && isLowerHex(commit) {
		commit = commit[:7]
	}
	y, m, d := built.UTC().Date()
	t := Tag{Version: version, Date: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Commit: commit}
	if err := t.validate(); err != nil {
		if err.Field == "commit" {
			err.Reason += ", nor a full one of 40 or 64"
		}
		return Tag{}, err
	}
	return t, nil
}

// TagFromEnvironment returns the tag of version built from commit at the time
// SOURCE_DATE_EPOCH sets in env, as NewTag does. env is the build's environment as the caller
// captured it; the process environment is not read. SOURCE_DATE_EPOCH is required: a missing
// or empty one is a *MissingFieldError, and one that is not a non-negative integer of seconds
// a *FieldError, each naming "SOURCE_DATE_EPOCH".
func TagFromEnvironment(version, commit string, env map[string]string) (Tag, error) {
	v := env[provenance.EnvSourceDateEpoch]
	if v == "" {
		return Tag{}, &MissingFieldError{Field: provenance.EnvSourceDateEpoch}
	}
	clock, err := provenance.ClockFromEnv(env)
	if err != nil {
		return Tag{}, &FieldError{Field: provenance.EnvSourceDateEpoch,
			Reason: fmt.Sprintf("%q is not a non-negative integer of seconds", v)}
	}
	return NewTag(version, clock(), commit)
}

// ParseTag reads a release tag strictly: s must be a valid OCI tag, so at most 128 bytes,
// and VERSION-YYYYMMDD.COMMIT exactly as the package documentation describes, split at its
// last "-". Anything else is a *TagError. For every Tag t that NewTag returns,
// ParseTag(t.String()) returns t, and for every s that ParseTag accepts, the tag's String is
// s.
func ParseTag(s string) (Tag, error) {
	if len(s) > maxTagLength {
		return Tag{}, &TagError{Tag: s[:maxTagLength],
			Reason: fmt.Sprintf("%d bytes, longer than %d", len(s), maxTagLength)}
	}
	if !ociTag.MatchString(s) {
		return Tag{}, &TagError{Tag: s, Reason: "not an OCI tag ([a-zA-Z0-9_][a-zA-Z0-9._-]{0,127})"}
	}
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		return Tag{}, &TagError{Tag: s, Reason: `no "-" between version and YYYYMMDD.COMMIT`}
	}
	version, suffix := s[:i], s[i+1:]
	day, commit, ok := strings.Cut(suffix, ".")
	if !ok {
		return Tag{}, &TagError{Tag: s, Reason: fmt.Sprintf("%q is not YYYYMMDD.COMMIT", suffix)}
	}
	if len(day) != len(tagDateLayout) || strings.Trim(day, "0123456789") != "" {
		return Tag{}, &TagError{Tag: s, Reason: fmt.Sprintf("date %q is not YYYYMMDD", day)}
	}
	date, err := time.Parse(tagDateLayout, day)
	if err != nil {
		return Tag{}, &TagError{Tag: s, Reason: fmt.Sprintf("date %q is not a calendar day", day)}
	}
	t := Tag{Version: version, Date: date, Commit: commit}
	if err := t.validate(); err != nil {
		return Tag{}, &TagError{Tag: s, Reason: err.Field + ": " + err.Reason}
	}
	return t, nil
}

// String returns the tag's text, VERSION-YYYYMMDD.COMMIT. It formats t as it is; only a Tag
// from NewTag, TagFromEnvironment or ParseTag is sure to give a valid tag.
func (t Tag) String() string {
	return t.Version + "-" + t.Date.UTC().Format(tagDateLayout) + "." + t.Commit
}

// ReleaseType returns "stable" for a version without a pre-release, and otherwise the
// pre-release's first identifier: "rc" for "2.0.0-rc.1", "nightly" for "2.1.0-nightly".
func (t Tag) ReleaseType() string {
	pre := strings.TrimPrefix(semver.Prerelease("v"+t.Version), "-")
	if pre == "" {
		return "stable"
	}
	first, _, _ := strings.Cut(pre, ".")
	return first
}

// Annotations returns the OCI image annotations the tag stands for, to set on the image
// manifest it names: org.opencontainers.image.version (Version),
// org.opencontainers.image.revision (Commit) and org.opencontainers.image.created (Date, RFC
// 3339 in UTC). The map is new on each call.
func (t Tag) Annotations() map[string]string {
	return map[string]string{
		ocispec.AnnotationVersion:  t.Version,
		ocispec.AnnotationRevision: t.Commit,
		ocispec.AnnotationCreated:  t.Date.UTC().Format(time.RFC3339),
	}
}

// validate checks every part of t and the tag's length.
func (t Tag) validate() *FieldError {
	if reason := versionProblem(t.Version); reason != "" {
		return &FieldError{Field: "version", Reason: reason}
	}
	if y := t.Date.UTC().Year(); y < 1970 || y > 9999 {
		return &FieldError{Field: "date",
			Reason: fmt.Sprintf("%s is not a day from 1970-01-01 to 9999-12-31", t.Date.UTC().Format(time.DateOnly))}
	}
	if n := len(t.Commit); n < 7 || n > 12 || !isLowerHex(t.Commit) {
		return &FieldError{Field: "commit",
			Reason: fmt.Sprintf("%q is not a short commit of 7 to 12 lowercase hexadecimal characters", t.Commit)}
	}
	if s := t.String(); len(s) > maxTagLength {
		return &FieldError{Field: "version",
			Reason: fmt.Sprintf("%q makes the tag %d bytes, longer than %d", t.Version, len(s), maxTagLength)}
	}
	return nil
}

// versionProblem says what is wrong with version as a tag's version, or "" when nothing is.
func versionProblem(version string) string {
	v := "v" + version
	switch {
	case version == "":
		return "is empty"
	case strings.HasPrefix(version, "v"):
		return fmt.Sprintf("%q has a leading \"v\"", version)
	case strings.Contains(version, "+"):
		return fmt.Sprintf("%q has build metadata (\"+\" is not allowed in an OCI tag)", version)
	case !semver.IsValid(v) || semver.Canonical(v) != v:
		return fmt.Sprintf("%q is not a semantic version MAJOR.MINOR.PATCH[-PRERELEASE]", version)
	}
	return ""
}

// isLowerHex reports whether s is made only of 0-9 and a-f.
func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
