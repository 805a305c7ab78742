package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/provkit/provkit/verify"
)

// Environment variables the trust flags read, as cosign does.
const (
	// envTUFRoot is the TUF cache directory (cosign's TUF_ROOT); the default is
	// $HOME/.sigstore/root.
	envTUFRoot = "TUF_ROOT"
)

// trustFlags are the flags that say whose signatures a command trusts: verify,
// verify-blob-attestation, lineage, diff and rebuild-check share them.
type trustFlags struct {
	keys               []string
	identity           string
	identityRegexp     string
	issuer             string
	issuerRegexp       string
	trustedRoot        string
	tsaChain           string
	tufURL             string
	tufRoot            string
	tufCache           string
	offline            bool
	typ                string
	insecureIgnoreTlog bool
}

// register adds the trust flags to fset.
func (f *trustFlags) register(fset *flag.FlagSet) {
	fset.Func("key", "trusted key `file`: cosign.pub or PEM public keys (one file may hold several), or a private key whose public half is trusted; "+
		"repeatable: an attestation signed by any of them verifies", func(path string) error {
		if path == "" {
			return fmt.Errorf("empty key file name")
		}
		f.keys = append(f.keys, path)
		return nil
	})
	fset.StringVar(&f.identity, "certificate-identity", "", "keyless: the signing certificate's identity (email, URI)")
	fset.StringVar(&f.identityRegexp, "certificate-identity-regexp", "", "keyless: a regular expression the certificate's identity matches")
	fset.StringVar(&f.issuer, "certificate-oidc-issuer", "", "keyless: the OIDC issuer of the certificate")
	fset.StringVar(&f.issuerRegexp, "certificate-oidc-issuer-regexp", "", "keyless: a regular expression the OIDC issuer matches")
	fset.StringVar(&f.trustedRoot, "trusted-root", "", "Sigstore trusted_root.json `file`: CAs, Rekor logs and timestamp authorities; "+
		"keyless without it uses the root of the TUF repository (--tuf-url, default Sigstore's public-good); with --key it adds logs and timestamp authorities")
	fset.StringVar(&f.tsaChain, "timestamp-certificate-chain", "", "PEM `file` with a timestamp authority's certificate chain, leaf first and root last: its RFC 3161 timestamps date signatures")
	fset.StringVar(&f.tufURL, "tuf-url", "", "TUF repository `URL` the trusted root comes from (default Sigstore's public-good, https://tuf-repo-cdn.sigstore.dev)")
	fset.StringVar(&f.tufRoot, "tuf-root", "", "initial TUF root.json `file` of --tuf-url's repository (default the public-good one)")
	fset.StringVar(&f.tufCache, "tuf-cache", "", "TUF cache `dir` (default $TUF_ROOT, else $HOME/.sigstore/root)")
	fset.BoolVar(&f.offline, "offline", false, "take the TUF trusted root from the cache only; never fetch it")
	fset.StringVar(&f.typ, "type", "", "accept only this predicate type `URI` (or cosign name, such as slsaprovenance1)")
	fset.BoolVar(&f.insecureIgnoreTlog, "insecure-ignore-tlog", false,
		"accept signatures with no transparency-log entry, and key signatures with no timestamp at all, as cosign's flag of this name does")
}

// given says whether any trust flag was set.
func (f *trustFlags) given() bool {
	return len(f.keys) > 0 || f.keyless() || f.trustedRoot != "" || f.tsaChain != "" || f.tufGiven() || f.offline ||
		f.typ != "" || f.insecureIgnoreTlog
}

// keyless says whether a certificate identity flag was set.
func (f *trustFlags) keyless() bool {
	return f.identity != "" || f.identityRegexp != "" || f.issuer != "" || f.issuerRegexp != ""
}

// tufGiven says whether a TUF repository was named.
func (f *trustFlags) tufGiven() bool { return f.tufURL != "" || f.tufRoot != "" || f.tufCache != "" }

// verifier builds the Verifier and the expected identity the flags describe; cmd names the
// command in errors.
//
// A transparency-log entry is required when the trust material holds a log. When it holds
// none but holds a timestamp authority (a key or a private deployment dated by its own TSA),
// a log cannot be required: a verified timestamp of that authority is required instead.
func (f *trustFlags) verifier(ctx context.Context, cmd string, env map[string]string) (*verify.Verifier, verify.Identity, error) {
	var (
		trusted  root.TrustedMaterialCollection
		identity verify.Identity
		opts     []verify.Option
	)
	if f.typ != "" {
		opts = append(opts, verify.WithPredicateTypes(predicateType(f.typ)))
	}
	if f.insecureIgnoreTlog {
		opts = append(opts, verify.WithoutTransparencyLog())
	}
	if f.trustedRoot != "" && f.tufGiven() {
		return nil, identity, usagef("%s: --trusted-root and the TUF flags (--tuf-url, --tuf-root, --tuf-cache) exclude each other", cmd)
	}
	switch {
	case len(f.keys) > 0 && f.keyless():
		return nil, identity, usagef("%s: --key and the keyless flags (--certificate-*) exclude each other", cmd)
	case len(f.keys) > 0:
		keys, err := loadTrustedKeys(f.keys, env)
		if err != nil {
			return nil, identity, err
		}
		ks, err := verify.TrustedKeys(keys...)
		if err != nil {
			return nil, identity, configError(err)
		}
		trusted, identity = append(trusted, ks), verify.KeyIDs(ks.IDs()...)
		if f.insecureIgnoreTlog {
			opts = append(opts, verify.WithUntimestampedKeysUnsafe())
		}
		// Keys are trusted offline; a trusted root or a TUF repository, when given, adds
		// the logs and timestamp authorities that date their signatures.
		if f.trustedRoot != "" || f.tufGiven() {
			tr, err := f.sigstoreRoot(ctx, env)
			if err != nil {
				return nil, identity, err
			}
			trusted = append(trusted, tr)
		}
	case f.keyless():
		if (f.identity == "") == (f.identityRegexp == "") {
			return nil, identity, usagef("%s: give one of --certificate-identity and --certificate-identity-regexp", cmd)
		}
		if (f.issuer == "") == (f.issuerRegexp == "") {
			return nil, identity, usagef("%s: give one of --certificate-oidc-issuer and --certificate-oidc-issuer-regexp", cmd)
		}
		var err error
		identity, err = verify.Certificates(verify.CertificateMatch{
			Issuer: f.issuer, IssuerRegexp: f.issuerRegexp,
			SubjectAlternativeName: f.identity, SubjectAlternativeNameRegexp: f.identityRegexp,
		})
		if err != nil {
			return nil, identity, configError(err)
		}
		tr, err := f.sigstoreRoot(ctx, env)
		if err != nil {
			return nil, identity, err
		}
		trusted = append(trusted, tr)
	default:
		return nil, identity, usagef("%s: give --key, or --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp] (with --trusted-root, or the TUF repository's root)", cmd)
	}
	if f.tsaChain != "" {
		tsa, err := loadTimestampAuthority(f.tsaChain)
		if err != nil {
			return nil, identity, err
		}
		trusted = append(trusted, tsa)
	}
	if len(trusted.RekorLogs()) == 0 && len(trusted.TimestampingAuthorities()) > 0 {
		opts = append(opts, verify.WithoutTransparencyLog())
	}
	var tm root.TrustedMaterial = trusted
	if len(trusted) == 1 {
		tm = trusted[0]
	}
	v, err := verify.New(tm, opts...)
	if err != nil {
		return nil, identity, configError(err)
	}
	return v, identity, nil
}

// sigstoreRoot returns the trusted root of --trusted-root, else of the TUF repository.
func (f *trustFlags) sigstoreRoot(ctx context.Context, env map[string]string) (*root.TrustedRoot, error) {
	if f.trustedRoot != "" {
		tr, err := verify.LoadTrustedRoot(f.trustedRoot)
		return tr, configError(err)
	}
	o := verify.TUFOptions{CacheDir: f.tufCache, Offline: f.offline, MirrorURL: f.tufURL}
	if o.CacheDir == "" {
		o.CacheDir = env[envTUFRoot]
	}
	if o.CacheDir == "" && env["HOME"] != "" {
		o.CacheDir = filepath.Join(env["HOME"], ".sigstore", "root")
	}
	if o.CacheDir == "" {
		return nil, usagef("no TUF cache directory: give --tuf-cache, or set %s or HOME", envTUFRoot)
	}
	if f.tufRoot != "" {
		data, err := os.ReadFile(f.tufRoot)
		if err != nil {
			return nil, configError(fmt.Errorf("TUF root: %w", err))
		}
		o.Root = data
	}
	// The TUF client's failure to fetch is "could not check", not a usage error: exit 2 either way.
	return verify.TrustedRootTUF(ctx, o)
}

// loadTimestampAuthority reads a timestamp authority's PEM certificate chain, leaf first.
func loadTimestampAuthority(path string) (root.TrustedMaterial, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, configError(fmt.Errorf("timestamp certificate chain: %w", err))
	}
	chain, err := verify.ParseCertificatesPEM(data)
	if err != nil {
		return nil, configError(fmt.Errorf("timestamp certificate chain %s: %w", path, err))
	}
	tsa, err := verify.TimestampAuthority(chain, "")
	return tsa, configError(err)
}
