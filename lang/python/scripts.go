package python

// healthScript is the HTTP healthcheck: the runtime image has no shell and
// no curl, but it has the interpreter. Healthy on a 2xx or 3xx answer.
//
// argv: URL TIMEOUT_SECONDS
const healthScript = `import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])) as r:
        sys.exit(0 if 200 <= r.status < 400 else 1)
except Exception as e:
    print(e, file=sys.stderr)
    sys.exit(1)
`
