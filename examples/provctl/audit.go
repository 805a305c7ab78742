package main

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	rekornote "github.com/sigstore/rekor-tiles/v2/pkg/note"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"k8s.io/klog/v2"

	"github.com/provkit/provkit/examples/internal/textout"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/auditlog"
)

const auditUsage = `audit keygen --origin NAME --out PREFIX
  provctl audit append --log DIR --log-key FILE --key FILE --kind KIND --subject DIGEST [--actor A]
      [--decision allow|warn|deny] [--reason R]... [--environment E] [--evidence DIGEST]... [--attr K=V]...
  provctl audit show   --log DIR|URL --log-pub FILE --key FILE [--subject DIGEST] [--output json]
  provctl audit verify --log DIR|URL --log-pub FILE --key FILE [--checkpoint FILE]
  provctl audit prove  --log DIR|URL --log-pub FILE --key FILE INDEX
  provctl audit follow --log DIR|URL --log-pub FILE [--origin NAME] --checkpoint FILE`

func init() {
	// tessera reports through klog; provctl prints only its own lines.
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
}

// auditCmd runs "provctl audit ...".
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	if len(args) == 0 {
		return usagef("usage: provctl %s", auditUsage)
	}
	switch args[0] {
	case "keygen":
		return auditKeygen(args[1:], stdout, stderr)
	case "append":
		return auditAppend(ctx, args[1:], stdout, stderr, env)
	case "show", "verify", "prove":
		return auditRead(ctx, args[0], args[1:], stdout, stderr, env)
	case "follow":
		return auditFollow(ctx, args[1:], stdout, stderr)
	}
	return usagef("audit: unknown command %q (keygen, append, show, verify, prove, follow)", args[0])
}

func auditKeygen(args []string, stdout, stderr io.Writer) error {
	fset := newFlagSet("audit keygen", stderr, auditUsage)
	origin := fset.String("origin", "", "the log's `name`, such as audit.example.com (required)")
	out := fset.String("out", "", "write `PREFIX`.note.key (checkpoint signing key) and PREFIX.note.pub (required)")
	if _, err := parseFlags(fset, args, 0); err != nil {
		return err
	}
	if *origin == "" || *out == "" {
		return usagef("audit keygen: --origin and --out are required")
	}
	skey, vkey, err := note.GenerateKey(nil, *origin)
	if err != nil {
		return usagef("audit keygen: %v", err)
	}
	keyPath, pubPath := *out+".note.key", *out+".note.pub"
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("audit keygen: %s exists; refusing to overwrite it", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.WriteFile(keyPath, []byte(skey+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(pubPath, []byte(vkey+"\n"), 0o644); err != nil {
		return err
	}
	return textout.New(stdout).Printf("Checkpoint key written to %s\nVerifier key written to %s\n", keyPath, pubPath)
}

func readLine(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", configError(err)
	}
	return strings.TrimSpace(string(raw)), nil
}

// openAuditLog opens the log in dir for appending, with the checkpoint key in logKey and the
// event signing key in key.
func openAuditLog(ctx context.Context, dir, logKey, key, actor string, env map[string]string) (*auditlog.Log, error) {
	skey, err := readLine(logKey)
	if err != nil {
		return nil, err
	}
	ns, err := note.NewSigner(skey)
	if err != nil {
		return nil, configError(fmt.Errorf("checkpoint key %s: %w", logKey, err))
	}
	k, err := loadSigner(key, env)
	if err != nil {
		return nil, err
	}
	s, err := sign.NewKeySigner(k)
	if err != nil {
		return nil, configError(err)
	}
	var opts []auditlog.Option
	if actor != "" {
		opts = append(opts, auditlog.WithActor(actor))
	}
	l, err := auditlog.Open(ctx, dir, ns, s, opts...)
	if err != nil {
		return nil, configError(err)
	}
	return l, nil
}

func auditAppend(ctx context.Context, args []string, stdout, stderr io.Writer, env map[string]string) error {
	fset := newFlagSet("audit append", stderr, auditUsage)
	dir := fset.String("log", "", "log `folder` (created when absent; required)")
	logKey := fset.String("log-key", "", "checkpoint signing key `file` from audit keygen (required)")
	key := fset.String("key", "", "event signing key `file` (required)")
	var e audit.Event
	fset.Func("kind", "event `kind`: "+kindList(), func(s string) error { e.Kind = audit.Kind(s); return nil })
	fset.Func("subject", "artifact `digest` (required)", func(s string) error {
		d, err := provenance.ParseDigest(s)
		e.Subject = d
		return err
	})
	fset.StringVar(&e.Actor, "actor", "", "who decided or acted (required)")
	fset.Func("decision", "allow, warn or deny", func(s string) error { e.Decision = audit.Decision(s); return nil })
	fset.Func("reason", "a reason (repeatable)", func(s string) error { e.Reasons = append(e.Reasons, s); return nil })
	fset.StringVar(&e.Environment, "environment", "", "where, such as prod")
	fset.Func("evidence", "`digest` of an attestation or record concerned (repeatable)", func(s string) error {
		d, err := provenance.ParseDigest(s)
		e.Evidence = append(e.Evidence, d)
		return err
	})
	fset.Func("attr", "`name=value` attribute (repeatable)", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("%q is not name=value", s)
		}
		if e.Attributes == nil {
			e.Attributes = map[string]string{}
		}
		e.Attributes[k] = v
		return nil
	})
	if _, err := parseFlags(fset, args, 0); err != nil {
		return err
	}
	if *dir == "" || *logKey == "" || *key == "" {
		return usagef("audit append: --log, --log-key and --key are required")
	}
	e.Time = time.Now().UTC()
	if err := e.Validate(); err != nil {
		return &usageError{err}
	}
	l, err := openAuditLog(ctx, *dir, *logKey, *key, "", env)
	if err != nil {
		return err
	}
	index, err := l.Append(ctx, e)
	if cerr := l.Close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return textout.New(stdout).Printf("appended %s event of %s at index %d\n", e.Kind, e.Subject, index)
}

func kindList() string {
	var names []string
	for _, k := range audit.Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

func auditRead(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer, env map[string]string) error {
	fset := newFlagSet("audit "+cmd, stderr, auditUsage)
	logFlag := fset.String("log", "", "log `folder` or http(s) URL of its tiles (required)")
	logPub := fset.String("log-pub", "", "checkpoint verifier key `file` from audit keygen (required)")
	key := fset.String("key", "", "public key `file` of the event signer (required)")
	var subject, output, held *string
	want := 0
	switch cmd {
	case "show":
		subject = fset.String("subject", "", "only events about this `digest`")
		output = fset.String("output", "text", "text or json")
	case "verify":
		held = fset.String("checkpoint", "", "`file` holding the last checkpoint trusted: the log must extend it, and it is updated after a pass")
	case "prove":
		want = 1
	}
	positional, err := parseFlags(fset, args, want)
	if err != nil {
		return err
	}
	if *logFlag == "" || *logPub == "" || *key == "" {
		return usagef("audit %s: --log, --log-pub and --key are required", cmd)
	}
	a, err := newAuditor(*logFlag, *logPub, *key, env)
	if err != nil {
		return err
	}
	out := textout.New(stdout)
	switch cmd {
	case "verify":
		var heldCP *auditlog.Checkpoint
		if *held != "" {
			if raw, err := os.ReadFile(*held); err == nil {
				if heldCP, err = auditlog.ParseCheckpoint(raw, a.checkpoints); err != nil {
					return err
				}
			} else if !errors.Is(err, fs.ErrNotExist) {
				return configError(err)
			}
		}
		r, err := a.Audit(ctx, heldCP)
		if err != nil {
			return err
		}
		if *held != "" {
			if err := os.WriteFile(*held, r.Checkpoint.Raw, 0o644); err != nil {
				return err
			}
		}
		return out.Printf("log %s: %d entries verified, root %s\n", r.Checkpoint.Origin, r.Entries, hex.EncodeToString(r.Checkpoint.Hash))
	case "prove":
		index, err := strconv.ParseUint(positional[0], 10, 64)
		if err != nil {
			return usagef("audit prove: INDEX %q is not a number", positional[0])
		}
		cp, err := a.Checkpoint(ctx)
		if err != nil {
			return err
		}
		p, data, err := a.Prove(ctx, index, cp)
		if err != nil {
			return err
		}
		entry, err := a.Verify(ctx, index, data)
		if err != nil {
			return err
		}
		hashes := make([]string, len(p.Hashes))
		for i, h := range p.Hashes {
			hashes[i] = base64.StdEncoding.EncodeToString(h)
		}
		return json.NewEncoder(stdout).Encode(map[string]any{
			"index": p.Index, "treeSize": p.Size, "inclusionProof": hashes,
			"leafHash": base64.StdEncoding.EncodeToString(leafHash(data)), "checkpoint": string(cp.Raw),
			"event": eventJSON(entry),
		})
	}
	cp, err := a.Checkpoint(ctx)
	if err != nil {
		return err
	}
	var filter digest.Digest
	if *subject != "" {
		if filter, err = provenance.ParseDigest(*subject); err != nil {
			return &usageError{err}
		}
	}
	var shown []map[string]any
	for e, err := range a.Entries(ctx, cp, 0) {
		if err != nil {
			return err
		}
		if filter != "" && e.Event.Subject != filter {
			continue
		}
		if *output == "json" {
			shown = append(shown, eventJSON(e))
			continue
		}
		line := fmt.Sprintf("%d  %s  %s  %s", e.Index, e.Event.Time.Format(time.RFC3339), e.Event.Kind, e.Event.Subject)
		if e.Event.Decision != "" {
			line += "  " + string(e.Event.Decision)
		}
		if e.Event.Environment != "" {
			line += "  env=" + e.Event.Environment
		}
		if err := out.Printf("%s  by %s\n", line, e.Event.Actor); err != nil {
			return err
		}
	}
	if *output == "json" {
		return json.NewEncoder(stdout).Encode(map[string]any{"checkpoint": string(cp.Raw), "events": shown})
	}
	return nil
}

func eventJSON(e *auditlog.Entry) map[string]any {
	return map[string]any{"index": e.Index, "kind": e.Event.Kind, "subject": e.Event.Subject, "subjectName": e.Event.SubjectName,
		"time": e.Event.Time, "actor": e.Event.Actor, "decision": e.Event.Decision, "reasons": e.Event.Reasons,
		"environment": e.Event.Environment, "evidence": e.Event.Evidence, "attributes": e.Event.Attributes,
		"bundle": e.Bundle.Digest()}
}

// auditFollow runs "provctl audit follow": it checks that any C2SP tlog-tiles log, this
// package's or a shared Rekor v2 log, only grew since the checkpoint held in a file, and moves
// the file on to the log's latest checkpoint.
func auditFollow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlagSet("audit follow", stderr, auditUsage)
	logFlag := fset.String("log", "", "log `folder` or http(s) URL of its tiles (required)")
	logPub := fset.String("log-pub", "", "the log's key `file`: a note verifier key from audit keygen, or a PEM public key such as a Rekor v2 log's (required)")
	origin := fset.String("origin", "", "the log's checkpoint origin `name`, for a PEM key (a Rekor v2 log's hostname)")
	held := fset.String("checkpoint", "", "`file` holding the last checkpoint trusted, updated after a pass; a missing file starts from the latest (required)")
	if _, err := parseFlags(fset, args, 0); err != nil {
		return err
	}
	if *logFlag == "" || *logPub == "" || *held == "" {
		return usagef("audit follow: --log, --log-pub and --checkpoint are required")
	}
	nv, err := logVerifier(*logPub, *origin)
	if err != nil {
		return err
	}
	src, err := auditSource(*logFlag)
	if err != nil {
		return err
	}
	var heldCP *auditlog.Checkpoint
	if raw, err := os.ReadFile(*held); err == nil {
		if heldCP, err = auditlog.ParseCheckpoint(raw, nv); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return configError(err)
	}
	latest, err := auditlog.Follow(ctx, src, nv, heldCP)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*held, latest.Raw, 0o644); err != nil {
		return err
	}
	from := "no checkpoint held"
	if heldCP != nil {
		from = fmt.Sprintf("consistent with the held size %d", heldCP.Size)
	}
	return textout.New(stdout).Printf("log %s: size %d, root %s, %s\n", latest.Origin, latest.Size, hex.EncodeToString(latest.Hash), from)
}

// logVerifier reads a log's checkpoint key: a note verifier key line, or a PEM public key
// that signs checkpoints under origin, as Rekor v2 logs do.
func logVerifier(path, origin string) (note.Verifier, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, configError(err)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("-----BEGIN")) {
		nv, err := note.NewVerifier(strings.TrimSpace(string(raw)))
		if err != nil {
			return nil, configError(fmt.Errorf("checkpoint verifier key %s: %w", path, err))
		}
		return nv, nil
	}
	if origin == "" {
		return nil, usagef("audit follow: --origin is required with the PEM key %s", path)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(raw)
	if err != nil {
		return nil, configError(fmt.Errorf("log key %s: %w", path, err))
	}
	sv, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, configError(fmt.Errorf("log key %s: %w", path, err))
	}
	nv, err := rekornote.NewNoteVerifier(origin, sv)
	if err != nil {
		return nil, configError(fmt.Errorf("log key %s: %w", path, err))
	}
	return nv, nil
}

// auditSource reads a log from a folder or, for an http(s) URL, from a web server.
func auditSource(log string) (auditlog.Source, error) {
	if strings.HasPrefix(log, "http://") || strings.HasPrefix(log, "https://") {
		src, err := auditlog.URL(log, nil)
		if err != nil {
			return nil, &usageError{err}
		}
		return src, nil
	}
	return auditlog.Dir(log), nil
}

// auditorFor is an auditor with the checkpoint verifier it was made with.
type auditorFor struct {
	*auditlog.Auditor
	checkpoints note.Verifier
}

func newAuditor(log, logPub, key string, env map[string]string) (*auditorFor, error) {
	vkey, err := readLine(logPub)
	if err != nil {
		return nil, err
	}
	nv, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, configError(fmt.Errorf("checkpoint verifier key %s: %w", logPub, err))
	}
	keys, err := loadTrustedKeys([]string{key}, env)
	if err != nil {
		return nil, err
	}
	set, err := verify.TrustedKeys(keys...)
	if err != nil {
		return nil, configError(err)
	}
	// Events are dated by the log, not by a timestamp authority.
	v, err := verify.New(set, verify.WithUntimestampedKeysUnsafe(), verify.WithPredicateTypes(auditlog.SealPredicateType))
	if err != nil {
		return nil, configError(err)
	}
	src, err := auditSource(log)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	a, err := auditlog.NewAuditor(src, auditlog.Trust{Checkpoints: nv, Events: v, Signer: verify.KeyIDs(ids...)})
	if err != nil {
		return nil, configError(err)
	}
	return &auditorFor{Auditor: a, checkpoints: nv}, nil
}

// leafHash is the RFC 6962 leaf hash of entry data.
func leafHash(data []byte) []byte { return rfc6962.DefaultHasher.HashLeaf(data) }
