// Package imagetest holds what the end-to-end tests and `make demo` need to
// judge an image distill really built: it loads the OCI image-layout tarball
// that BuildKit exports (`--output type=oci,dest=x.tar`), exposes its
// manifest, config, history and every layer entry, searches every blob for
// leaked bytes, checks the invariants of DESIGN.md ("Invariants every built
// image must satisfy") on the real output, unpacks the layers into a rootfs and
// runs it with runc as the image's configured user on the host loopback.
//
// It deliberately reads the tarball with archive/tar and the OCI image-spec
// types instead of a registry library: the format BuildKit writes is small,
// and reading it by hand lets the package check every digest, keep every blob
// for secret scanning and see each layer's raw tar headers (whiteouts, modes,
// owners) exactly as a runtime would.
package imagetest
