package runtime_test

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance/runtime"
)

func ExampleCollect() {
	image := digest.FromString("registry.example/web:1.4.2") // from the container runtime, never a tag
	facts, err := runtime.Collect(context.Background(), image,
		runtime.WithRoot("testdata/debian"), runtime.WithProc("testdata/proc"), runtime.WithSys("testdata/sys"),
		runtime.WithSysctls("kernel.kptr_restrict", "user.max_user_namespaces"),
		runtime.WithClock(func() time.Time { return time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC) }))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("container", facts.Container.ID[:12], "from", facts.Container.Source)
	fmt.Println("kernel", facts.Kernel.Release, "seccomp", facts.Security.Seccomp, "no_new_privs", facts.Security.NoNewPrivs)
	fmt.Println("kernel.kptr_restrict =", facts.Sysctls["kernel.kptr_restrict"])
	fmt.Println(facts.Packages[1].PURL)
	var unreadable []string
	for fact, reason := range facts.Unreadable {
		unreadable = append(unreadable, fact+": "+reason)
	}
	sort.Strings(unreadable)
	for _, u := range unreadable {
		fmt.Println("unreadable", u)
	}
	// Output:
	// container 3f2a9c1e7b5d from cgroup
	// kernel 6.1.0-28-amd64 seccomp filter no_new_privs true
	// kernel.kptr_restrict = 1
	// pkg:deb/debian/libc6@2.36-9%2Bdeb12u9?arch=amd64
	// unreadable kernel.modules: open /proc/modules: no such file or directory
	// unreadable sysctls.user.max_user_namespaces: open /proc/sys/user/max_user_namespaces: no such file or directory
}

func ExampleParse() {
	facts, err := runtime.Collect(context.Background(), digest.FromString("registry.example/web:1.4.2"),
		runtime.WithRoot("testdata/alpine"), runtime.WithProc("testdata/proc"), runtime.WithSys("testdata/sys"))
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := facts.Statement() // sign it, then attach or keep it
	if err != nil {
		fmt.Println(err)
		return
	}
	// ... after verifying the signed statement:
	read, err := runtime.Parse(st)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.GetPredicateType(), read.Image == facts.Image)
	for _, p := range read.Packages {
		fmt.Println(p.PURL)
	}
	fmt.Println(read.Security.CapEff.Names[:3])

	st.PredicateType = "https://provkit.dev/lifecycle/v1"
	_, err = runtime.Parse(st)
	fmt.Println(err)
	// Output:
	// https://provkit.dev/runtime/v1 true
	// pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64
	// pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64
	// [CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER]
	// runtime: facts predicate: predicate type is "https://provkit.dev/lifecycle/v1", not "https://provkit.dev/runtime/v1"
}
