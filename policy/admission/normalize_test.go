package admission

import "testing"

func TestNormalize(t *testing.T) {
	const d = "@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	for in, want := range map[string]string{
		"nginx":                          "docker.io/library/nginx:latest",
		"nginx:1.27":                     "docker.io/library/nginx:1.27",
		"nginx" + d:                      "docker.io/library/nginx" + d,
		"team/app:v1":                    "docker.io/team/app:v1",
		"ghcr.io/team/app":               "ghcr.io/team/app:latest",
		"localhost/app:v1":               "localhost/app:v1",
		"127.0.0.1:5000/team/app:v1" + d: "127.0.0.1:5000/team/app:v1" + d,
		"registry:5000/app":              "registry:5000/app:latest",
	} {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
}
