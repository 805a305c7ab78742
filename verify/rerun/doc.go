// Package rerun re-runs one recorded workflow step from its verified record, in a fresh
// folder, and checks what it made against the record: the way DataLad's rerun, ReproZip and
// CWLProv tooling replay a recorded run, for steps recorded with package provenance/workflow.
//
//	res, err := verifier.Verify(ctx, bundle, output, identity) // the step's record, verified
//	out, err := rerun.Run(ctx, res, store, store.Target())     // store is an *oras.Store
//	if err != nil { … }                                        // could not re-run (typed errors)
//	fmt.Println(out.Rebuild.Summary())                         // what was compared, and the outcome
//	st, err := out.Rebuild.Statement()                          // sign it (sign.Signer) and attach it
//
// Run takes a *verify.Result, so only a record whose signature and signer verified can be
// re-run, and reads the step from it (StepFromResult): its container image, pinned by digest;
// its command, parameters and environment; its inputs and outputs, each with a sha256 digest
// and a name. Then it
//
//  1. fetches the image from the store by that digest (the manifest, or for an index the
//     linux manifest of this machine's architecture, its configuration and its layers),
//     verifying every blob against its digest and size while reading, and unpacks the layers
//     in order into DIR/rootfs;
//  2. fetches every input by its digest (files stored with oras.Store.PushFile, found with
//     FileManifests), verified while written, to its recorded name in DIR/rootfs/work;
//  3. runs the recorded command with its working directory /work inside the image, its
//     environment the image configuration's with the recorded variables over it, bounded by a
//     timeout (WithTimeout), its output captured;
//  4. hashes the recorded outputs the command wrote and runs rebuild.Check of them against
//     the record, giving it the inputs as fetched (the image first), so the result says
//     "rebuilt from the same inputs" only when every input and the image were the recorded
//     ones and the outputs matched.
//
// The rebuild result is for the caller to sign: this package never signs (it is on the verify
// side of provkit's layering and imports neither sign nor a registry client). Its statement is
// about the original outputs whether the rebuild matched or not, so attached beside the record
// it verifies against the output's digest. provctl rerun does all of this from the command
// line.
//
// # Runners
//
// The command runs through a Runner. The default, Chroot, changes the command's root
// directory to the unpacked image with chroot(2), which needs root privileges: without them it
// fails at once with a *RunnerError wrapping ErrRunner. It runs the command as the image's
// numeric user, if it has one. A chroot is not a sandbox (the command shares the host's
// kernel, network and processes, and root can leave it): re-run only records whose signer you
// trust, or give a container runtime with WithRunner; a Runner receives the unpacked root, the
// working directory, the command line, the environment and the image's user.
//
// # Layers
//
// Layers are tar archives, uncompressed or gzip-compressed (OCI and Docker media types), and
// hostile input: unpacking refuses (with a *LayerError wrapping ErrUnsafeLayer) names with a
// ".." element, any entry reached through a symbolic link (so nothing is written outside the
// root), symbolic links whose relative target climbs above the root (absolute targets are
// read from the root, as the kernel reads them after chroot), hard links to anything but a
// regular file of the image, device files and named pipes, and unknown entry types. OCI
// whiteouts (".wh.NAME") remove what lower layers wrote, and opaque whiteouts
// (".wh..wh..opq") empty a directory of it. Permission bits are kept without setuid, setgid
// and sticky bits. Everything written (inputs and unpacked files together) and the number of
// layer entries are capped (WithLimits; 16 GiB and a million by default), checked against
// declared sizes before writing, with errors wrapping provenance.ErrTooLarge.
//
// # Errors
//
// A record that is not a re-runnable step is a *RecordError (ErrInvalidRecord); an input or
// the image that is not stored or does not match its digest a *FetchError (ErrNotStored,
// ErrIntegrity); a command that exits with a non-zero status, runs out of time or writes none
// of the recorded outputs a *CommandError (ErrCommand), returned with the Outcome so far. A
// rebuild that differs is not an error: Outcome.Rebuild.Err says so.
//
// Run is safe for concurrent use; each run has its own folder, which it leaves in place
// (Outcome.Dir) for the caller to read and remove.
package rerun
