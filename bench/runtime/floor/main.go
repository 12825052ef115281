// Command floor is the cross-process HTTP floor for bench/runtime: a trivial
// net/http server that reads the whole request body and answers a fixed JSON
// body of about the size mlosd answers, so that the benchmark can subtract
// what any Go HTTP server in another process costs from mlosd's latency.
//
//	floor -addr 127.0.0.1:0 -addr-file FILE
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	addrFile := flag.String("addr-file", "", "write the bound address here once listening")
	size := flag.Int("response-bytes", 200, "size of the fixed JSON answer")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	body := []byte(`{"output":[[` + pad(*size) + `]]}`)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
	}
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

// pad is n bytes of comma-separated small numbers.
func pad(n int) string {
	b := make([]byte, 0, n)
	for len(b) < n-2 {
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = append(b, '0')
	}
	return string(b)
}
