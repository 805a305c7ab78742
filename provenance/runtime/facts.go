package runtime

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance"
)

// PredicateType is the predicate type of runtime facts.
const PredicateType = "https://provkit.dev/runtime/v1"

// Limits of the facts and of the inputs they are read from.
const (
	// MaxPredicateBytes is the largest predicate Parse reads.
	MaxPredicateBytes = 16 << 20
	// MaxPackages is the most packages the facts, and each package database, may hold.
	MaxPackages = 50000
	// MaxEntries is the most mounts, kernel modules, sysctls, os-release keys or unreadable
	// facts the facts may hold.
	MaxEntries = 10000
	// MaxDatabaseBytes is the largest package database ParseDpkgStatus and ParseAPKInstalled
	// read.
	MaxDatabaseBytes = 64 << 20
	// MaxFileBytes is the largest proc, sys or configuration file Collect reads.
	MaxFileBytes = 4 << 20
)

// The package databases a Package is read from.
const (
	// DatabaseDpkg is Debian's dpkg database: var/lib/dpkg/status and var/lib/dpkg/status.d.
	DatabaseDpkg = "dpkg"
	// DatabaseAPK is Alpine's apk database: lib/apk/db/installed.
	DatabaseAPK = "apk"
)

// The keys of Facts.Unreadable: each is the predicate path of one fact. A sysctl's key is
// SysctlFact(name).
const (
	FactContainerID   = "container.id"        // no container ID found, or neither file read
	FactHostname      = "host.hostname"       // /proc/sys/kernel/hostname
	FactMachineID     = "host.machineId"      // /etc/machine-id, /var/lib/dbus/machine-id
	FactKernelRelease = "kernel.release"      // /proc/sys/kernel/osrelease
	FactCommandLine   = "kernel.commandLine"  // /proc/cmdline
	FactModules       = "kernel.modules"      // /proc/modules
	FactOSRelease     = "osRelease"           // /etc/os-release, /usr/lib/os-release
	FactPackages      = "packages"            // no package database found at all
	FactPackagesDpkg  = "packages.dpkg"       // a dpkg database present but not read
	FactPackagesAPK   = "packages.apk"        // an apk database present but not read
	FactPackagesRPM   = "packages.rpm"        // an rpm database present: never read
	FactCapEff        = "security.capEff"     // /proc/self/status CapEff
	FactCapPrm        = "security.capPrm"     // /proc/self/status CapPrm
	FactCapBnd        = "security.capBnd"     // /proc/self/status CapBnd
	FactSeccomp       = "security.seccomp"    // /proc/self/status Seccomp
	FactNoNewPrivs    = "security.noNewPrivs" // /proc/self/status NoNewPrivs
	FactLSMs          = "security.lsms"       // /sys/kernel/security/lsm
	FactLSMContext    = "security.lsmContext" // /proc/self/attr/current
	FactMounts        = "mounts"              // /proc/self/mounts
)

const (
	factSysctlPrefix   = "sysctls."
	maxSysctlNameBytes = 256
)

// SysctlFact returns the key of Facts.Unreadable for the sysctl name, such as
// "sysctls.kernel.kptr_restrict".
func SysctlFact(name string) string { return factSysctlPrefix + name }

// Facts are what a workload saw of its runtime environment at one moment. The zero value of
// a field means nothing of that kind was there, unless the field's key (FactX) is in
// Unreadable: then it could not be read, and the reason says why.
//
// Facts are plain data: safe for concurrent reads, not for concurrent writes.
type Facts struct {
	// Image is the digest of the image the workload runs, as the container runtime reports
	// it; the statement's subject, not part of the predicate.
	Image digest.Digest `json:"-"`
	// CollectedAt is when the facts were collected, in UTC.
	CollectedAt time.Time `json:"collectedAt"`
	// Container is the workload's container identity.
	Container Container `json:"container"`
	// Host is the identity of the host, or of the virtual machine, the workload runs on.
	Host Host `json:"host"`
	// Kernel describes the running kernel.
	Kernel Kernel `json:"kernel"`
	// Sysctls maps each sysctl read, such as "kernel.kptr_restrict", to its value.
	Sysctls map[string]string `json:"sysctls,omitempty"`
	// OSRelease holds the root filesystem's os-release, such as "ID": "debian".
	OSRelease map[string]string `json:"osRelease,omitempty"`
	// PackageDatabases lists the package databases read, as paths in the root filesystem
	// such as "/var/lib/dpkg/status".
	PackageDatabases []string `json:"packageDatabases,omitempty"`
	// Packages are the installed packages those databases list, in their order.
	Packages []Package `json:"packages,omitempty"`
	// Security is the process's security state.
	Security Security `json:"security"`
	// Mounts are the process's mounts, from /proc/self/mounts.
	Mounts []Mount `json:"mounts,omitempty"`
	// Unreadable maps each fact that could not be read (a FactX key or SysctlFact) to the
	// reason, such as "open /proc/modules: no such file or directory".
	Unreadable map[string]string `json:"unreadable,omitempty"`
}

// Container is a container's identity.
type Container struct {
	// ID is the container's ID, 64 lower-case hexadecimal digits, or empty.
	ID string `json:"id,omitempty"`
	// Source is where ID was found: "cgroup" (/proc/self/cgroup) or "mountinfo"
	// (/proc/self/mountinfo); empty with ID.
	Source string `json:"source,omitempty"`
}

// Host is a host's identity.
type Host struct {
	// Hostname is the kernel's host name (the UTS namespace's, in a container).
	Hostname string `json:"hostname,omitempty"`
	// MachineID is the root filesystem's machine-id.
	MachineID string `json:"machineId,omitempty"`
}

// Kernel describes a running kernel.
type Kernel struct {
	// Release is the kernel release, such as "6.1.0-28-amd64".
	Release string `json:"release,omitempty"`
	// CommandLine is the kernel's boot command line.
	CommandLine string `json:"commandLine,omitempty"`
	// Modules are the names of the loaded kernel modules, in /proc/modules order.
	Modules []string `json:"modules,omitempty"`
}

// Package is one installed package.
type Package struct {
	// Name is the package's name.
	Name string `json:"name"`
	// Version is its version, as the database writes it (a Debian epoch included).
	Version string `json:"version,omitempty"`
	// Architecture is its architecture, such as "amd64", "all" or "x86_64".
	Architecture string `json:"architecture,omitempty"`
	// Database is the database it was read from: DatabaseDpkg or DatabaseAPK.
	Database string `json:"database"`
	// PURL is its package URL, such as "pkg:deb/debian/bash@5.2.15-2+b7?arch=amd64", with
	// the os-release ID as namespace; empty when that ID is unknown.
	PURL string `json:"purl,omitempty"`
}

// Security is a process's security state.
type Security struct {
	// CapEff are the effective capabilities.
	CapEff Capabilities `json:"capEff"`
	// CapPrm are the permitted capabilities.
	CapPrm Capabilities `json:"capPrm"`
	// CapBnd is the capability bounding set.
	CapBnd Capabilities `json:"capBnd"`
	// Seccomp is the seccomp mode: "disabled", "strict" or "filter".
	Seccomp string `json:"seccomp,omitempty"`
	// NoNewPrivs is the no_new_privs flag.
	NoNewPrivs bool `json:"noNewPrivs,omitempty"`
	// LSMs are the active Linux security modules, such as "lockdown", "capability",
	// "apparmor".
	LSMs []string `json:"lsms,omitempty"`
	// LSMContext is the process's security context, such as an AppArmor profile.
	LSMContext string `json:"lsmContext,omitempty"`
}

// Capabilities is a capability set.
type Capabilities struct {
	// Hex is the set as /proc/self/status writes it, 16 hexadecimal digits.
	Hex string `json:"hex,omitempty"`
	// Names are the set's capabilities, as CapabilityNames returns them.
	Names []string `json:"names,omitempty"`
}

// Mount is one mount.
type Mount struct {
	// Device is the mounted device or source, such as "overlay" or "/dev/vda1".
	Device string `json:"device"`
	// MountPoint is where it is mounted.
	MountPoint string `json:"mountPoint"`
	// FSType is the filesystem type.
	FSType string `json:"fsType"`
	// Options are the mount options, comma-separated, such as "ro,nosuid,nodev".
	Options string `json:"options,omitempty"`
}

// capabilityNames are the Linux capabilities by bit number.
var capabilityNames = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// CapabilityNames returns the names of the capabilities in the set written in hexadecimal as
// /proc/self/status does, lowest bit first, such as "CAP_CHOWN"; a bit without a known name
// is "CAP_<bit>". An empty set returns nil.
func CapabilityNames(hex string) ([]string, error) {
	if hex == "" || len(hex) > 16 {
		return nil, fmt.Errorf("capability set %q is not 1 to 16 hexadecimal digits", hex)
	}
	v, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return nil, fmt.Errorf("capability set %q is not 1 to 16 hexadecimal digits", hex)
	}
	var names []string
	for bit := 0; bit < 64; bit++ {
		if v&(1<<bit) == 0 {
			continue
		}
		if bit < len(capabilityNames) {
			names = append(names, capabilityNames[bit])
		} else {
			names = append(names, "CAP_"+strconv.Itoa(bit))
		}
	}
	return names, nil
}

// Validate checks the facts, naming the first bad field in a *FieldError.
func (f *Facts) Validate() error {
	if err := checkImage(f.Image); err != nil {
		return err
	}
	if f.CollectedAt.IsZero() {
		return &FieldError{Field: "collectedAt", Reason: "required"}
	}
	if y := f.CollectedAt.UTC().Year(); y < 1 || y > 9999 {
		return &FieldError{Field: "collectedAt", Reason: "outside the years 1 to 9999"}
	}
	if (f.Container.ID == "") != (f.Container.Source == "") {
		return &FieldError{Field: "container", Reason: "id and source go together"}
	}
	if f.Container.ID != "" && !isContainerID(f.Container.ID) {
		return &FieldError{Field: "container.id", Reason: fmt.Sprintf("%q is not 64 lower-case hexadecimal digits", f.Container.ID)}
	}
	if s := f.Container.Source; s != "" && s != "cgroup" && s != "mountinfo" {
		return &FieldError{Field: "container.source", Reason: fmt.Sprintf("%q is not cgroup or mountinfo", s)}
	}
	for _, c := range []struct {
		name string
		n    int
	}{{"kernel.modules", len(f.Kernel.Modules)}, {"sysctls", len(f.Sysctls)}, {"osRelease", len(f.OSRelease)},
		{"mounts", len(f.Mounts)}, {"unreadable", len(f.Unreadable)}, {"packageDatabases", len(f.PackageDatabases)}} {
		if c.n > MaxEntries {
			return &FieldError{Field: c.name, Reason: fmt.Sprintf("%d entries, more than %d", c.n, MaxEntries)}
		}
	}
	if n := len(f.Packages); n > MaxPackages {
		return &FieldError{Field: "packages", Reason: fmt.Sprintf("%d packages, more than %d", n, MaxPackages)}
	}
	for name := range f.Sysctls {
		if err := checkSysctlName(name); err != nil {
			return &FieldError{Field: "sysctls", Reason: err.Error()}
		}
	}
	for i, p := range f.Packages {
		switch {
		case p.Name == "":
			return &FieldError{Field: fmt.Sprintf("packages[%d].name", i), Reason: "required"}
		case p.Database != DatabaseDpkg && p.Database != DatabaseAPK:
			return &FieldError{Field: fmt.Sprintf("packages[%d].database", i), Reason: fmt.Sprintf("%q is not dpkg or apk", p.Database)}
		case p.PURL != "" && !strings.HasPrefix(p.PURL, "pkg:"):
			return &FieldError{Field: fmt.Sprintf("packages[%d].purl", i), Reason: fmt.Sprintf("%q is not a package URL", p.PURL)}
		}
	}
	for _, c := range []struct {
		name string
		caps Capabilities
	}{{"security.capEff", f.Security.CapEff}, {"security.capPrm", f.Security.CapPrm}, {"security.capBnd", f.Security.CapBnd}} {
		if c.caps.Hex == "" {
			if len(c.caps.Names) > 0 {
				return &FieldError{Field: c.name, Reason: "names without a set"}
			}
			continue
		}
		names, err := CapabilityNames(c.caps.Hex)
		if err != nil {
			return &FieldError{Field: c.name, Reason: err.Error()}
		}
		if !slicesEqual(names, c.caps.Names) {
			return &FieldError{Field: c.name, Reason: fmt.Sprintf("names %v do not match the set %s", c.caps.Names, c.caps.Hex)}
		}
	}
	switch f.Security.Seccomp {
	case "", "disabled", "strict", "filter":
	default:
		return &FieldError{Field: "security.seccomp", Reason: fmt.Sprintf("%q is not disabled, strict or filter", f.Security.Seccomp)}
	}
	for key, reason := range f.Unreadable {
		if key == "" || reason == "" {
			return &FieldError{Field: "unreadable", Reason: "an entry without a fact or a reason"}
		}
	}
	return nil
}

// Statement returns the facts as a validated in-toto statement about the image, ready to
// sign. Invalid facts fail with a *FieldError.
func (f *Facts) Statement() (*intoto.Statement, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	w := *f
	w.CollectedAt = f.CollectedAt.UTC()
	raw, err := json.Marshal(&w)
	if err != nil {
		return nil, &FieldError{Field: "predicate", Reason: err.Error()}
	}
	if len(raw) > MaxPredicateBytes {
		return nil, &FieldError{Field: "predicate", Reason: fmt.Sprintf("%d bytes, more than %d", len(raw), MaxPredicateBytes)}
	}
	subject := &intoto.ResourceDescriptor{Digest: map[string]string{f.Image.Algorithm().String(): f.Image.Encoded()}}
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{subject}, PredicateType, json.RawMessage(raw))
	if err != nil {
		return nil, &FieldError{Field: "image", Reason: err.Error()}
	}
	return st, nil
}

// Parse reads facts back from a statement, such as one a verifier returned. It is strict: the
// predicate type must be PredicateType, the statement must have one subject with one digest,
// the predicate at most MaxPredicateBytes with no field, at any depth, that Statement does not
// write, and the facts must be valid. A rejected statement fails with a *PredicateError. Parse
// checks the document, not its signature: verify it first.
func Parse(st *intoto.Statement) (*Facts, error) {
	var f Facts
	_, image, err := provenance.DecodePredicateStrict(st, PredicateType, jsonNames(reflect.TypeFor[Facts]()), MaxPredicateBytes, &f)
	if err != nil {
		return nil, &PredicateError{Reason: err.Error()}
	}
	if err := checkNames(st.GetPredicate().AsMap(), reflect.TypeFor[Facts](), ""); err != nil {
		return nil, &PredicateError{Reason: err.Error()}
	}
	if f.CollectedAt.Location() != time.UTC {
		return nil, &PredicateError{Reason: "invalid facts", Err: &FieldError{Field: "collectedAt", Reason: "not in UTC"}}
	}
	f.Image = image
	if err := f.Validate(); err != nil {
		return nil, &PredicateError{Reason: "invalid facts", Err: err}
	}
	return &f, nil
}

// jsonNames returns the JSON names of a struct type's fields.
func jsonNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if name := jsonName(t.Field(i)); name != "" {
			names = append(names, name)
		}
	}
	return names
}

func jsonName(sf reflect.StructField) string {
	tag, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
	if tag == "-" || !sf.IsExported() {
		return ""
	}
	if tag == "" {
		return sf.Name
	}
	return tag
}

// checkNames requires every object key in v, decoded JSON of a value of type t, to be a field
// name of t exactly: encoding/json alone matches names regardless of case.
func checkNames(v any, t reflect.Type, path string) error {
	switch t.Kind() {
	case reflect.Struct:
		if t == reflect.TypeFor[time.Time]() {
			return nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil // the decoder refused the type already
		}
		for key, val := range m {
			found := false
			for i := 0; i < t.NumField(); i++ {
				if jsonName(t.Field(i)) == key {
					if err := checkNames(val, t.Field(i).Type, path+key+"."); err != nil {
						return err
					}
					found = true
					break
				}
			}
			if !found {
				return fmt.Errorf("unknown field %q", path+key)
			}
		}
	case reflect.Slice:
		items, _ := v.([]any)
		for i, item := range items {
			if err := checkNames(item, t.Elem(), fmt.Sprintf("%s[%d].", strings.TrimSuffix(path, "."), i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkImage requires a digest in normal form of an identifying algorithm.
func checkImage(d digest.Digest) error {
	if d == "" {
		return &FieldError{Field: "image", Reason: "required"}
	}
	if err := provenance.CheckArtifactDigest(d); err != nil {
		return &FieldError{Field: "image", Reason: err.Error()}
	}
	return nil
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// checkSysctlName requires a name of dot-separated parts of letters, digits, '_' and '-'.
func checkSysctlName(name string) error {
	if name == "" || len(name) > maxSysctlNameBytes {
		return fmt.Errorf("sysctl name %q is empty or longer than %d bytes", name, maxSysctlNameBytes)
	}
	for _, part := range strings.Split(name, ".") {
		if part == "" {
			return fmt.Errorf("sysctl name %q has an empty part", name)
		}
		for _, c := range part {
			if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' && c != '-' {
				return fmt.Errorf("sysctl name %q holds %q", name, c)
			}
		}
	}
	return nil
}
