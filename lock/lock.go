// Package lock holds the distill.lock format: the base images of a spec
// pinned to digests, written by `distill lock` and read by every build.
//
// A lock turns "python:3.13-slim-trixie, whatever it is today" into one
// exact image, so a build is repeatable until someone updates the lock on
// purpose (a scheduled `distill lock --check` tells when to).
package lock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// Filename is the lock's name, beside the spec.
const Filename = "distill.lock"

// Version is the lock format version this package writes and reads.
const Version = 1

// Roles of the two images of a pair.
const (
	RoleBuilder = "builder"
	RoleRuntime = "runtime"
)

// File is a parsed distill.lock.
type File struct {
	LockVersion int    `json:"lockVersion"`
	Bases       []Base `json:"bases"`
}

// Base is one pinned base image.
type Base struct {
	Role string `json:"role"`
	// Ref is the reference the spec's pair names (by tag).
	Ref string `json:"ref"`
	// Digest is what Ref resolved to (the index digest for multi-platform
	// images, so one lock serves every platform).
	Digest    digest.Digest `json:"digest"`
	Platforms []string      `json:"platforms,omitempty"`
	// Python is the pair's minor version ("" for floating tags).
	Python string `json:"python,omitempty"`
	// Resolved is when the tag was resolved, for humans and update bots.
	Resolved time.Time `json:"resolved"`
}

// Parse reads a lock file.
func Parse(data []byte) (*File, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", Filename, err)
	}
	if f.LockVersion != Version {
		return nil, fmt.Errorf("%s: lockVersion %d is not supported; allowed: %d (run `distill lock` to rewrite it)", Filename, f.LockVersion, Version)
	}
	for _, b := range f.Bases {
		if b.Role != RoleBuilder && b.Role != RoleRuntime {
			return nil, fmt.Errorf("%s: role %q; allowed: %s, %s", Filename, b.Role, RoleBuilder, RoleRuntime)
		}
		if err := b.Digest.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %s digest: %w", Filename, b.Role, err)
		}
	}
	return &f, nil
}

// Marshal renders the lock with stable formatting, so a re-lock that
// changes nothing produces no diff but the resolution time.
func (f *File) Marshal() ([]byte, error) {
	dt, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(dt, '\n'), nil
}

// Get returns the locked base for a role and the reference it was locked
// for; ok is false when the lock has no such base or it was locked for a
// different reference (the spec changed since: the lock is stale).
func (f *File) Get(role, ref string) (Base, bool) {
	if f == nil {
		return Base{}, false
	}
	for _, b := range f.Bases {
		if b.Role == role && b.Ref == ref {
			return b, true
		}
	}
	return Base{}, false
}

// Status is one base of a spec's pair compared with the lock.
type Status struct {
	Role, Ref string
	// InLock is false when the lock has no base for Role and Ref (the spec
	// changed since the lock was written).
	InLock bool
	// Locked is the lock's digest; Now is what the tag resolves to now
	// ("" when it was not asked).
	Locked, Now digest.Digest
}

// Current reports whether the lock pins this base to what its tag serves.
func (s Status) Current() bool { return s.InLock && (s.Now == "" || s.Now == s.Locked) }

func (s Status) String() string {
	switch {
	case !s.InLock:
		return fmt.Sprintf("%s %s is not in the lock (the spec changed since it was written)", s.Role, s.Ref)
	case !s.Current():
		return fmt.Sprintf("%s %s: locked %s, registry has %s", s.Role, s.Ref, s.Locked, s.Now)
	}
	return fmt.Sprintf("%s %s: up to date (%s)", s.Role, s.Ref, s.Locked)
}

// Compare compares the lock with the pair's bases: each of now names a
// role and reference and, when its tag was resolved, the digest it serves.
// The one comparison behind a build, `--call=check` and `distill lock
// --check`.
func Compare(f *File, now []Base) []Status {
	out := make([]Status, 0, len(now))
	for _, b := range now {
		st := Status{Role: b.Role, Ref: b.Ref, Now: b.Digest}
		if locked, ok := f.Get(b.Role, b.Ref); ok {
			st.InLock, st.Locked = true, locked.Digest
		}
		out = append(out, st)
	}
	return out
}
