// Command pyindex is the test bed's loopback Python package index.
//
// It generates a fixed set of pure-Python wheels (see wheelSet) and serves
// every wheel or sdist found in a directory as a PEP 503 simple index:
//
//	/simple/                 project list
//	/simple/<name>/          files of one project; href ends in #sha256=<hex>,
//	                         data-requires-python from the wheel's METADATA
//	/files/<filename>        the file itself
//	/goproxy/...             with -goproxy DIR: DIR served as a Go module proxy
//	                         (DIR is a module cache's cache/download, which has
//	                         the GOPROXY layout); lets a build container fetch
//	                         the modules the host already has, over plain HTTP
//	                         on loopback, without the host's TLS trust store
//
// Responses carry Cache-Control: max-age=600 and an ETag (If-None-Match gives
// 304), so pip's HTTP cache works. Every request is logged to stderr as
//
//	2026/11/26 02:30:00 GET /files/greeting-1.0-py3-none-any.whl 200 1234 127.0.0.1:40000
//
// (method, path, status, body bytes, client), so tests can count file GETs.
//
// Usage:
//
//	pyindex -dir DIR -generate                # write the wheel set into DIR and exit
//	pyindex -dir DIR -addr 127.0.0.1:3141     # serve DIR
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	dir := flag.String("dir", "wheels", "wheel store")
	addr := flag.String("addr", "127.0.0.1:3141", "listen address")
	gen := flag.Bool("generate", false, "write the wheel set into -dir and exit")
	goproxy := flag.String("goproxy", "", "also serve this directory (a module cache's cache/download) as a Go module proxy at /goproxy/")
	flag.Parse()
	log.SetOutput(os.Stderr)

	if *gen {
		names, err := generate(*dir, wheelSet())
		if err != nil {
			fmt.Fprintln(os.Stderr, "pyindex:", err)
			os.Exit(1)
		}
		fmt.Printf("pyindex: %d wheels in %s\n", len(names), *dir)
		return
	}
	if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
		fmt.Fprintf(os.Stderr, "pyindex: -dir %s is not a directory (run with -generate first)\n", *dir)
		os.Exit(1)
	}
	log.Printf("pyindex: serving %s on http://%s/simple/", *dir, *addr)
	mux := http.NewServeMux()
	mux.Handle("/", newIndex(*dir))
	if *goproxy != "" {
		mux.Handle("/goproxy/", goProxy(*goproxy))
		log.Printf("pyindex: serving %s as a Go module proxy on http://%s/goproxy/", *goproxy, *addr)
	}
	srv := &http.Server{Addr: *addr, Handler: logRequests(mux)}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "pyindex:", err)
		os.Exit(1)
	}
}
