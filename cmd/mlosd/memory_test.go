package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos/client"
	"github.com/mlos-foundation/axon/mlos/mlostest"
)

// procKB reads a "Name:  123 kB" field of /proc/PID/status.
func procKB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// peakDuring resets the process's peak RSS, runs f, and returns how far the
// peak rose above the RSS it started from.
func peakDuring(t *testing.T, pid int, f func()) int64 {
	t.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0o200); err != nil {
		t.Fatalf("reset the peak RSS: %v", err)
	}
	before := procKB(t, pid, "VmRSS")
	f()
	return procKB(t, pid, "VmHWM") - before
}

func post(t *testing.T, url string, body []byte) (int, []byte, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, time.Since(start)
}

// TestMemoryBoundedPerRequest: a real mlosd serving a BERT-shaped model keeps
// its peak RSS within 5x the body for a 10 MiB text to the seed API and a
// 60 MiB v2 tensor body, answers both within seconds, and answers 429 when
// its in-flight limit is reached.
func TestMemoryBoundedPerRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts mlosd")
	}
	dir, _ := mlostest.BertFixture(t)
	cls, _, _ := mlostest.TextPackages(t, dir)
	bin := build(t)
	data := t.TempDir()
	addr := testutil.FreeAddr(t)
	p := testutil.Start(t, []string{"ONNXRUNTIME_LIB=" + testutil.ORTLibrary(t)}, bin, "--addr", addr, "--data", data,
		"--allow-layout", os.TempDir(), "--max-in-flight", "1")
	base := "http://" + addr
	testutil.WaitHTTP(t, base+"/healthz", 60*time.Second)
	layout := filepath.Join(t.TempDir(), "layout")
	cls.Layout(t, layout, "v1")
	if _, err := client.New(base).Register(t.Context(), "oci-layout://"+layout+":v1", ""); err != nil {
		t.Fatal(err)
	}
	pid := p.Cmd.Process.Pid
	infer := base + "/models/test/bert-cls/inference"
	// Warm up: the first run allocates ONNX Runtime's arenas.
	for range 3 {
		if code, b, _ := post(t, infer, []byte(`{"input":"`+strings.Repeat("warm up the model ", 200)+`"}`)); code != 200 {
			t.Fatalf("warm-up: %d %s", code, b)
		}
	}

	// 10 MiB of text: truncated to the model's length before it is expanded.
	text := strings.Repeat("the quick brown fox jumps over the lazy dog ", (10<<20)/44)
	body, _ := json.Marshal(map[string]string{"input": text})
	var code int
	var answer []byte
	var took time.Duration
	rise := peakDuring(t, pid, func() { code, answer, took = post(t, infer, body) })
	t.Logf("10 MiB text: %d in %v, peak RSS +%d MiB (body %d MiB)", code, took.Round(time.Millisecond), rise>>20, len(body)>>20)
	if code != 200 || !strings.Contains(string(answer), `"label"`) {
		t.Fatalf("10 MiB text: %d %.300s", code, answer)
	}
	if rise > 5*int64(len(body)) {
		t.Errorf("10 MiB text raised peak RSS by %d MiB, over 5x the %d MiB body", rise>>20, len(body)>>20)
	}
	if took > 5*time.Second {
		t.Errorf("10 MiB text took %v", took)
	}

	// A 60 MiB v2 body whose data does not fit the shape it declares.
	var v2 bytes.Buffer
	v2.WriteString(`{"inputs":[{"name":"input_ids","shape":[1,8],"datatype":"INT64","data":[`)
	for v2.Len() < 60<<20 {
		v2.WriteString("101,2023,2003,1037,3231,102,0,0,")
	}
	v2.WriteString(`1]}]}`)
	rise = peakDuring(t, pid, func() { code, answer, took = post(t, base+"/v2/models/test/bert-cls/infer", v2.Bytes()) })
	t.Logf("60 MiB v2 body: %d in %v, peak RSS +%d MiB", code, took.Round(time.Millisecond), rise>>20)
	if code != 400 || !strings.Contains(string(answer), "more than the 8 elements") {
		t.Fatalf("60 MiB v2 body: %d %.300s", code, answer)
	}
	if rise > 5*int64(v2.Len()) {
		t.Errorf("60 MiB v2 body raised peak RSS by %d MiB, over 5x the body", rise>>20)
	}
	if took > 5*time.Second {
		t.Errorf("60 MiB v2 body took %v", took)
	}

	// Token tensors longer than the model's maximum length never reach ONNX Runtime.
	n := 1 << 20
	ids := bytes.Repeat([]byte("1,"), n)
	ids = append(ids[:len(ids)-1], ']')
	var long bytes.Buffer
	long.WriteString(`{"inputs":[`)
	for i, name := range []string{"input_ids", "attention_mask", "token_type_ids"} {
		if i > 0 {
			long.WriteByte(',')
		}
		fmt.Fprintf(&long, `{"name":%q,"shape":[1,%d],"datatype":"INT64","data":[%s}`, name, n, ids)
	}
	long.WriteString(`]}`)
	code, answer, took = post(t, base+"/v2/models/test/bert-cls/infer", long.Bytes())
	if code != 400 || !strings.Contains(string(answer), "over the model's maximum") {
		t.Fatalf("a %d-token sequence: %d %.300s", n, code, answer)
	}
	t.Logf("%d-token v2 sequence: %d in %v", n, code, took.Round(time.Millisecond))

	// With --max-in-flight 1, a second request while one is in flight is a 429.
	// The held request is written on a raw connection (headers and half its
	// body), so it is at the server, not in a client's buffers, when the
	// probes go out. It may itself meet the end of an earlier probe still
	// counted (a 429): then it is sent again and the probes wait longer.
	full := []byte(`{"input":"hello"}`)
	hold := func() (net.Conn, chan int) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		fmt.Fprintf(conn, "POST /models/test/bert-cls/inference HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, len(full), full[:9])
		first := make(chan int, 1)
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				first <- 0
				return
			}
			resp.Body.Close()
			first <- resp.StatusCode
		}()
		return conn, first
	}
	conn, first := hold()
	var busy, holds, probes int
	var msg []byte
	backoff := 20 * time.Millisecond
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case c := <-first:
			if c != http.StatusTooManyRequests {
				t.Fatalf("the held request ended early: %d", c)
			}
			conn, first = hold()
			holds++
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
			continue
		default:
		}
		probes++
		if busy, msg, _ = post(t, infer, full); busy == http.StatusTooManyRequests {
			break
		}
	}
	conn.Write(full[9:])
	if busy != http.StatusTooManyRequests || !strings.Contains(string(msg), "retry") {
		t.Fatalf("second request while one is in flight: %d %s (%d probes, the held request re-sent %d times)", busy, msg, probes, holds)
	}
	if c := <-first; c != 200 {
		t.Fatalf("the request in flight: %d", c)
	}
}
