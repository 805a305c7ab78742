package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance/runtime"
)

var (
	image = digest.FromString("registry.example/web:1.4.2")
	at    = time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)
)

const containerID = "3f2a9c1e7b5d4a6c8e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"

// collectFixture collects the Debian fixture of testdata.
func collectFixture(t testing.TB, opts ...runtime.Option) *runtime.Facts {
	t.Helper()
	opts = append([]runtime.Option{runtime.WithRoot("testdata/debian"), runtime.WithProc("testdata/proc"),
		runtime.WithSys("testdata/sys"), runtime.WithClock(func() time.Time { return at })}, opts...)
	f, err := runtime.Collect(context.Background(), image, opts...)
	require.NoError(t, err)
	return f
}

func TestCollectFixture(t *testing.T) {
	f := collectFixture(t)
	dockerCaps := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
		"CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD",
		"CAP_AUDIT_WRITE", "CAP_SETFCAP"}
	want := &runtime.Facts{
		Image:       image,
		CollectedAt: at,
		Container:   runtime.Container{ID: containerID, Source: "cgroup"},
		Host:        runtime.Host{Hostname: "web-7d4b9", MachineID: "5c7e3f0a1b2d4c6e8f9a0b1c2d3e4f50"},
		Kernel: runtime.Kernel{Release: "6.1.0-28-amd64",
			CommandLine: "BOOT_IMAGE=/boot/vmlinuz-6.1.0-28-amd64 root=UUID=0b3c ro quiet"},
		Sysctls: map[string]string{
			"fs.protected_hardlinks": "1", "fs.protected_symlinks": "1", "fs.suid_dumpable": "0",
			"kernel.dmesg_restrict": "1", "kernel.kexec_load_disabled": "0", "kernel.kptr_restrict": "1",
			"kernel.perf_event_paranoid": "3", "kernel.randomize_va_space": "2",
			"kernel.unprivileged_bpf_disabled": "2", "kernel.yama.ptrace_scope": "1", "net.ipv4.ip_forward": "0",
		},
		OSRelease: map[string]string{"PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "NAME": "Debian GNU/Linux",
			"VERSION_ID": "12", "VERSION": "12 (bookworm)", "VERSION_CODENAME": "bookworm", "ID": "debian",
			"HOME_URL": "https://www.debian.org/"},
		PackageDatabases: []string{"/var/lib/dpkg/status", "/var/lib/dpkg/status.d/tzdata"},
		Packages: []runtime.Package{
			{Name: "base-files", Version: "12.4+deb12u8", Architecture: "amd64", Database: "dpkg",
				PURL: "pkg:deb/debian/base-files@12.4%2Bdeb12u8?arch=amd64"},
			{Name: "libc6", Version: "2.36-9+deb12u9", Architecture: "amd64", Database: "dpkg",
				PURL: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u9?arch=amd64"},
			{Name: "perl-base", Version: "1:5.36.0-7+deb12u1", Architecture: "amd64", Database: "dpkg",
				PURL: "pkg:deb/debian/perl-base@1:5.36.0-7%2Bdeb12u1?arch=amd64"},
			{Name: "tzdata", Version: "2024a-0+deb12u1", Architecture: "all", Database: "dpkg",
				PURL: "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all"},
		},
		Security: runtime.Security{
			CapEff:     runtime.Capabilities{Hex: "00000000a80425fb", Names: dockerCaps},
			CapPrm:     runtime.Capabilities{Hex: "00000000a80425fb", Names: dockerCaps},
			CapBnd:     runtime.Capabilities{Hex: "00000000a80425fb", Names: dockerCaps},
			Seccomp:    "filter",
			NoNewPrivs: true,
			LSMs:       []string{"lockdown", "capability", "landlock", "yama", "apparmor"},
			LSMContext: "docker-default (enforce)",
		},
		Mounts: []runtime.Mount{
			{Device: "overlay", MountPoint: "/", FSType: "overlay", Options: "rw,relatime,lowerdir=/var/lib/docker/overlay2/l/ABC"},
			{Device: "proc", MountPoint: "/proc", FSType: "proc", Options: "rw,nosuid,nodev,noexec,relatime"},
			{Device: "/dev/vda1", MountPoint: "/srv/my data", FSType: "ext4", Options: "ro,relatime"},
		},
		Unreadable: map[string]string{
			runtime.FactModules:                            "open /proc/modules: no such file or directory",
			runtime.SysctlFact("user.max_user_namespaces"): "open /proc/sys/user/max_user_namespaces: no such file or directory",
		},
	}
	require.Equal(t, want, f)
	require.NoError(t, f.Validate())
}

func TestCollectMissingModulesIsUnreadable(t *testing.T) {
	f := collectFixture(t)
	require.Nil(t, f.Kernel.Modules)
	require.Equal(t, "open /proc/modules: no such file or directory", f.Unreadable[runtime.FactModules])
}

// copyTree copies the folder src into a new temporary folder and returns it.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	require.NoError(t, os.CopyFS(dst, os.DirFS(src)))
	return dst
}

func TestCollectModulesAndSysctls(t *testing.T) {
	proc := copyTree(t, "testdata/proc")
	require.NoError(t, os.WriteFile(filepath.Join(proc, "modules"), []byte(
		"overlay 151552 12 - Live 0x0000000000000000\nbr_netfilter 32768 0 - Live 0x0000000000000000\n"), 0o644))
	f := collectFixture(t, runtime.WithProc(proc), runtime.WithSysctls("kernel.kptr_restrict", "net.ipv4.ip_forward", "kernel.missing"))
	require.Equal(t, []string{"overlay", "br_netfilter"}, f.Kernel.Modules)
	require.Equal(t, map[string]string{"kernel.kptr_restrict": "1", "net.ipv4.ip_forward": "0"}, f.Sysctls)
	require.Equal(t, map[string]string{
		runtime.SysctlFact("kernel.missing"): "open /proc/sys/kernel/missing: no such file or directory",
	}, f.Unreadable)
}

func TestCollectAlpine(t *testing.T) {
	f := collectFixture(t, runtime.WithRoot("testdata/alpine"))
	require.Equal(t, []runtime.Package{
		{Name: "musl", Version: "1.2.5-r0", Architecture: "x86_64", Database: "apk", PURL: "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64"},
		{Name: "busybox", Version: "1.36.1-r29", Architecture: "x86_64", Database: "apk", PURL: "pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64"},
	}, f.Packages)
	require.Equal(t, []string{"/lib/apk/db/installed"}, f.PackageDatabases)
	require.Equal(t, "open /etc/machine-id: no such file or directory; open /var/lib/dbus/machine-id: no such file or directory",
		f.Unreadable[runtime.FactMachineID])
}

func TestCollectMarksWhatIsMissing(t *testing.T) {
	root, proc := t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "var/lib/rpm"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite"), []byte("SQLite format 3\x00"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(proc, "self"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(proc, "self/cgroup"), []byte("0::/\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(proc, "self/mountinfo"), []byte("21 26 0:20 / /proc rw - proc proc rw\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(proc, "self/status"), []byte("CapEff:\t0000000000000000\nSeccomp:\t0\n"), 0o644))

	f, err := runtime.Collect(context.Background(), image, runtime.WithRoot(root), runtime.WithProc(proc),
		runtime.WithSys(t.TempDir()), runtime.WithSysctls(), runtime.WithClock(func() time.Time { return at }))
	require.NoError(t, err)
	require.Equal(t, runtime.Security{Seccomp: "disabled", CapEff: runtime.Capabilities{Hex: "0000000000000000"}}, f.Security)
	require.Empty(t, f.Packages)
	require.Equal(t, map[string]string{
		runtime.FactContainerID:   "no container ID in /proc/self/cgroup or /proc/self/mountinfo",
		runtime.FactHostname:      "open /proc/sys/kernel/hostname: no such file or directory",
		runtime.FactMachineID:     "open /etc/machine-id: no such file or directory; open /var/lib/dbus/machine-id: no such file or directory",
		runtime.FactKernelRelease: "open /proc/sys/kernel/osrelease: no such file or directory",
		runtime.FactCommandLine:   "open /proc/cmdline: no such file or directory",
		runtime.FactModules:       "open /proc/modules: no such file or directory",
		runtime.FactOSRelease:     "open /etc/os-release: no such file or directory; open /usr/lib/os-release: no such file or directory",
		runtime.FactPackagesRPM:   "/var/lib/rpm/rpmdb.sqlite: rpm databases are not read",
		runtime.FactCapPrm:        "no CapPrm line in /proc/self/status",
		runtime.FactCapBnd:        "no CapBnd line in /proc/self/status",
		runtime.FactNoNewPrivs:    "no NoNewPrivs line in /proc/self/status",
		runtime.FactLSMs:          "open /sys/kernel/security/lsm: no such file or directory",
		runtime.FactLSMContext:    "open /proc/self/attr/current: no such file or directory",
		runtime.FactMounts:        "open /proc/self/mounts: no such file or directory",
	}, f.Unreadable)
	_, err = f.Statement()
	require.NoError(t, err)
}

func TestCollectNoPackageDatabase(t *testing.T) {
	f := collectFixture(t, runtime.WithRoot(t.TempDir()))
	require.Equal(t, "no package database: none of /var/lib/dpkg/status, /var/lib/dpkg/status.d, /lib/apk/db/installed, /var/lib/rpm",
		f.Unreadable[runtime.FactPackages])
}

func TestCollectMountinfoContainerID(t *testing.T) {
	proc := copyTree(t, "testdata/proc")
	require.NoError(t, os.WriteFile(filepath.Join(proc, "self/cgroup"), []byte("0::/\n"), 0o644))
	f := collectFixture(t, runtime.WithProc(proc))
	require.Equal(t, runtime.Container{ID: containerID, Source: "mountinfo"}, f.Container)
	require.NotContains(t, f.Unreadable, runtime.FactContainerID)
}

func TestCollectMalformedDatabaseIsUnreadable(t *testing.T) {
	root := copyTree(t, "testdata/debian")
	require.NoError(t, os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), []byte("Package: a\nnot a field\n"), 0o644))
	f := collectFixture(t, runtime.WithRoot(root))
	require.Equal(t, `/var/lib/dpkg/status: runtime: dpkg database line 2: "not a field" is not a field`, f.Unreadable[runtime.FactPackagesDpkg])
	require.Equal(t, []string{"/var/lib/dpkg/status.d/tzdata"}, f.PackageDatabases, "the status.d files are still read")
}

// TestCollectRealMachine reads this machine: its dpkg database, and marks what it cannot read.
func TestCollectRealMachine(t *testing.T) {
	if _, err := os.Stat("/var/lib/dpkg/status"); err != nil {
		t.Skip("no dpkg database on this machine:", err)
	}
	f, err := runtime.Collect(context.Background(), image)
	require.NoError(t, err)
	require.Greater(t, len(f.Packages), 100)
	require.Contains(t, f.PackageDatabases, "/var/lib/dpkg/status")
	for _, p := range f.Packages {
		require.Equal(t, runtime.DatabaseDpkg, p.Database)
		require.NotEmpty(t, p.Name)
		require.NotEmpty(t, p.Version, p.Name)
	}
	require.NotEmpty(t, f.Kernel.Release)
	require.NotEmpty(t, f.Mounts)
	require.NotEmpty(t, f.Security.CapBnd.Hex)
	require.NotEmpty(t, f.OSRelease["ID"])
	require.WithinDuration(t, time.Now(), f.CollectedAt, time.Minute)
	for _, fact := range []string{runtime.FactModules, runtime.FactLSMs} {
		if _, err := os.Stat(map[string]string{runtime.FactModules: "/proc/modules", runtime.FactLSMs: "/sys/kernel/security/lsm"}[fact]); err != nil {
			require.Contains(t, f.Unreadable, fact)
		}
	}
	st, err := f.Statement()
	require.NoError(t, err)
	back, err := runtime.Parse(st)
	require.NoError(t, err)
	require.Equal(t, f, back)
	t.Logf("%d packages; unreadable: %v", len(f.Packages), f.Unreadable)
}

func TestCollectBadInput(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		image digest.Digest
		opts  []runtime.Option
		is    error
	}{
		{"no image", context.Background(), "", nil, runtime.ErrInvalidFacts},
		{"a tag, not a digest", context.Background(), "registry.example/web:1.4.2", nil, runtime.ErrInvalidFacts},
		{"weak digest", context.Background(), digest.Digest("md5:d41d8cd98f00b204e9800998ecf8427e"), nil, runtime.ErrInvalidFacts},
		{"upper-case digest", context.Background(), digest.Digest("sha256:" + "AB" + image.Encoded()[2:]), nil, runtime.ErrInvalidFacts},
		{"canceled", canceled, image, nil, context.Canceled},
		{"bad sysctl", context.Background(), image, []runtime.Option{runtime.WithSysctls("../../etc/shadow")}, runtime.ErrInvalidOption},
		{"empty root", context.Background(), image, []runtime.Option{runtime.WithRoot("")}, runtime.ErrInvalidOption},
		{"nil clock", context.Background(), image, []runtime.Option{runtime.WithClock(nil)}, runtime.ErrInvalidOption},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := runtime.Collect(tc.ctx, tc.image, tc.opts...)
			require.ErrorIs(t, err, tc.is)
			require.Nil(t, f)
			if tc.is == runtime.ErrInvalidFacts {
				var fe *runtime.FieldError
				require.ErrorAs(t, err, &fe)
				require.Equal(t, "image", fe.Field)
			}
		})
	}
}

func TestCollectRootSymlinkStaysInside(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	require.NoError(t, os.Symlink("/etc/os-release", filepath.Join(root, "etc/os-release")))
	f := collectFixture(t, runtime.WithRoot(root))
	require.Nil(t, f.OSRelease)
	require.Contains(t, f.Unreadable[runtime.FactOSRelease], "/etc/os-release")
}
