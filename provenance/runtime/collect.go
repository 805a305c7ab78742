package runtime

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// Option configures Collect.
type Option func(*config) error

type config struct {
	root, proc, sys string
	sysctls         []string
	clock           func() time.Time
}

// WithRoot reads the root filesystem (os-release, machine-id, package databases) from dir
// instead of "/". Paths are resolved inside dir: a symbolic link leading out of it is not
// followed.
func WithRoot(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return fmt.Errorf("%w: WithRoot: empty folder", ErrInvalidOption)
		}
		c.root = dir
		return nil
	}
}

// WithProc reads the proc filesystem from dir instead of "/proc".
func WithProc(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return fmt.Errorf("%w: WithProc: empty folder", ErrInvalidOption)
		}
		c.proc = dir
		return nil
	}
}

// WithSys reads the sys filesystem from dir instead of "/sys".
func WithSys(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return fmt.Errorf("%w: WithSys: empty folder", ErrInvalidOption)
		}
		c.sys = dir
		return nil
	}
}

// WithSysctls reads the sysctls named, such as "kernel.kptr_restrict", instead of those of
// DefaultSysctls; none reads no sysctl. A name that is not dot-separated parts of letters,
// digits, '_' and '-' is an error wrapping ErrInvalidOption.
func WithSysctls(names ...string) Option {
	return func(c *config) error {
		for _, n := range names {
			if err := checkSysctlName(n); err != nil {
				return fmt.Errorf("%w: WithSysctls: %v", ErrInvalidOption, err)
			}
		}
		c.sysctls = append([]string{}, names...)
		return nil
	}
}

// WithClock sets the clock that dates the facts; time.Now by default.
func WithClock(clock func() time.Time) Option {
	return func(c *config) error {
		if clock == nil {
			return fmt.Errorf("%w: WithClock: nil clock", ErrInvalidOption)
		}
		c.clock = clock
		return nil
	}
}

// DefaultSysctls returns the sysctls Collect reads by default: those that harden the kernel
// against a workload, or open it up.
func DefaultSysctls() []string {
	return []string{
		"fs.protected_hardlinks",
		"fs.protected_symlinks",
		"fs.suid_dumpable",
		"kernel.dmesg_restrict",
		"kernel.kexec_load_disabled",
		"kernel.kptr_restrict",
		"kernel.perf_event_paranoid",
		"kernel.randomize_va_space",
		"kernel.unprivileged_bpf_disabled",
		"kernel.yama.ptrace_scope",
		"net.ipv4.ip_forward",
		"user.max_user_namespaces",
	}
}

// Collect reads the facts of the workload it runs in, which runs the image of digest image as
// the container runtime reports it. It needs no privileges. Each fact that cannot be read is
// recorded in Facts.Unreadable with the reason, and left at its zero value; Collect fails only
// on bad input: an image digest that is not in normal form of an identifying algorithm (a
// *FieldError), an invalid option (ErrInvalidOption), or a context canceled before it ends.
//
// Collect is safe for concurrent use.
func Collect(ctx context.Context, image digest.Digest, opts ...Option) (*Facts, error) {
	c := config{root: "/", proc: "/proc", sys: "/sys", sysctls: DefaultSysctls(), clock: time.Now}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	f := &Facts{Image: image}
	if err := checkImage(image); err != nil {
		return nil, err
	}
	col := &collector{cfg: c, f: f}
	steps := []func(){
		col.container, col.host, col.kernel, col.sysctls, col.osRelease, col.packages,
		col.security, col.mounts,
	}
	defer col.close()
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("runtime: collect: %w", err)
		}
		step()
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("runtime: collect: %w", err)
	}
	f.CollectedAt = c.clock().UTC().Round(0)
	return f, nil
}

// collector gathers one Facts.
type collector struct {
	cfg     config
	f       *Facts
	root    *os.Root
	rootErr error
}

func (c *collector) close() {
	if c.root != nil {
		c.root.Close()
	}
}

func (c *collector) unreadable(fact string, err error) {
	if c.f.Unreadable == nil {
		c.f.Unreadable = map[string]string{}
	}
	c.f.Unreadable[fact] = err.Error()
}

// readFile reads a file of at most MaxFileBytes under base, naming it logical in errors.
func readFile(base, rel, logical string) ([]byte, error) {
	file, err := os.Open(filepath.Join(base, filepath.FromSlash(rel)))
	if err != nil {
		return nil, relabel(err, logical)
	}
	defer file.Close()
	return readLimited(file, logical)
}

func readLimited(r io.Reader, logical string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, relabel(err, logical)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("read %s: more than %d bytes", logical, MaxFileBytes)
	}
	return data, nil
}

// relabel names the file in a *fs.PathError by its path as the workload sees it.
func relabel(err error, logical string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		op := pe.Op
		if op == "openat" {
			op = "open" // os.Root's name for it
		}
		return &fs.PathError{Op: op, Path: logical, Err: pe.Err}
	}
	return err
}

func (c *collector) proc(rel string) ([]byte, error) {
	return readFile(c.cfg.proc, rel, "/proc/"+rel)
}

// rootFile reads a file of the root filesystem, confined to it.
func (c *collector) rootFile(rel string) ([]byte, error) {
	r, err := c.openRoot()
	if err != nil {
		return nil, err
	}
	file, err := r.Open(rel)
	if err != nil {
		return nil, relabel(err, "/"+rel)
	}
	defer file.Close()
	return readLimited(file, "/"+rel)
}

func (c *collector) openRoot() (*os.Root, error) {
	if c.root == nil && c.rootErr == nil {
		c.root, c.rootErr = os.OpenRoot(c.cfg.root)
	}
	return c.root, c.rootErr
}

func trimValue(data []byte) string {
	return strings.TrimRight(string(bytes.TrimRight(data, "\x00")), " \t\r\n\x00")
}

var (
	cgroupID    = regexp.MustCompile(`[0-9a-f]{64}`)
	mountinfoID = regexp.MustCompile(`/(?:containers|sandboxes|overlay-containers)/([0-9a-f]{64})/`)
)

func (c *collector) container() {
	cgroup, errCgroup := c.proc("self/cgroup")
	if errCgroup == nil {
		for _, line := range strings.Split(string(cgroup), "\n") {
			_, p, _ := strings.Cut(line, ":")
			_, p, _ = strings.Cut(p, ":")
			if ids := cgroupID.FindAllString(p, -1); len(ids) > 0 {
				c.f.Container = Container{ID: ids[len(ids)-1], Source: "cgroup"}
				return
			}
		}
	}
	mountinfo, errMountinfo := c.proc("self/mountinfo")
	if errMountinfo == nil {
		if m := mountinfoID.FindSubmatch(mountinfo); m != nil {
			c.f.Container = Container{ID: string(m[1]), Source: "mountinfo"}
			return
		}
	}
	switch {
	case errCgroup != nil && errMountinfo != nil:
		c.unreadable(FactContainerID, fmt.Errorf("%v; %v", errCgroup, errMountinfo))
	case errCgroup != nil:
		c.unreadable(FactContainerID, fmt.Errorf("%v; no container ID in /proc/self/mountinfo", errCgroup))
	case errMountinfo != nil:
		c.unreadable(FactContainerID, fmt.Errorf("no container ID in /proc/self/cgroup; %v", errMountinfo))
	default:
		c.unreadable(FactContainerID, errors.New("no container ID in /proc/self/cgroup or /proc/self/mountinfo"))
	}
}

func (c *collector) host() {
	if data, err := c.proc("sys/kernel/hostname"); err != nil {
		c.unreadable(FactHostname, err)
	} else {
		c.f.Host.Hostname = trimValue(data)
	}
	var errs []string
	for _, rel := range []string{"etc/machine-id", "var/lib/dbus/machine-id"} {
		data, err := c.rootFile(rel)
		if err == nil && trimValue(data) != "" {
			c.f.Host.MachineID = trimValue(data)
			return
		}
		if err == nil {
			err = fmt.Errorf("/%s is empty", rel)
		}
		errs = append(errs, err.Error())
	}
	c.unreadable(FactMachineID, errors.New(strings.Join(errs, "; ")))
}

func (c *collector) kernel() {
	if data, err := c.proc("sys/kernel/osrelease"); err != nil {
		c.unreadable(FactKernelRelease, err)
	} else {
		c.f.Kernel.Release = trimValue(data)
	}
	if data, err := c.proc("cmdline"); err != nil {
		c.unreadable(FactCommandLine, err)
	} else {
		c.f.Kernel.CommandLine = trimValue(data)
	}
	data, err := c.proc("modules")
	if err != nil {
		c.unreadable(FactModules, err)
		return
	}
	var mods []string
	for _, line := range strings.Split(string(data), "\n") {
		if name, _, _ := strings.Cut(line, " "); name != "" {
			mods = append(mods, name)
		}
	}
	if len(mods) > MaxEntries {
		c.unreadable(FactModules, fmt.Errorf("/proc/modules: more than %d modules", MaxEntries))
		return
	}
	c.f.Kernel.Modules = mods
}

func (c *collector) sysctls() {
	for _, name := range c.cfg.sysctls {
		data, err := c.proc("sys/" + strings.ReplaceAll(name, ".", "/"))
		if err != nil {
			c.unreadable(SysctlFact(name), err)
			continue
		}
		if c.f.Sysctls == nil {
			c.f.Sysctls = map[string]string{}
		}
		c.f.Sysctls[name] = trimValue(data)
	}
}

func (c *collector) osRelease() {
	var errs []string
	for _, rel := range []string{"etc/os-release", "usr/lib/os-release"} {
		data, err := c.rootFile(rel)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		m := ParseOSRelease(data)
		if len(m) > MaxEntries {
			errs = append(errs, fmt.Sprintf("/%s: more than %d keys", rel, MaxEntries))
			continue
		}
		c.f.OSRelease = m
		return
	}
	c.unreadable(FactOSRelease, errors.New(strings.Join(errs, "; ")))
}

// ParseOSRelease reads an os-release file (os-release(5)): KEY=VALUE lines, the value
// optionally in single or double quotes with backslash escapes. Comments, blank lines and
// lines that are not assignments are skipped. An empty file returns nil.
func ParseOSRelease(data []byte) map[string]string {
	var m map[string]string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		key, value, ok := strings.Cut(line, "=")
		if !ok || key == "" || strings.HasPrefix(line, "#") || strings.ContainsAny(key, " \t\"'") {
			continue
		}
		if n := len(value); n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n-1] == value[0] {
			q := value[0]
			value = value[1 : n-1]
			if q == '"' {
				var b strings.Builder
				for i := 0; i < len(value); i++ {
					if value[i] == '\\' && i+1 < len(value) {
						i++
					}
					b.WriteByte(value[i])
				}
				value = b.String()
			}
		}
		if m == nil {
			m = map[string]string{}
		}
		m[key] = value
	}
	return m
}

func (c *collector) packages() {
	namespace := c.f.OSRelease["ID"]
	var found bool
	add := func(fact, logical string, pkgs []Package) {
		if len(c.f.Packages)+len(pkgs) > MaxPackages {
			c.unreadable(fact, fmt.Errorf("%s: more than %d packages in all", logical, MaxPackages))
			return
		}
		for _, p := range pkgs {
			p.PURL = PackageURL(p, namespace)
			c.f.Packages = append(c.f.Packages, p)
		}
		c.f.PackageDatabases = append(c.f.PackageDatabases, logical)
	}
	var dpkgErrs []string
	if pkgs, present, err := c.database("var/lib/dpkg/status", ParseDpkgStatus); present {
		found = true
		if err != nil {
			dpkgErrs = append(dpkgErrs, err.Error())
		} else {
			add(FactPackagesDpkg, "/var/lib/dpkg/status", pkgs)
		}
	}
	if r, err := c.openRoot(); err == nil {
		entries, err := fs.ReadDir(r.FS(), "var/lib/dpkg/status.d")
		switch {
		case err == nil:
			found = true
			sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
			for _, e := range entries {
				if e.IsDir() || strings.HasSuffix(e.Name(), ".md5sums") {
					continue
				}
				rel := path.Join("var/lib/dpkg/status.d", e.Name())
				pkgs, _, err := c.database(rel, ParseDpkgStatus)
				if err != nil {
					dpkgErrs = append(dpkgErrs, err.Error())
					continue
				}
				add(FactPackagesDpkg, "/"+rel, pkgs)
			}
		case !errors.Is(err, fs.ErrNotExist):
			found = true
			dpkgErrs = append(dpkgErrs, relabel(err, "/var/lib/dpkg/status.d").Error())
		}
	}
	if len(dpkgErrs) > 0 {
		c.unreadable(FactPackagesDpkg, errors.New(strings.Join(dpkgErrs, "; ")))
	}
	if pkgs, present, err := c.database("lib/apk/db/installed", ParseAPKInstalled); present {
		found = true
		if err != nil {
			c.unreadable(FactPackagesAPK, err)
		} else {
			add(FactPackagesAPK, "/lib/apk/db/installed", pkgs)
		}
	}
	for _, rel := range []string{"var/lib/rpm/rpmdb.sqlite", "var/lib/rpm/Packages.db", "var/lib/rpm/Packages", "usr/lib/sysimage/rpm/rpmdb.sqlite"} {
		if r, err := c.openRoot(); err == nil {
			if _, err := r.Stat(rel); err == nil {
				found = true
				c.unreadable(FactPackagesRPM, fmt.Errorf("/%s: rpm databases are not read", rel))
				break
			}
		}
	}
	if !found {
		reason := "no package database: none of /var/lib/dpkg/status, /var/lib/dpkg/status.d, /lib/apk/db/installed, /var/lib/rpm"
		if _, err := c.openRoot(); err != nil {
			reason = err.Error()
		}
		c.unreadable(FactPackages, errors.New(reason))
	}
}

// database parses the database at rel of the root filesystem; present is false when it does
// not exist.
func (c *collector) database(rel string, parse func(io.Reader) ([]Package, error)) (pkgs []Package, present bool, err error) {
	r, err := c.openRoot()
	if err != nil {
		return nil, false, nil
	}
	file, err := r.Open(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, relabel(err, "/"+rel)
	}
	defer file.Close()
	pkgs, err = parse(bufio.NewReaderSize(file, 64<<10))
	if err != nil {
		return nil, true, fmt.Errorf("/%s: %w", rel, err)
	}
	return pkgs, true, nil
}

func (c *collector) security() {
	data, err := c.proc("self/status")
	if err != nil {
		for _, fact := range []string{FactCapEff, FactCapPrm, FactCapBnd, FactSeccomp, FactNoNewPrivs} {
			c.unreadable(fact, err)
		}
	} else {
		status := map[string]string{}
		for _, line := range strings.Split(string(data), "\n") {
			if key, value, ok := strings.Cut(line, ":"); ok {
				status[key] = strings.TrimSpace(value)
			}
		}
		for _, cs := range []struct {
			key, fact string
			caps      *Capabilities
		}{{"CapEff", FactCapEff, &c.f.Security.CapEff}, {"CapPrm", FactCapPrm, &c.f.Security.CapPrm}, {"CapBnd", FactCapBnd, &c.f.Security.CapBnd}} {
			hex, ok := status[cs.key]
			if !ok {
				c.unreadable(cs.fact, fmt.Errorf("no %s line in /proc/self/status", cs.key))
				continue
			}
			names, err := CapabilityNames(hex)
			if err != nil {
				c.unreadable(cs.fact, fmt.Errorf("/proc/self/status %s: %v", cs.key, err))
				continue
			}
			*cs.caps = Capabilities{Hex: hex, Names: names}
		}
		switch mode, ok := status["Seccomp"]; {
		case !ok:
			c.unreadable(FactSeccomp, errors.New("no Seccomp line in /proc/self/status"))
		case mode == "0":
			c.f.Security.Seccomp = "disabled"
		case mode == "1":
			c.f.Security.Seccomp = "strict"
		case mode == "2":
			c.f.Security.Seccomp = "filter"
		default:
			c.unreadable(FactSeccomp, fmt.Errorf("/proc/self/status Seccomp: unknown mode %.20q", mode))
		}
		switch v, ok := status["NoNewPrivs"]; {
		case !ok:
			c.unreadable(FactNoNewPrivs, errors.New("no NoNewPrivs line in /proc/self/status"))
		case v == "0" || v == "1":
			c.f.Security.NoNewPrivs = v == "1"
		default:
			c.unreadable(FactNoNewPrivs, fmt.Errorf("/proc/self/status NoNewPrivs: %.20q is not 0 or 1", v))
		}
	}
	if data, err := readFile(c.cfg.sys, "kernel/security/lsm", "/sys/kernel/security/lsm"); err != nil {
		c.unreadable(FactLSMs, err)
	} else {
		for _, name := range strings.Split(trimValue(data), ",") {
			if name != "" {
				c.f.Security.LSMs = append(c.f.Security.LSMs, name)
			}
		}
	}
	if data, err := c.proc("self/attr/current"); err != nil {
		c.unreadable(FactLSMContext, err)
	} else {
		c.f.Security.LSMContext = trimValue(data)
	}
}

func (c *collector) mounts() {
	data, err := c.proc("self/mounts")
	if err != nil {
		c.unreadable(FactMounts, err)
		return
	}
	var mounts []Mount
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 {
			c.unreadable(FactMounts, fmt.Errorf("/proc/self/mounts line %d: %d fields, want at least 4", n+1, len(f)))
			return
		}
		if len(mounts) == MaxEntries {
			c.unreadable(FactMounts, fmt.Errorf("/proc/self/mounts: more than %d mounts", MaxEntries))
			return
		}
		mounts = append(mounts, Mount{Device: unescapeMount(f[0]), MountPoint: unescapeMount(f[1]), FSType: unescapeMount(f[2]), Options: unescapeMount(f[3])})
	}
	c.f.Mounts = mounts
}

// unescapeMount decodes the octal escapes (\040 for a space) of a /proc/self/mounts field.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
