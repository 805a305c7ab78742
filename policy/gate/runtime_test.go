package gate_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/provenance/lifecycle"
	"github.com/provkit/provkit/provenance/runtime"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

// runtimeKit is a build key, a node key that signs runtime facts and a release managers' key,
// a verifier trusting all three, and a Checker giving each its role.
type runtimeKit struct {
	build, node, managers *ecdsa.PrivateKey
	checker               *gate.Checker
	verifier              *verify.Verifier
}

func newRuntimeKit(t *testing.T, opts ...gate.Option) *runtimeKit {
	t.Helper()
	k := &runtimeKit{build: mustECDSA(t), node: mustECDSA(t), managers: mustECDSA(t)}
	ks, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: k.build.Public()}, verify.PublicKey{ID: "node", Key: k.node.Public()},
		verify.PublicKey{ID: "release-managers", Key: k.managers.Public()})
	require.NoError(t, err)
	k.verifier, err = verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	require.NoError(t, err)
	opts = append([]gate.Option{gate.WithPolicy(prodPolicyWithLifecycle(t)), gate.WithEnvironment("prod"),
		gate.WithRole(runtime.PredicateType, verify.KeyIDs("node")),
		gate.WithRole(lifecycle.PredicateType, verify.KeyIDs("release-managers"))}, opts...)
	k.checker, err = gate.New(k.verifier, verify.KeyIDs("release"), opts...)
	require.NoError(t, err)
	return k
}

// prodPolicyWithLifecycle allows what the release builder built and is not retired or revoked.
func prodPolicyWithLifecycle(t *testing.T) *policy.Policy {
	t.Helper()
	p, err := policy.Load(strings.NewReader(`apiVersion: provkit.dev/policy/v1
kind: Policy
metadata: {name: release}
rules:
  - name: built-by-release
    slsa:
      builders: [{id: "` + builder + `"}]
  - name: lifecycle
    lifecycle: {deny: [retired, revoked]}
environments:
  prod:
    defaultMode: enforce
`))
	require.NoError(t, err)
	return p
}

// memoryRecorder keeps the events it records.
type memoryRecorder struct {
	mu     sync.Mutex
	events []audit.Event
}

func (r *memoryRecorder) Record(_ context.Context, e audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *memoryRecorder) count(kind audit.Kind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func attachStatement(t *testing.T, store *oras.Store, subject ocispec.Descriptor, key *ecdsa.PrivateKey, st *intoto.Statement) {
	t.Helper()
	s, err := sign.NewKeySigner(key)
	require.NoError(t, err)
	b, err := s.Sign(context.Background(), st)
	require.NoError(t, err)
	_, err = store.Attach(context.Background(), subject, b)
	require.NoError(t, err)
}

// spdx is an SPDX statement about image recording the packages, name then version.
func spdx(t *testing.T, image digest.Digest, pkgs ...string) *intoto.Statement {
	t.Helper()
	var list []any
	for i := 0; i < len(pkgs); i += 2 {
		list = append(list, map[string]any{"name": pkgs[i], "versionInfo": pkgs[i+1], "SPDXID": "SPDXRef-" + pkgs[i]})
	}
	pred, err := structpb.NewStruct(map[string]any{"spdxVersion": "SPDX-2.3", "packages": list})
	require.NoError(t, err)
	return &intoto.Statement{Type: intoto.StatementTypeUri, PredicateType: provenance.PredicateSPDX,
		Subject: []*intoto.ResourceDescriptor{{Name: "image", Digest: map[string]string{"sha256": image.Encoded()}}}, Predicate: pred}
}

// facts are a hardened Debian container's runtime facts about image, running the packages.
func facts(image digest.Digest, at time.Time, pkgs ...string) *runtime.Facts {
	f := &runtime.Facts{Image: image, CollectedAt: at.UTC(),
		Sysctls:  map[string]string{"kernel.kptr_restrict": "1", "net.ipv4.ip_forward": "0"},
		Security: runtime.Security{Seccomp: "filter", NoNewPrivs: true, CapEff: runtime.Capabilities{Hex: "0000000000000001", Names: []string{"CAP_CHOWN"}}},
	}
	for i := 0; i < len(pkgs); i += 2 {
		f.Packages = append(f.Packages, runtime.Package{Name: pkgs[i], Version: pkgs[i+1], Database: runtime.DatabaseDpkg})
	}
	return f
}

func factsStatement(t *testing.T, f *runtime.Facts) *intoto.Statement {
	t.Helper()
	st, err := f.Statement()
	require.NoError(t, err)
	return st
}

var hardened = gate.RuntimeRequirements{
	Sysctls:            map[string]string{"kernel.kptr_restrict": "1"},
	Seccomp:            "filter",
	NoNewPrivs:         true,
	DeniedCapabilities: []string{"CAP_SYS_ADMIN"},
	Packages:           true,
	MaxAge:             time.Hour,
}

func kinds(ds []gate.Deviation) []gate.DeviationKind {
	var out []gate.DeviationKind
	for _, d := range ds {
		out = append(out, d.Kind)
	}
	return out
}

// TestCheckRuntime compares runtime facts with the build on every backend: facts matching the
// SBOM and the requirements pass; a package the SBOM does not record, a library updated in
// place, a sysctl changed, a capability gained, facts from an untrusted signer, stale facts,
// another running digest and a revocation since admission are each a typed deviation, and
// each comparison with deviations is recorded as a runtime-deviation event.
func TestCheckRuntime(t *testing.T) {
	now := time.Now().UTC()
	rec := &memoryRecorder{}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			k := newRuntimeKit(t, gate.WithRecorder(rec, "watcher@example.com"))
			ctx := context.Background()
			store, repo := be.open(t)
			image := testenv.PushImage(t, store.Target(), "v1", "api 1.4.2\n")
			testenv.AttestSLSA(t, store, repo, image, k.build, builder)
			attachStatement(t, store, image, k.build, spdx(t, image.Digest, "libc6", "2.36-9", "openssl", "3.0.15-1"))
			w := gate.Workload{Store: store, Admitted: image}

			attachStatement(t, store, image, k.node, factsStatement(t, facts(image.Digest, now.Add(-time.Minute), "libc6", "2.36-9", "openssl", "3.0.15-1")))
			r, err := k.checker.CheckRuntime(ctx, w, hardened)
			require.NoError(t, err)
			require.Empty(t, r.Deviations)
			require.NotNil(t, r.Facts)
			before := rec.count(audit.KindRuntimeDeviation)

			drifted := facts(image.Digest, now, "libc6", "2.36-9", "openssl", "3.0.16-1", "netcat", "1.10")
			drifted.Sysctls["kernel.kptr_restrict"] = "0"
			drifted.Security.CapEff = runtime.Capabilities{Hex: "0000000000200001", Names: []string{"CAP_CHOWN", "CAP_SYS_ADMIN"}}
			attachStatement(t, store, image, k.node, factsStatement(t, drifted))
			r, err = k.checker.CheckRuntime(ctx, w, hardened)
			var de *gate.DeviationError
			require.ErrorAs(t, err, &de)
			require.ErrorIs(t, err, gate.ErrDeviation)
			require.Equal(t, []gate.DeviationKind{gate.DeviationSysctl, gate.DeviationSecurity, gate.DeviationPackage, gate.DeviationPackage}, kinds(de.Deviations))
			require.Equal(t, "openssl", de.Deviations[2].Fact)
			require.Equal(t, "3.0.15-1", de.Deviations[2].Expected)
			require.Equal(t, "netcat", de.Deviations[3].Fact)
			require.Equal(t, before+1, rec.count(audit.KindRuntimeDeviation), "one runtime-deviation event")
			require.Equal(t, r.Deviations, de.Deviations)

			_, err = k.checker.CheckRuntime(ctx, gate.Workload{Store: store, Admitted: image, Seen: now.Add(time.Hour)}, hardened)
			require.ErrorAs(t, err, &de)
			require.Equal(t, []gate.DeviationKind{gate.DeviationFacts}, kinds(de.Deviations), "facts older than ones already seen")

			other := testenv.PushImage(t, store.Target(), "v1-patched", "api 1.4.2 patched\n")
			attachStatement(t, store, other, k.managers, factsStatement(t, facts(other.Digest, now, "libc6", "2.36-9")))
			_, err = k.checker.CheckRuntime(ctx, gate.Workload{Store: store, Admitted: image, Running: other.Digest}, hardened)
			require.ErrorAs(t, err, &de)
			require.Equal(t, []gate.DeviationKind{gate.DeviationImage, gate.DeviationFacts}, kinds(de.Deviations),
				"another digest runs, and its facts are signed by someone not entitled to")

			attachStatement(t, store, image, k.managers, mustStatement(t, &lifecycle.Status{Subject: image.Digest, State: lifecycle.StateRevoked,
				Reason: "compromised build", Effective: now.Add(-time.Second), DecidedBy: "security@example.com"}))
			r, err = k.checker.CheckRuntime(ctx, w, gate.RuntimeRequirements{})
			require.ErrorAs(t, err, &de)
			require.Equal(t, gate.DeviationDecision, de.Deviations[0].Kind)
			require.ErrorIs(t, r.DecisionErr, policy.ErrDenied)
		})
	}
}

func mustStatement(t *testing.T, s *lifecycle.Status) *intoto.Statement {
	t.Helper()
	st, err := s.Statement()
	require.NoError(t, err)
	return st
}

// TestCheckRuntimeWithoutEvidence: no runtime facts, and no SBOM to compare packages with, are
// deviations; a store that cannot be read is a CheckError, never a deviation or a pass.
func TestCheckRuntimeWithoutEvidence(t *testing.T) {
	k := newRuntimeKit(t)
	ctx := context.Background()
	store, err := oras.NewMemory()
	require.NoError(t, err)
	image := testenv.PushImage(t, store.Target(), "v1", "api\n")
	testenv.AttestSLSA(t, store, "memory.example/app", image, k.build, builder)
	_, err = k.checker.CheckRuntime(ctx, gate.Workload{Store: store, Admitted: image}, hardened)
	var de *gate.DeviationError
	require.ErrorAs(t, err, &de)
	require.Equal(t, []gate.DeviationKind{gate.DeviationFacts}, kinds(de.Deviations))

	attachStatement(t, store, image, k.node, factsStatement(t, facts(image.Digest, time.Now(), "libc6", "2.36-9")))
	_, err = k.checker.CheckRuntime(ctx, gate.Workload{Store: store, Admitted: image}, hardened)
	require.ErrorAs(t, err, &de)
	require.Equal(t, "sbom", de.Deviations[0].Fact)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = k.checker.CheckRuntime(canceled, gate.Workload{Store: store, Admitted: image}, hardened)
	var ce *gate.CheckError
	require.ErrorAs(t, err, &ce)
	require.False(t, errors.Is(err, gate.ErrDeviation))
}

// TestWatch: a watcher finds a deviation as soon as new runtime facts are attached, drops the
// workload's cached admission decision when that happens, and stops with its context.
func TestWatch(t *testing.T) {
	cache := mustCache(t, time.Hour)
	k := newRuntimeKit(t, gate.WithCache(cache))
	store, err := oras.NewMemory()
	require.NoError(t, err)
	image := testenv.PushImage(t, store.Target(), "v1", "api\n")
	testenv.AttestSLSA(t, store, "memory.example/app", image, k.build, builder)
	attachStatement(t, store, image, k.build, spdx(t, image.Digest, "libc6", "2.36-9"))
	attachStatement(t, store, image, k.node, factsStatement(t, facts(image.Digest, time.Now().Add(-time.Minute), "libc6", "2.36-9")))
	_, err = k.checker.Check(t.Context(), store, image)
	require.NoError(t, err)
	require.Equal(t, 1, cache.Stats().Entries)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	found := make(chan *gate.DeviationError, 10)
	done := make(chan error, 1)
	go func() {
		done <- k.checker.Watch(ctx, []gate.Workload{{Store: store, Admitted: image}}, gate.WatchOptions{
			Every: 10 * time.Millisecond, Reverify: time.Hour, Requirements: hardened, Cache: cache,
			OnDeviation: func(_ context.Context, _ gate.Workload, _ *gate.RuntimeReport, err *gate.DeviationError) {
				found <- err
			},
			OnError: func(_ context.Context, _ gate.Workload, err error) { t.Errorf("check failed: %v", err) },
		})
	}()
	// The first round reads every workload's attestations for the first time, and drops the
	// cached decision: it was made before the watcher knew what was attached. Cached again,
	// the decision stays while nothing new is attached.
	require.Eventually(t, func() bool { return cache.Stats().Entries == 0 }, 5*time.Second, 5*time.Millisecond)
	_, err = k.checker.Check(t.Context(), store, image)
	require.NoError(t, err)
	require.Never(t, func() bool { return cache.Stats().Entries == 0 }, 100*time.Millisecond, 5*time.Millisecond)
	select {
	case de := <-found:
		t.Fatalf("deviation before any drift: %v", de)
	default:
	}
	attachStatement(t, store, image, k.node, factsStatement(t, facts(image.Digest, time.Now(), "libc6", "2.36-9", "netcat", "1.10")))
	select {
	case de := <-found:
		require.Equal(t, []gate.DeviationKind{gate.DeviationPackage}, kinds(de.Deviations))
	case <-time.After(10 * time.Second):
		t.Fatal("no deviation reported")
	}
	require.Zero(t, cache.Stats().Entries, "the cached decision was dropped when new attestations appeared")
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	err = k.checker.Watch(t.Context(), nil, gate.WatchOptions{Every: time.Millisecond})
	require.ErrorIs(t, err, gate.ErrInvalidConfig)
}
