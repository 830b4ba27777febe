package assemble

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Label keys distill writes. The base-image pair is recorded so scanners
// and update bots know what the image was built on; they cannot be
// overridden by app.labels.
const (
	LabelBaseName      = ocispecs.AnnotationBaseImageName   // org.opencontainers.image.base.name
	LabelBaseDigest    = ocispecs.AnnotationBaseImageDigest // org.opencontainers.image.base.digest
	LabelBuilderName   = "dev.distill.builder.name"
	LabelBuilderDigest = "dev.distill.builder.digest"
	// LabelInterpreter is the language's interpreter in the runtime image
	// (the key keeps its first name: images in the field carry it).
	LabelInterpreter = "dev.distill.python.interpreter"
)

// imageConfig derives the final image config from the runtime image's:
// its environment and history are kept, and distill sets the user, the
// entrypoint, the working directory, the environment, ports and labels.
func (st *Stage) imageConfig(plan Plan, history []string) dockerspec.DockerOCIImage {
	s := st.s
	rt := st.bases.Runtime.Config
	var img dockerspec.DockerOCIImage
	img.Platform = ocispecs.Platform{
		OS:           st.opt.Platform.OS,
		Architecture: st.opt.Platform.Architecture,
		Variant:      st.opt.Platform.Variant,
	}
	img.RootFS = ocispecs.RootFS{Type: "layers"}
	img.History = append([]ocispecs.History{}, rt.History...)
	for _, h := range history {
		img.History = append(img.History, ocispecs.History{CreatedBy: "distill: " + h, Comment: "distill.build"})
	}

	c := &img.Config
	c.User = RuntimeUser
	c.Entrypoint = append([]string{}, s.App.Entrypoint...)
	c.Cmd = nil
	c.WorkingDir = st.Workdir()
	c.StopSignal = rt.Config.StopSignal
	c.Healthcheck = st.healthcheck(plan)

	env := NewEnv(rt.Config.Env)
	plan.Env(env)
	for _, e := range s.App.Env {
		env.Set(e.Name, e.Value)
	}
	c.Env = env.List()

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
	c.Labels[LabelBaseName] = TrimDigest(st.bases.Runtime.Ref)
	c.Labels[LabelBaseDigest] = st.bases.Runtime.Digest.String()
	c.Labels[LabelBuilderName] = TrimDigest(st.bases.Builder.Ref)
	c.Labels[LabelBuilderDigest] = st.bases.Builder.Digest.String()
	if st.pair.Interpreter != "" {
		c.Labels[LabelInterpreter] = st.pair.Interpreter
	}
	return img
}

// healthcheck turns app.healthcheck into an exec-form HEALTHCHECK: the
// runtime has no shell, so Docker's CMD-SHELL form would never run.
func (st *Stage) healthcheck(plan Plan) *dockerspec.HealthcheckConfig {
	h := st.s.App.Healthcheck
	if !h.Set() {
		return nil
	}
	dur := func(v string, def time.Duration) time.Duration {
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil { // validated by spec.Parse
			return def
		}
		return d
	}
	hc := &dockerspec.HealthcheckConfig{
		Interval:    dur(h.Interval, 30*time.Second),
		Timeout:     dur(h.Timeout, 5*time.Second),
		StartPeriod: dur(h.StartPeriod, 0),
		Retries:     h.Retries,
	}
	if hc.Retries == 0 {
		hc.Retries = 3
	}
	if len(h.Command) > 0 {
		hc.Test = append([]string{"CMD"}, h.Command...)
		return hc
	}
	port := h.Port
	if port == 0 && len(st.s.App.Ports) > 0 {
		port = st.s.App.Ports[0]
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + h.HTTP
	// the check's own timeout stays under Docker's, so a hung app is
	// reported as unhealthy by the check rather than killed
	timeout := strconv.FormatFloat(max(hc.Timeout.Seconds()-0.5, 0.5), 'f', -1, 64)
	hc.Test = append([]string{"CMD"}, plan.HealthcheckHTTP(url, timeout)...)
	return hc
}

// Env is an ordered KEY=VALUE list: image env order is kept, so the
// config is the same bytes for the same inputs.
type Env struct{ kv []string }

// NewEnv starts from an image's environment.
func NewEnv(base []string) *Env { return &Env{kv: append([]string{}, base...)} }

// Get returns k's value, or def when unset.
func (e *Env) Get(k, def string) string {
	for _, kv := range e.kv {
		if name, v, _ := strings.Cut(kv, "="); name == k {
			return v
		}
	}
	return def
}

// Set sets k, in place when present.
func (e *Env) Set(k, v string) {
	for i, kv := range e.kv {
		if name, _, _ := strings.Cut(kv, "="); name == k {
			e.kv[i] = k + "=" + v
			return
		}
	}
	e.kv = append(e.kv, k+"="+v)
}

// List is the environment as KEY=VALUE lines.
func (e *Env) List() []string { return e.kv }

// EnvValue is k's value in an image environment, or def.
func EnvValue(env []string, k, def string) string { return NewEnv(env).Get(k, def) }
