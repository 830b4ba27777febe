// Package pydeps turns the dependency sources of a Python project into an
// exact install plan for pip.
//
// It understands five kinds of source: a pip requirements file, an unlocked
// pyproject.toml (PEP 621 or Poetry's tool table), uv.lock, poetry.lock and
// PEP 751 pylock.toml. Detect picks the source of a build context when the
// user names none; ParsePyproject, ParseUVLock, ParsePoetryLock and
// ParsePylock read the files into one model (Pyproject and Lock); Resolve
// walks the locked dependency graph for one target environment (Env: a
// CPython version on linux/amd64 or linux/arm64), checks the lock against
// pyproject.toml the way "uv sync --locked" does, and writes a deterministic
// requirements file that pip installs with --require-hashes --no-deps.
//
// The package includes its own PEP 440 (versions and specifiers) and PEP 508
// (requirements and environment markers) implementations, with what a lock
// writer does to a marker besides evaluating it (Marker.Canonical, And,
// Rewrite, SplitExtra).
//
// The package is pure: it does no network or file access and keeps no
// global state. Callers pass the bytes of each file, and every parser refuses
// input larger than MaxFileSize, nested deeper or holding more TOML values
// than fixed budgets allow, before it builds anything from it. Errors carry
// the file, line and column they are about (*Error, or Errors for several).
package pydeps
