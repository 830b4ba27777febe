package llb

import (
	"fmt"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Label keys distill writes. The base-image pair is recorded so scanners
// and update bots know what the image was built on; they cannot be
// overridden by app.labels.
const (
	LabelBaseName      = ocispecs.AnnotationBaseImageName   // org.opencontainers.image.base.name
	LabelBaseDigest    = ocispecs.AnnotationBaseImageDigest // org.opencontainers.image.base.digest
	LabelBuilderName   = "dev.distill.builder.name"
	LabelBuilderDigest = "dev.distill.builder.digest"
	LabelPython        = "dev.distill.python.interpreter"
)

// imageConfig derives the final image config from the runtime image's:
// its environment and history are kept, and distill sets the user, the
// entrypoint, the working directory, the environment, ports and labels.
func (b *builder) imageConfig() dockerspec.DockerOCIImage {
	s := b.s
	rt := b.bases.Runtime.Config
	var img dockerspec.DockerOCIImage
	img.Platform = ocispecs.Platform{
		OS:           b.opt.Platform.OS,
		Architecture: b.opt.Platform.Architecture,
		Variant:      b.opt.Platform.Variant,
	}
	img.RootFS = ocispecs.RootFS{Type: "layers"}
	img.History = append([]ocispecs.History{}, rt.History...)
	steps := []string{"copy venv " + VenvDir, "copy app " + b.workdir()}
	if len(s.App.RuntimePackages) > 0 {
		steps = append([]string{"add runtime packages " + strings.Join(s.App.RuntimePackages, " ")}, steps...)
	}
	if len(b.opt.Deps.Projects) > 0 && len(s.Build.Commands) == 0 {
		steps = append(steps[:len(steps)-1], "install project "+b.opt.Deps.projectNames(), steps[len(steps)-1])
	}
	for _, h := range steps {
		img.History = append(img.History, ocispecs.History{CreatedBy: "distill: " + h, Comment: "distill.build"})
	}

	c := &img.Config
	c.User = RuntimeUser
	c.Entrypoint = append([]string{}, s.App.Entrypoint...)
	c.Cmd = nil
	c.WorkingDir = b.workdir()
	c.StopSignal = rt.Config.StopSignal
	c.Healthcheck = b.healthcheck()

	env := newEnvList(rt.Config.Env)
	env.set("PATH", VenvDir+"/bin:"+env.get("PATH", defaultPath))
	env.set("VIRTUAL_ENV", VenvDir)
	env.set("PYTHONUNBUFFERED", "1")
	env.set("PYTHONDONTWRITEBYTECODE", "1")
	for _, e := range s.App.Env {
		env.set(e.Name, e.Value)
	}
	c.Env = env.list()

	if len(s.App.Ports) > 0 {
		c.ExposedPorts = map[string]struct{}{}
		for _, p := range s.App.Ports {
			c.ExposedPorts[fmt.Sprintf("%d/tcp", p)] = struct{}{}
		}
	}

	c.Labels = map[string]string{}
	for k, v := range rt.Config.Labels {
		c.Labels[k] = v
	}
	c.Labels[ocispecs.AnnotationTitle] = s.Name
	for _, l := range s.App.Labels {
		c.Labels[l.Key] = l.Value
	}
	c.Labels[LabelBaseName] = trimDigest(b.bases.Runtime.Ref)
	c.Labels[LabelBaseDigest] = b.bases.Runtime.Digest.String()
	c.Labels[LabelBuilderName] = trimDigest(b.bases.Builder.Ref)
	c.Labels[LabelBuilderDigest] = b.bases.Builder.Digest.String()
	c.Labels[LabelPython] = b.pair.RuntimePython
	return img
}

func trimDigest(ref string) string {
	if at := strings.Index(ref, "@"); at >= 0 {
		return ref[:at]
	}
	return ref
}

// envList is an ordered KEY=VALUE list: image env order is kept, so the
// config is the same bytes for the same inputs.
type envList struct{ kv []string }

func newEnvList(base []string) *envList { return &envList{kv: append([]string{}, base...)} }

func (e *envList) get(k, def string) string {
	for _, kv := range e.kv {
		if name, v, _ := strings.Cut(kv, "="); name == k {
			return v
		}
	}
	return def
}

func (e *envList) set(k, v string) {
	for i, kv := range e.kv {
		if name, _, _ := strings.Cut(kv, "="); name == k {
			e.kv[i] = k + "=" + v
			return
		}
	}
	e.kv = append(e.kv, k+"="+v)
}

func (e *envList) list() []string { return e.kv }

func envValue(env []string, k, def string) string { return newEnvList(env).get(k, def) }
