package diff

import (
	"strconv"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Images returns what differs between two images, indexes or artifacts, field by field, sorted
// by Field. Identical images give nil. The fields are:
//
//   - digest and mediaType: of the descriptor that was read (the media type falls back to the
//     document's own mediaType field);
//   - for a manifest: artifactType; configDescriptor.digest and configDescriptor.mediaType;
//     layers[i], the digest of the i-th layer, compared by position (a longer list shows
//     Added layers, a shorter one Removed layers), with layers[i].mediaType when both sides
//     have the layer and its media type differs, and layers[i].annotations.KEY, one per layer
//     annotation (such as the file name, org.opencontainers.image.title, of an artifact's
//     layer); subject, the digest a referrer points to; and annotations.KEY, one per manifest
//     annotation;
//   - for an image configuration: created, author, os, architecture, variant, os.version;
//     config.user, config.workingDir, config.stopSignal; config.entrypoint and config.cmd, each
//     the JSON array as one value; config.env.NAME, one per variable, parsed from NAME=VALUE
//     (a later duplicate wins, as in a container runtime); config.labels.KEY,
//     config.exposedPorts.PORT and config.volumes.PATH; rootfs.type and rootfs.diffIDs[i];
//   - for an index: artifactType, subject, annotations.KEY, and manifests[PLATFORM], the
//     digest of the child manifest for the platform "os/architecture[/variant]". A child
//     without a platform is keyed by its digest; a platform listed more than once gets its
//     occurrence appended from the second on: "manifests[unknown/unknown#2]".
//
// Values are strings as the documents hold them. Exposed ports and volumes have no value: an
// Added or Removed change says all there is. Images reads only the documents in Image; it does
// no I/O and never fails.
func Images(baseline, current Image) []Change {
	b, bl := flattenImage(&baseline)
	c, cl := flattenImage(&current)
	changes := compare(b, c, nil)
	for i := range min(len(bl), len(cl)) {
		if bl[i] != cl[i] {
			changes = append(changes, Change{Field: "layers[" + strconv.Itoa(i) + "].mediaType", Kind: Changed, Baseline: bl[i], Current: cl[i]})
		}
	}
	return sorted(changes)
}

// flattenImage returns the fields of img and the media types of its layers.
func flattenImage(img *Image) (fields, []string) {
	size := 16
	if m := img.Manifest; m != nil {
		size += len(m.Layers) + len(m.Annotations)
		for _, l := range m.Layers {
			size += len(l.Annotations)
		}
	}
	if x := img.Index; x != nil {
		size += len(x.Manifests) + len(x.Annotations)
	}
	if c := img.Config; c != nil {
		size += len(c.Config.Env) + len(c.Config.Labels) + len(c.Config.ExposedPorts) + len(c.Config.Volumes) + len(c.RootFS.DiffIDs)
	}
	f := make(fields, size)
	set := func(k, v string) {
		if v != "" {
			f[k] = v
		}
	}
	set("digest", img.Descriptor.Digest.String())
	mediaType := img.Descriptor.MediaType
	var layerTypes []string
	if m := img.Manifest; m != nil {
		if mediaType == "" {
			mediaType = m.MediaType
		}
		set("artifactType", m.ArtifactType)
		set("configDescriptor.digest", m.Config.Digest.String())
		set("configDescriptor.mediaType", m.Config.MediaType)
		layerTypes = make([]string, len(m.Layers))
		for i, l := range m.Layers {
			field := "layers[" + strconv.Itoa(i) + "]"
			f[field] = l.Digest.String()
			layerTypes[i] = l.MediaType
			for k, v := range l.Annotations {
				set(field+".annotations."+k, v)
			}
		}
		if m.Subject != nil {
			set("subject", m.Subject.Digest.String())
		}
		annotations(f, m.Annotations)
	}
	if x := img.Index; x != nil {
		if mediaType == "" {
			mediaType = x.MediaType
		}
		set("artifactType", x.ArtifactType)
		if x.Subject != nil {
			set("subject", x.Subject.Digest.String())
		}
		annotations(f, x.Annotations)
		seen := map[string]int{}
		for _, d := range x.Manifests {
			key := d.Digest.String()
			if p := d.Platform; p != nil {
				key = platform(p)
			}
			seen[key]++
			if n := seen[key]; n > 1 {
				key += "#" + strconv.Itoa(n)
			}
			f["manifests["+key+"]"] = d.Digest.String()
		}
	}
	set("mediaType", mediaType)
	if c := img.Config; c != nil {
		flattenConfig(f, c)
	}
	return f, layerTypes
}

func annotations(f fields, a map[string]string) {
	for k, v := range a {
		f["annotations."+k] = v
	}
}

func platform(p *ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

func flattenConfig(f fields, c *ocispec.Image) {
	set := func(k, v string) {
		if v != "" {
			f[k] = v
		}
	}
	if c.Created != nil {
		set("created", c.Created.UTC().Format(time.RFC3339Nano))
	}
	set("author", c.Author)
	set("os", c.OS)
	set("architecture", c.Architecture)
	set("variant", c.Variant)
	set("os.version", c.OSVersion)
	cfg := &c.Config
	set("config.user", cfg.User)
	set("config.workingDir", cfg.WorkingDir)
	set("config.stopSignal", cfg.StopSignal)
	if cfg.Entrypoint != nil {
		f["config.entrypoint"] = jsonValue(cfg.Entrypoint)
	}
	if cfg.Cmd != nil {
		f["config.cmd"] = jsonValue(cfg.Cmd)
	}
	for _, kv := range cfg.Env {
		name, value, _ := strings.Cut(kv, "=")
		f["config.env."+name] = value
	}
	for k, v := range cfg.Labels {
		f["config.labels."+k] = v
	}
	for p := range cfg.ExposedPorts {
		f["config.exposedPorts."+p] = ""
	}
	for p := range cfg.Volumes {
		f["config.volumes."+p] = ""
	}
	set("rootfs.type", c.RootFS.Type)
	for i, d := range c.RootFS.DiffIDs {
		f["rootfs.diffIDs["+strconv.Itoa(i)+"]"] = d.String()
	}
}
