package gatewaytest

import (
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Images is the table of base images the fake registry serves: the
// examples' pair, with configs shaped like the real images' and the files
// that reading their Python needs. The digests are made up.
var Images = []Image{
	{
		Ref:    "docker.io/library/python:3.13-slim-trixie",
		Digest: digest.FromString("gatewaytest python:3.13-slim-trixie"),
		Config: config("", "", []string{
			"PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"LANG=C.UTF-8",
			"PYTHON_VERSION=3.13.5",
		}, []string{"python3"}),
		Files: map[string]File{
			"/usr/local/bin/python3.13": {Data: "\x7fELF"},
			"/usr/local/bin/python3":    {Link: "python3.13"},
			"/usr/local/bin/python":     {Link: "python3"},
		},
	},
	{
		Ref:    "gcr.io/distroless/python3-debian13:nonroot",
		Digest: digest.FromString("gatewaytest distroless/python3-debian13:nonroot"),
		Config: config("65532", "/home/nonroot", []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
			"LANG=C.UTF-8",
		}, nil, "/usr/bin/python3.13"),
		Files: map[string]File{
			"/usr/bin/python3.13": {Data: "\x7fELF"},
			"/usr/bin/python3":    {Link: "python3.13"},
		},
	},
}

func config(user, workdir string, env, cmd []string, entrypoint ...string) dockerspec.DockerOCIImage {
	var img dockerspec.DockerOCIImage
	img.Platform = ocispecs.Platform{OS: Platform.OS, Architecture: Platform.Architecture}
	img.RootFS = ocispecs.RootFS{Type: "layers"}
	img.Config.User = user
	img.Config.WorkingDir = workdir
	img.Config.Env = env
	img.Config.Cmd = cmd
	img.Config.Entrypoint = entrypoint
	return img
}
