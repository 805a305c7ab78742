package rerun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/rebuild"
	"github.com/provkit/provkit/verify"
)

// Store is where Run finds a step's inputs and container image by digest. An oras.Store is one
// (Resolve, FileManifests); its Target is the Content to read them with.
type Store interface {
	// Resolve returns the descriptor of the manifest or index a digest names; an unknown one
	// fails with an error wrapping provenance.ErrNotFound.
	Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error)
	// FileManifests returns the manifests under which the file with digest file is stored, as
	// oras.Store.PushFile stores files; none when there is no such file.
	FileManifests(ctx context.Context, file digest.Digest) ([]ocispec.Descriptor, error)
}

// Content reads stored blobs by descriptor, as oras-go's content.Fetcher does (what
// oras.Store.Target returns). Run verifies every byte it reads against the descriptor.
type Content interface {
	// Fetch opens the blob desc describes.
	Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)
}

// Defaults of the options.
const (
	// DefaultTimeout bounds the step's command: one hour.
	DefaultTimeout = time.Hour
	// DefaultMaxBytes bounds what Run writes, inputs and unpacked image together: 16 GiB.
	DefaultMaxBytes = 16 << 30
	// DefaultMaxEntries bounds the entries of an image's layers together: one million.
	DefaultMaxEntries = 1_000_000
	// maxCaptured is how much of each of stdout and stderr Outcome keeps: 1 MiB.
	maxCaptured = 1 << 20
)

// Option configures Run.
type Option func(*options) error

type options struct {
	runner         Runner
	parent         string
	timeout        time.Duration
	clock          provenance.Clock
	maxBytes       int64
	maxEntries     int
	stdout, stderr io.Writer
}

// WithRunner runs the command with r instead of Chroot.
func WithRunner(r Runner) Option {
	return func(o *options) error {
		if r == nil {
			return errors.New("rerun: WithRunner: nil runner")
		}
		o.runner = r
		return nil
	}
}

// WithDir makes the fresh folder of the run below dir, which must exist, instead of the
// system's temporary directory.
func WithDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("rerun: WithDir: empty folder")
		}
		o.parent = dir
		return nil
	}
}

// WithTimeout bounds the command's run (DefaultTimeout otherwise); the caller's ctx bounds the
// whole of Run.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("rerun: WithTimeout: %v is not positive", d)
		}
		o.timeout = d
		return nil
	}
}

// WithClock takes the rebuild check's time from clock (provenance.SystemClock otherwise).
func WithClock(clock provenance.Clock) Option {
	return func(o *options) error {
		if clock == nil {
			return errors.New("rerun: WithClock: nil clock")
		}
		o.clock = clock
		return nil
	}
}

// WithLimits bounds the bytes Run writes (inputs and the unpacked image together, checked
// against declared sizes before writing) and the entries of the image's layers
// (DefaultMaxBytes and DefaultMaxEntries otherwise).
func WithLimits(maxBytes int64, maxEntries int) Option {
	return func(o *options) error {
		if maxBytes <= 0 || maxEntries <= 0 {
			return fmt.Errorf("rerun: WithLimits: %d bytes and %d entries must be positive", maxBytes, maxEntries)
		}
		o.maxBytes, o.maxEntries = maxBytes, maxEntries
		return nil
	}
}

// WithOutput copies the command's standard output and error to stdout and stderr as it runs,
// besides keeping their start in the Outcome. Either may be nil.
func WithOutput(stdout, stderr io.Writer) Option {
	return func(o *options) error {
		o.stdout, o.stderr = stdout, stderr
		return nil
	}
}

// Outcome is what a re-run did and found.
type Outcome struct {
	// Step is the step re-run, as its record gives it.
	Step *Step
	// Dir is the fresh folder the step ran in: the unpacked image in Dir/rootfs, the working
	// folder (inputs and outputs) in Dir/rootfs/work. Run leaves it for the caller to read and
	// remove.
	Dir string
	// Image is the descriptor of the image manifest the command ran in: the one the record
	// pins, or the linux manifest of this machine's architecture in the index it pins.
	Image ocispec.Descriptor
	// Inputs are the inputs as fetched by digest and used, the image first: what the rebuild
	// check compared with the record's resolved dependencies.
	Inputs []*intoto.ResourceDescriptor
	// Outputs are the recorded outputs the command wrote, hashed with sha256 after it exited,
	// with their recorded names; an output it did not write is absent.
	Outputs []*intoto.ResourceDescriptor
	// Stdout and Stderr are the start of what the command wrote, at most 1 MiB each.
	Stdout, Stderr []byte
	// Rebuild is the rebuild check of Outputs and Inputs against the record: sign its
	// Statement (about the original outputs, whatever the outcome) and attach it. Nil when
	// Run failed before it.
	Rebuild *rebuild.Result
}

// rerunner is one Run.
type rerunner struct {
	store   Store
	content Content
	o       options
	budget  budget
}

// Run re-runs the workflow step a verified record describes and checks what it made against
// the record. record must be a *verify.Result of a step recorded with provenance/workflow (see
// StepFromResult). Run
//
//   - makes a fresh folder (WithDir, else the system's temporary directory);
//   - fetches the step's container image from store by the digest the record pins, verifying
//     the manifest, configuration and every layer against their digests while reading, and
//     unpacks the layers in order into Dir/rootfs, with OCI whiteouts, refusing unsafe entries
//     (see the package documentation);
//   - fetches each input by its recorded sha256 digest (a file stored with
//     oras.Store.PushFile), verified while written, to its recorded name in the working folder
//     Dir/rootfs/work, which the command sees as /work (whatever the image had at /work is
//     replaced by it);
//   - runs the recorded command there with the runner (Chroot unless WithRunner), in the
//     image configuration's environment with the recorded environment over it, bounded by
//     WithTimeout, capturing its output;
//   - hashes the recorded outputs the command wrote, and runs rebuild.Check of them, with the
//     inputs as fetched (the image first), against the record.
//
// A mismatch is not an error: Outcome.Rebuild says what differed, and is a statement to sign
// either way. Errors: a record that is not a re-runnable step is a *RecordError
// (ErrInvalidRecord); an input or the image not in the store, or not matching its digest, a
// *FetchError (ErrNotStored, ErrIntegrity); an unsafe layer a *LayerError (ErrUnsafeLayer); a
// runner that cannot run here a *RunnerError (ErrRunner); a command that exits with a non-zero
// status, runs out of time or writes none of the recorded outputs a *CommandError
// (ErrCommand), returned with the Outcome so far (its output and folder). Run signs nothing:
// the caller signs Outcome.Rebuild.Statement with its own signer.
func Run(ctx context.Context, record *verify.Result, store Store, content Content, opts ...Option) (*Outcome, error) {
	o := options{runner: Chroot(), timeout: DefaultTimeout, clock: provenance.SystemClock(), maxBytes: DefaultMaxBytes, maxEntries: DefaultMaxEntries}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if store == nil || content == nil {
		return nil, errors.New("rerun: nil store or content")
	}
	step, err := StepFromResult(record)
	if err != nil {
		return nil, err
	}
	r := &rerunner{store: store, content: content, o: o, budget: budget{bytes: o.maxBytes, entries: o.maxEntries}}
	dir, err := os.MkdirTemp(o.parent, "rerun-"+safeName(step.Name)+"-")
	if err != nil {
		return nil, fmt.Errorf("rerun: make the folder: %w", err)
	}
	out := &Outcome{Step: step, Dir: dir}
	root := filepath.Join(dir, "rootfs")
	if err := os.Mkdir(root, 0o755); err != nil {
		return out, fmt.Errorf("rerun: %w", err)
	}
	img, err := r.fetchImage(ctx, step, root)
	if err != nil {
		return out, err
	}
	out.Image = img.manifest
	imageDep := step.ImageDependency
	// The image as the record pins it (an index, when it names one), fetched by that digest.
	out.Inputs = append(out.Inputs, &intoto.ResourceDescriptor{Name: imageDep.GetName(), Uri: imageDep.GetUri(),
		Digest: map[string]string{step.ImageDigest.Algorithm().String(): step.ImageDigest.Encoded()}})

	work := filepath.Join(root, "work")
	if err := os.RemoveAll(work); err != nil {
		return out, fmt.Errorf("rerun: %w", err)
	}
	if err := os.Mkdir(work, 0o777); err != nil {
		return out, fmt.Errorf("rerun: %w", err)
	}
	if err := os.Chmod(work, 0o777); err != nil { // the image's user writes its outputs here
		return out, fmt.Errorf("rerun: %w", err)
	}
	for _, in := range step.Inputs {
		if err := r.fetchInput(ctx, in, filepath.Join(work, filepath.FromSlash(in.Path))); err != nil {
			return out, err
		}
		out.Inputs = append(out.Inputs, &intoto.ResourceDescriptor{Name: in.Descriptor.GetName(), Uri: in.Descriptor.GetUri(),
			Digest: map[string]string{"sha256": in.Digest.Encoded()}})
	}

	stdout := &capped{limit: maxCaptured, next: o.stdout}
	stderr := &capped{limit: maxCaptured, next: o.stderr}
	cmd := &Command{Root: root, Dir: "/work", Args: slices.Clone(step.Command), Env: environment(img.config.Env, step.Environment),
		User: img.config.User, Stdout: stdout, Stderr: stderr}
	rctx, cancel := context.WithTimeout(ctx, o.timeout)
	runErr := o.runner.Run(rctx, cmd)
	timedOut := rctx.Err() != nil
	cancel()
	out.Stdout, out.Stderr = stdout.buf, stderr.buf
	if runErr != nil {
		var ee *exec.ExitError
		var re *RunnerError
		switch {
		case errors.As(runErr, &re):
			return out, runErr
		case timedOut:
			return out, &CommandError{Args: step.Command, ExitCode: -1, Stderr: tail(stderr.buf), Err: fmt.Errorf("stopped after %v: %w", o.timeout, rctx.Err())}
		case errors.As(runErr, &ee):
			return out, &CommandError{Args: step.Command, ExitCode: ee.ExitCode(), Stderr: tail(stderr.buf), Err: runErr}
		default:
			return out, fmt.Errorf("rerun: run %q: %w", step.Command, runErr)
		}
	}

	for _, f := range step.Outputs {
		rd, err := hashOutput(work, f)
		if err != nil {
			continue // not written, or not a regular file inside the folder: a difference
		}
		out.Outputs = append(out.Outputs, rd)
	}
	if len(out.Outputs) == 0 {
		return out, &CommandError{Args: step.Command, Stderr: tail(stderr.buf), Err: errors.New("it wrote none of the recorded outputs")}
	}
	res, err := rebuild.Check(rebuild.Input{Original: record.Statement(), Rebuilt: out.Outputs, Inputs: out.Inputs, CheckedOn: o.clock()})
	if err != nil {
		return out, fmt.Errorf("rerun: check the rebuild: %w", err)
	}
	out.Rebuild = res
	return out, nil
}

// hashOutput hashes the output f in the working folder, refusing a path that goes through a
// symbolic link (which the command could point anywhere on the host) or is not a regular file.
func hashOutput(work string, f File) (*intoto.ResourceDescriptor, error) {
	dir, _ := filepath.Split(filepath.FromSlash(f.Path))
	if err := noSymlinks(work, strings.TrimSuffix(filepath.ToSlash(dir), "/")); err != nil {
		return nil, err
	}
	p := filepath.Join(work, filepath.FromSlash(f.Path))
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", f.Path, provenance.ErrNotRegular)
	}
	rd, err := provenance.SubjectFromFile(p)
	if err != nil {
		return nil, err
	}
	return &intoto.ResourceDescriptor{Name: f.Descriptor.GetName(), Uri: f.Descriptor.GetUri(), Digest: map[string]string{"sha256": rd.GetDigest()["sha256"]}}, nil
}

// environment is the image's environment with the recorded variables over it, and PATH
// defaulted.
func environment(image []string, recorded map[string]string) []string {
	var env []string
	index := map[string]int{}
	set := func(k, v string) {
		if i, ok := index[k]; ok {
			env[i] = k + "=" + v
			return
		}
		index[k] = len(env)
		env = append(env, k+"="+v)
	}
	for _, kv := range image {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			set(k, v)
		}
	}
	keys := make([]string, 0, len(recorded))
	for k := range recorded {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		set(k, recorded[k])
	}
	if _, ok := index["PATH"]; !ok {
		set("PATH", defaultPath)
	}
	return env
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// safeName makes a step name fit in a folder name.
func safeName(name string) string {
	s := unsafeName.ReplaceAllString(name, "_")
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

// tail returns the last 4 KiB of b.
func tail(b []byte) string {
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}

// capped keeps the first limit bytes written to it and passes everything on to next.
type capped struct {
	limit int
	buf   []byte
	next  io.Writer
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.limit - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	if c.next != nil {
		if _, err := c.next.Write(p); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
