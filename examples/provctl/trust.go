package main

import (
	"flag"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/provkit/provkit/verify"
)

// trustFlags are the flags that say whose signatures a command trusts: verify, lineage, diff
// and rebuild-check share them.
type trustFlags struct {
	key                string
	identity           string
	identityRegexp     string
	issuer             string
	issuerRegexp       string
	trustedRoot        string
	typ                string
	insecureIgnoreTlog bool
}

// register adds the trust flags to fset.
func (f *trustFlags) register(fset *flag.FlagSet) {
	fset.StringVar(&f.key, "key", "", "trusted key: cosign.pub or PEM public key, or a private key whose public half is trusted")
	fset.StringVar(&f.identity, "certificate-identity", "", "keyless: the signing certificate's identity (email, URI)")
	fset.StringVar(&f.identityRegexp, "certificate-identity-regexp", "", "keyless: a regular expression the certificate's identity matches")
	fset.StringVar(&f.issuer, "certificate-oidc-issuer", "", "keyless: the OIDC issuer of the certificate")
	fset.StringVar(&f.issuerRegexp, "certificate-oidc-issuer-regexp", "", "keyless: a regular expression the OIDC issuer matches")
	fset.StringVar(&f.trustedRoot, "trusted-root", "", "Sigstore trusted_root.json `file` (required for keyless)")
	fset.StringVar(&f.typ, "type", "", "accept only this predicate type `URI` (or cosign name, such as slsaprovenance1)")
	fset.BoolVar(&f.insecureIgnoreTlog, "insecure-ignore-tlog", false,
		"accept signatures with no transparency-log entry, and key signatures with no timestamp at all, as cosign's flag of this name does")
}

// given says whether any trust flag was set.
func (f *trustFlags) given() bool {
	return f.key != "" || f.identity != "" || f.identityRegexp != "" || f.issuer != "" || f.issuerRegexp != "" || f.trustedRoot != "" ||
		f.typ != "" || f.insecureIgnoreTlog
}

// verifier builds the Verifier and the expected identity the flags describe; cmd names the
// command in errors.
func (f *trustFlags) verifier(cmd string, env map[string]string) (*verify.Verifier, verify.Identity, error) {
	keyless := f.identity != "" || f.identityRegexp != "" || f.issuer != "" || f.issuerRegexp != "" || f.trustedRoot != ""
	var opts []verify.Option
	if f.typ != "" {
		opts = append(opts, verify.WithPredicateTypes(predicateType(f.typ)))
	}
	if f.insecureIgnoreTlog {
		opts = append(opts, verify.WithoutTransparencyLog())
	}
	var (
		trusted  root.TrustedMaterial
		identity verify.Identity
	)
	switch {
	case f.key != "" && keyless:
		return nil, identity, usagef("%s: --key and the keyless flags (--certificate-*, --trusted-root) exclude each other", cmd)
	case f.key != "":
		key, err := loadTrustedKey(f.key, env)
		if err != nil {
			return nil, identity, err
		}
		keys, err := verify.TrustedKeys(key)
		if err != nil {
			return nil, identity, configError(err)
		}
		trusted, identity = keys, verify.KeyIDs(key.ID)
		if f.insecureIgnoreTlog {
			opts = append(opts, verify.WithUntimestampedKeysUnsafe())
		}
	case keyless:
		if (f.identity == "") == (f.identityRegexp == "") {
			return nil, identity, usagef("%s: give one of --certificate-identity and --certificate-identity-regexp", cmd)
		}
		if (f.issuer == "") == (f.issuerRegexp == "") {
			return nil, identity, usagef("%s: give one of --certificate-oidc-issuer and --certificate-oidc-issuer-regexp", cmd)
		}
		if f.trustedRoot == "" {
			return nil, identity, usagef("%s: keyless verification needs --trusted-root", cmd)
		}
		var err error
		identity, err = verify.Certificates(verify.CertificateMatch{
			Issuer: f.issuer, IssuerRegexp: f.issuerRegexp,
			SubjectAlternativeName: f.identity, SubjectAlternativeNameRegexp: f.identityRegexp,
		})
		if err != nil {
			return nil, identity, configError(err)
		}
		tr, err := verify.LoadTrustedRoot(f.trustedRoot)
		if err != nil {
			return nil, identity, configError(err)
		}
		trusted = tr
	default:
		return nil, identity, usagef("%s: give --key, or --certificate-identity[-regexp], --certificate-oidc-issuer[-regexp] and --trusted-root", cmd)
	}
	v, err := verify.New(trusted, opts...)
	if err != nil {
		return nil, identity, configError(err)
	}
	return v, identity, nil
}
