package admission

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// container is one container of the object under review, and its image.
type container struct {
	// Path locates it, as "spec.template.spec.initContainers[0]" with its name.
	Path  string
	Image string
}

// podSpecOf returns the pod spec of the object in req and the path of that spec, or nil
// when req's kind carries none. ok is false for a kind the handler does not read.
func podSpecOf(req *admissionv1.AdmissionRequest) (spec *corev1.PodSpec, path string, ok bool, err error) {
	kind := req.Kind
	decode := func(v any) error {
		dec := json.NewDecoder(bytes.NewReader(req.Object.Raw))
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("decode %s %s/%s: %w", kind.Kind, kind.Group, kind.Version, err)
		}
		if dec.More() {
			return fmt.Errorf("decode %s: data after the object", kind.Kind)
		}
		return nil
	}
	switch {
	case kind.Group == "" && kind.Version == "v1" && kind.Kind == "Pod":
		var o corev1.Pod
		err = decode(&o)
		return &o.Spec, "spec", true, err
	case kind.Group == "apps" && kind.Version == "v1":
		switch kind.Kind {
		case "Deployment":
			var o appsv1.Deployment
			err = decode(&o)
			return &o.Spec.Template.Spec, "spec.template.spec", true, err
		case "ReplicaSet":
			var o appsv1.ReplicaSet
			err = decode(&o)
			return &o.Spec.Template.Spec, "spec.template.spec", true, err
		case "StatefulSet":
			var o appsv1.StatefulSet
			err = decode(&o)
			return &o.Spec.Template.Spec, "spec.template.spec", true, err
		case "DaemonSet":
			var o appsv1.DaemonSet
			err = decode(&o)
			return &o.Spec.Template.Spec, "spec.template.spec", true, err
		}
	case kind.Group == "batch" && kind.Version == "v1":
		switch kind.Kind {
		case "Job":
			var o batchv1.Job
			err = decode(&o)
			return &o.Spec.Template.Spec, "spec.template.spec", true, err
		case "CronJob":
			var o batchv1.CronJob
			err = decode(&o)
			return &o.Spec.JobTemplate.Spec.Template.Spec, "spec.jobTemplate.spec.template.spec", true, err
		}
	}
	return nil, "", false, nil
}

// containers lists every container of spec, with its path below at.
func containers(spec *corev1.PodSpec, at string) []container {
	var out []container
	add := func(field string, i int, name, image string) {
		out = append(out, container{Path: fmt.Sprintf("%s.%s[%d] %q", at, field, i, name), Image: image})
	}
	for i, c := range spec.InitContainers {
		add("initContainers", i, c.Name, c.Image)
	}
	for i, c := range spec.Containers {
		add("containers", i, c.Name, c.Image)
	}
	for i, c := range spec.EphemeralContainers {
		add("ephemeralContainers", i, c.Name, c.Image)
	}
	return out
}

// normalize writes image as Docker and the kubelet read it: a first path component that is no
// host ("nginx", "team/app") is on docker.io, and a single-component name is under library/.
// A reference with neither tag nor digest names the tag "latest".
func normalize(image string) string {
	// A tag and a digest follow the last "/"; a ":" before it is a port.
	slash := strings.LastIndexByte(image, '/')
	name, rest := image, ""
	if i := strings.IndexAny(image[slash+1:], ":@"); i >= 0 {
		name, rest = image[:slash+1+i], image[slash+1+i:]
	}
	first, _, hasSlash := strings.Cut(name, "/")
	if !hasSlash || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		if !hasSlash {
			name = "library/" + name
		}
		name = "docker.io/" + name
	}
	if rest == "" {
		rest = ":latest"
	}
	return name + rest
}
