// Package runtime records what a running workload sees of its environment as runtime facts,
// an in-toto statement about the image digest it runs: its container and host identity, the
// kernel and its boot command line, a chosen set of sysctls, the root filesystem's os-release
// and installed packages, the loaded kernel modules, the process's capabilities, seccomp mode,
// no_new_privs flag and security module, and its mounts.
//
//	facts, err := runtime.Collect(ctx, imageDigest) // the digest the container runtime reports
//	if err != nil {
//		return err // a bad digest or option, or ctx done: never a fact that could not be read
//	}
//	st, err := facts.Statement() // sign it, attach it beside the image or keep it
//
// Collect needs no privileges and reads only files: the root filesystem ("/", or WithRoot),
// the proc filesystem ("/proc", or WithProc) and the sys filesystem ("/sys", or WithSys), so
// that a test, or a collector looking at a mounted image, can point it at any tree. Files of
// the root filesystem are read inside it: a symbolic link leading out is not followed.
//
// # What could not be read
//
// Every fact that could not be read is named in Facts.Unreadable, by its predicate path (the
// FactX constants, and SysctlFact for a sysctl), with the reason, such as
//
//	"kernel.modules": "open /proc/modules: no such file or directory"
//
// and its field is left at its zero value. Nothing is guessed: a field at its zero value
// whose fact is not in Unreadable was read and is empty (no sysctl of that name set, no
// module loaded, seccomp "disabled"). File names in reasons are those the workload sees, such
// as /proc/modules, whichever folder WithProc named. rpm databases are never read (reading
// them needs a library beyond the model layer's): one present is named under "packages.rpm".
//
// # Predicate (https://provkit.dev/runtime/v1)
//
// The statement has exactly one subject, the image, by its one digest (the digest of the
// manifest the runtime pulled, not a tag). The predicate's fields, each optional unless said:
//
//   - collectedAt (string, required): when the facts were collected, RFC 3339 in UTC.
//   - container (object): id, the container ID (64 lower-case hexadecimal digits) read from
//     the innermost path of /proc/self/cgroup, else from a container folder named in
//     /proc/self/mountinfo; source, "cgroup" or "mountinfo", where it was found.
//   - host (object): hostname, from /proc/sys/kernel/hostname (the UTS namespace's); machineId,
//     from /etc/machine-id or else /var/lib/dbus/machine-id of the root filesystem.
//   - kernel (object): release, /proc/sys/kernel/osrelease; commandLine, /proc/cmdline;
//     modules, the names of the loaded modules in /proc/modules order.
//   - sysctls (object): each sysctl read, by its dotted name, to its value as the kernel
//     writes it. DefaultSysctls names those read unless WithSysctls names others.
//   - osRelease (object): the root filesystem's os-release (/etc/os-release, else
//     /usr/lib/os-release), key to unquoted value.
//   - packageDatabases (array of strings): the package databases read, by path.
//   - packages (array of objects, at most MaxPackages): the installed packages, each name
//     (required), version, architecture, database ("dpkg" or "apk", required) and purl, such
//     as pkg:deb/debian/libc6@2.36-9%2Bdeb12u9?arch=amd64 or
//     pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64, with the os-release ID as namespace (no purl
//     without one). Read from /var/lib/dpkg/status, every file of /var/lib/dpkg/status.d but
//     the .md5sums (as distroless images hold them), and /lib/apk/db/installed.
//   - security (object): capEff, capPrm and capBnd, the capability sets of /proc/self/status,
//     each hex (16 hexadecimal digits as written there) and names (CAP_CHOWN, ..., which must
//     be those of hex); seccomp, "disabled", "strict" or "filter"; noNewPrivs (boolean); lsms,
//     the active security modules of /sys/kernel/security/lsm; lsmContext, the process's
//     /proc/self/attr/current, such as an AppArmor profile.
//   - mounts (array of objects): /proc/self/mounts, each device, mountPoint, fsType and options
//     (comma-separated), with the octal escapes decoded.
//   - unreadable (object): fact path to the reason it could not be read, as above.
//
// A predicate with any other field, at any depth and in any other case, is refused. Parse
// reads at most MaxPredicateBytes and at most MaxEntries of each other list or object.
//
// # What the statement proves, and what it does not
//
// Signed, the statement says: this is what a workload that ran the image saw of its
// environment, at that time, as attested by whoever signed it. It is as trustworthy as the
// signer and the code that collected it: a workload that is compromised, or a kernel that
// lies, can report anything, and a container sees its own namespaces (its hostname, its
// mounts, its view of /proc), not necessarily the host's. Facts collected in one process
// describe that process: another process of the same container may run with other
// capabilities. The statement is not a hardware attestation: no TPM, secure boot chain or
// confidential-computing report vouches for it. Bound to a TPM quote whose nonce is the
// statement's digest (package provenance/runtime/tpm), it is shown to have existed when that
// TPM quoted its PCRs, on the machine holding the attestation key; its facts remain the word of
// the software that collected them.
//
// # Package databases
//
// ParseDpkgStatus and ParseAPKInstalled read one database each, up to MaxDatabaseBytes and
// MaxPackages, failing on malformed input with a *DatabaseError. Parse fails with a
// *PredicateError, Statement and Validate with a *FieldError; each wraps a sentinel of
// errors.go to compare with errors.Is.
package runtime
