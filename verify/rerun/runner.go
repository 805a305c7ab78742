package rerun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Runner executes a step's command inside its unpacked image. Plug a container runtime in
// with WithRunner; the default, Chroot, changes the root directory of the command to the
// image. Implementations must return an *exec.ExitError (or an error wrapping one) for a
// command that ran and failed, and another error when the command could not be started.
type Runner interface {
	// Run runs c and returns when it has exited or ctx is done.
	Run(ctx context.Context, c *Command) error
}

// RunnerFunc is a function that is a Runner.
type RunnerFunc func(ctx context.Context, c *Command) error

// Run calls f.
func (f RunnerFunc) Run(ctx context.Context, c *Command) error { return f(ctx, c) }

// Command is one run of a step's command, as a Runner receives it.
type Command struct {
	// Root is the folder holding the unpacked image: the command's root directory.
	Root string
	// Dir is the working directory as the command sees it, inside Root: "/work". On the host it
	// is filepath.Join(Root, Dir), holding the step's inputs under their recorded names.
	Dir string
	// Args is the recorded command line, program first.
	Args []string
	// Env is the environment: the image configuration's, then the recorded variables, which
	// win; PATH is the usual default when neither sets it.
	Env []string
	// User is the image configuration's user ("uid[:gid]", a name, or "" for root).
	User string
	// Stdout and Stderr receive the command's output.
	Stdout, Stderr io.Writer
}

// defaultPath is the PATH of a command whose image and record set none, as container runtimes
// default it.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// geteuid is os.Geteuid; tests replace it.
var geteuid = os.Geteuid

// Chroot returns the default Runner: it runs the command with its root directory changed to
// Command.Root (chroot(2)) and its working directory Command.Dir, as the image
// configuration's user when that is numeric ("uid" or "uid:gid", else root), with nothing but
// Command.Env in its environment. The program is found in the image: a name without a slash is
// looked up along the PATH of Command.Env inside Root, following symbolic links only within
// Root. Changing the root directory needs root privileges: without them Run fails at once with
// a *RunnerError wrapping ErrRunner. A chroot is not a sandbox: the command shares the host's
// network, processes and kernel, and a command running as root can leave the chroot. Re-run
// only steps whose record you verified and whose signer you trust, or plug in a container
// runtime. The runner is safe for concurrent use.
func Chroot() Runner { return chrootRunner{} }

type chrootRunner struct{}

func (chrootRunner) Run(ctx context.Context, c *Command) error {
	if uid := geteuid(); uid != 0 {
		return &RunnerError{Runner: "chroot", Reason: fmt.Sprintf("changing the root directory needs root privileges (effective uid %d); run as root or give a container runtime with WithRunner", uid)}
	}
	if len(c.Args) == 0 {
		return &RunnerError{Runner: "chroot", Reason: "no command"}
	}
	program, err := lookPath(c.Root, c.Args[0], c.Dir, c.Env)
	if err != nil {
		return &RunnerError{Runner: "chroot", Reason: err.Error()}
	}
	attr := &syscall.SysProcAttr{Chroot: c.Root}
	if cred, err := credential(c.User); err != nil {
		return &RunnerError{Runner: "chroot", Reason: err.Error()}
	} else if cred != nil {
		attr.Credential = cred
	}
	cmd := exec.CommandContext(ctx, program)
	cmd.Path = program // inside the root: not looked up on the host
	cmd.Args = c.Args
	cmd.Env = c.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = c.Dir
	cmd.Stdout, cmd.Stderr = c.Stdout, c.Stderr
	cmd.SysProcAttr = attr
	cmd.WaitDelay = 5 * time.Second // then its output pipes are closed, should a child keep them
	return cmd.Run()
}

// credential reads a numeric image user, "uid" or "uid:gid"; root and "" need none.
func credential(user string) (*syscall.Credential, error) {
	if user == "" || user == "root" || user == "0" || user == "0:0" {
		return nil, nil
	}
	u, g, hasGroup := strings.Cut(user, ":")
	uid, err := strconv.ParseUint(u, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("image user %q is not numeric (uid[:gid]); the chroot runner does not read the image's user database", user)
	}
	gid := uid
	if hasGroup {
		if gid, err = strconv.ParseUint(g, 10, 32); err != nil {
			return nil, fmt.Errorf("image group %q is not numeric", g)
		}
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// lookPath finds the program of a command inside root: a path with a slash as given (relative
// to dir), a name along PATH; it must resolve, within root, to an executable regular file.
func lookPath(root, name, dir string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !path.IsAbs(p) {
			p = path.Join(dir, p)
		}
		if err := executable(root, p); err != nil {
			return "", fmt.Errorf("program %q: %v", name, err)
		}
		return p, nil
	}
	search := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			search = v
		}
	}
	for _, d := range strings.Split(search, ":") {
		if !path.IsAbs(d) {
			continue
		}
		p := path.Join(d, name)
		if executable(root, p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("program %q is not in the image along PATH %s", name, search)
}

// executable checks that p, an absolute path inside root, resolves within root to an
// executable regular file.
func executable(root, p string) error {
	real, err := resolveInRoot(root, p)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(real)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// resolveInRoot follows the symbolic links of p, an absolute path inside root, as the kernel
// would after chroot, and returns the host path it leads to.
func resolveInRoot(root, p string) (string, error) {
	todo := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
	done := "/"
	for hops := 0; len(todo) > 0; {
		el := todo[0]
		todo = todo[1:]
		switch el {
		case "", ".":
			continue
		case "..":
			done = path.Dir(done)
			continue
		}
		next := path.Join(done, el)
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(next)))
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = next
			continue
		}
		if hops++; hops > 40 {
			return "", errors.New("too many symbolic links")
		}
		target, err := os.Readlink(filepath.Join(root, filepath.FromSlash(next)))
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			done = "/"
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return filepath.Join(root, filepath.FromSlash(done)), nil
}
