//go:build cgo

package pkcs11

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ParseURI reads a PKCS#11 URI (RFC 7512), the form cosign and p11-kit accept, into a Config:
//
//	pkcs11:token=release;object=provenance;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234
//
// It understands the path attributes token, slot-id, object, id and type (which must be
// "private", "public" or absent: the key pair is found by its private half either way) and the
// query attributes module-path and pin-value. Any other attribute is rejected rather than
// ignored, since ignoring a constraint such as serial could select another token; pin-source
// is rejected because reading the PIN file is the caller's call (read it and set Config.PIN),
// and module-name because it needs a search of the system's module directories. Errors wrap
// ErrInvalidURI and quote no attribute value, since the URI may hold a PIN.
func ParseURI(uri string) (Config, error) {
	var cfg Config
	rest, ok := strings.CutPrefix(uri, "pkcs11:")
	if !ok {
		return Config{}, fmt.Errorf("%w: scheme is not \"pkcs11\"", ErrInvalidURI)
	}
	path, query, _ := strings.Cut(rest, "?")
	seen := map[string]bool{}
	for _, attr := range splitNonEmpty(path, ";") {
		name, value, err := attribute(attr, seen)
		if err != nil {
			return Config{}, err
		}
		switch name {
		case "token":
			cfg.TokenLabel = value
		case "slot-id":
			n, err := strconv.ParseUint(value, 10, 31)
			if err != nil {
				return Config{}, fmt.Errorf("%w: slot-id is not a slot number", ErrInvalidURI)
			}
			slot := int(n)
			cfg.Slot = &slot
		case "object":
			cfg.KeyLabel = value
		case "id":
			cfg.KeyID = []byte(value)
		case "type":
			if value != "private" && value != "public" {
				return Config{}, fmt.Errorf("%w: type names no half of a key pair (want private or public)", ErrInvalidURI)
			}
		default:
			return Config{}, fmt.Errorf("%w: path attribute %q is not supported", ErrInvalidURI, name)
		}
	}
	for _, attr := range splitNonEmpty(query, "&") {
		name, value, err := attribute(attr, seen)
		if err != nil {
			return Config{}, err
		}
		switch name {
		case "module-path":
			cfg.Module = value
		case "pin-value":
			cfg.PIN = value
		case "pin-source":
			return Config{}, fmt.Errorf("%w: pin-source is not supported: read the PIN and set Config.PIN", ErrInvalidURI)
		case "module-name":
			return Config{}, fmt.Errorf("%w: module-name is not supported: give module-path", ErrInvalidURI)
		default:
			return Config{}, fmt.Errorf("%w: query attribute %q is not supported", ErrInvalidURI, name)
		}
	}
	return cfg, nil
}

func splitNonEmpty(s, sep string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, sep)
}

// attribute splits and unescapes name=value, rejecting a repeated name.
func attribute(attr string, seen map[string]bool) (string, string, error) {
	name, raw, ok := strings.Cut(attr, "=")
	if !ok || name == "" {
		return "", "", fmt.Errorf("%w: attribute without name=value", ErrInvalidURI)
	}
	if strings.ContainsAny(name, "%") {
		return "", "", fmt.Errorf("%w: escaped attribute name", ErrInvalidURI)
	}
	if seen[name] {
		return "", "", fmt.Errorf("%w: attribute %q given twice", ErrInvalidURI, name)
	}
	seen[name] = true
	value, err := url.PathUnescape(raw)
	if err != nil {
		return "", "", fmt.Errorf("%w: attribute %q: bad percent-encoding", ErrInvalidURI, name)
	}
	return name, value, nil
}
