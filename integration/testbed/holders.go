package testbed

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Holders counts the `with` runs that share one work dir's test bed (two
// `make test` at once): each registers a file with.PID in Dir while its
// command runs. Services a `with` started are handed over to the others
// when it leaves first, and the last one to leave stops them, so nobody
// loses the engine in the middle of a run. Callers hold the work dir's
// Lock around Join and Leave.
type Holders struct {
	Dir string
}

func (h Holders) file(pid int) PIDFile {
	return PIDFile{Path: filepath.Join(h.Dir, "with."+strconv.Itoa(pid))}
}

func (h Holders) handedOver() string { return filepath.Join(h.Dir, "handed-over") }

// Join registers pid (normally os.Getpid()) as a holder.
func (h Holders) Join(pid int) error { return h.file(pid).Write(pid) }

// Others returns the live holders other than pid; stale registrations
// (the process died, or its PID now belongs to another process) are
// removed.
func (h Holders) Others(pid int) ([]int, error) {
	matches, err := filepath.Glob(filepath.Join(h.Dir, "with.*"))
	if err != nil {
		return nil, err
	}
	var others []int
	for _, m := range matches {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(m), "with."))
		if err != nil || n == pid {
			continue
		}
		if _, ok := h.file(n).Alive(); ok {
			others = append(others, n)
		} else if err := os.Remove(m); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	sort.Ints(others)
	return others, nil
}

// Leave unregisters pid, which started the services in started. When
// other holders remain it hands started over to them and returns nil;
// when pid was the last, it returns everything to stop: started plus all
// that earlier holders handed over, and clears the hand-over list.
func (h Holders) Leave(pid int, started []string) (stop []string, others []int, err error) {
	if err := h.file(pid).Remove(); err != nil {
		return nil, nil, err
	}
	if others, err = h.Others(pid); err != nil {
		return nil, nil, err
	}
	if len(others) > 0 {
		if len(started) > 0 {
			f, err := os.OpenFile(h.handedOver(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
			if err != nil {
				return nil, nil, err
			}
			_, err = fmt.Fprintln(f, strings.Join(started, "\n"))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, nil, err
			}
		}
		return nil, others, nil
	}
	stop = slices.Clone(started)
	handed, err := h.HandedOver()
	if err != nil {
		return nil, nil, err
	}
	for _, s := range handed {
		if !slices.Contains(stop, s) {
			stop = append(stop, s)
		}
	}
	return stop, nil, h.ClearHandOver()
}

// HandedOver lists what earlier holders left running for later ones.
func (h Holders) HandedOver() ([]string, error) {
	f, err := os.Open(h.handedOver())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if l := strings.TrimSpace(s.Text()); l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out, s.Err()
}

// ClearHandOver forgets the hand-over list: an explicit `up` or `down`
// takes charge of the services.
func (h Holders) ClearHandOver() error {
	err := os.Remove(h.handedOver())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
