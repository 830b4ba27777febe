package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"os/user"
	"time"
)

// check runs the checks in args, in order; `writable` takes the rest.
func check(args []string) error {
	for len(args) > 0 {
		switch args[0] {
		case "certs":
			pool, err := x509.SystemCertPool()
			if err != nil {
				return fmt.Errorf("system cert pool: %v", err)
			}
			n := len(pool.Subjects()) //nolint:staticcheck // only counted
			if n < 100 {
				return fmt.Errorf("system cert pool: %d CAs, want >= 100", n)
			}
			fmt.Println("standin: system cert pool ok:", n, "CAs")
			args = args[1:]
		case "user":
			if len(args) < 4 {
				return fmt.Errorf("usage: check user NAME UID HOME")
			}
			u, err := user.Current()
			if err != nil || u.Username != args[1] || u.Uid != args[2] || u.HomeDir != args[3] {
				return fmt.Errorf("user: %+v %v, want %s %s %s", u, err, args[1], args[2], args[3])
			}
			fmt.Println("standin: user ok:", u.Username, u.Uid, u.HomeDir)
			args = args[4:]
		case "tz":
			if _, err := time.LoadLocation("Europe/Berlin"); err != nil {
				return fmt.Errorf("tz: %v", err)
			}
			args = args[1:]
		case "writable":
			for _, dir := range args[1:] {
				f, err := os.CreateTemp(dir, "w")
				if err != nil {
					return fmt.Errorf("writable: %v", err)
				}
				f.Close()
				os.Remove(f.Name())
			}
			args = nil
		default:
			return fmt.Errorf("unknown check %q", args[0])
		}
	}
	return nil
}
