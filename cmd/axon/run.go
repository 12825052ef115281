package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/mlos-foundation/axon"
	"github.com/mlos-foundation/axon/internal/progress"
	"github.com/mlos-foundation/axon/mlos/client"
)

// EnvMLOSD names the mlosd binary axon run starts (default: next to axon, then $PATH).
const EnvMLOSD = "AXON_MLOSD"

// mlosdState is what axon run records of the mlosd it started, in
// $AXON_HOME/run/mlosd.json, for the next run, ps and stop.
type mlosdState struct {
	PID     int       `json:"pid"`
	URL     string    `json:"url"`
	Data    string    `json:"data"`
	Log     string    `json:"log"`
	Started time.Time `json:"started"`
}

func statePath(o *Options) (string, error) {
	home, err := axon.Home(o.api()...)
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "run", "mlosd.json"), nil
}

// startedMLOSD is the mlosd axon run started, when it still runs and answers.
func startedMLOSD(o *Options) (*mlosdState, bool) {
	p, err := statePath(o)
	if err != nil {
		return nil, false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	var s mlosdState
	if json.Unmarshal(b, &s) != nil || s.PID <= 0 || syscall.Kill(s.PID, 0) != nil {
		return nil, false
	}
	if !healthy(s.URL) {
		return nil, false
	}
	return &s, true
}

func healthy(url string) bool {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// defaultMLOSURL is url, else $MLOS_URL, else the mlosd axon run started
// ("" leaves the client's default).
func defaultMLOSURL(o *Options, url string) string {
	if url != "" || os.Getenv(client.EnvURL) != "" {
		return url
	}
	if s, ok := startedMLOSD(o); ok {
		return s.URL
	}
	return ""
}

// mlosdBinary finds mlosd: $AXON_MLOSD, next to this axon, then $PATH.
func mlosdBinary() (string, error) {
	if b := os.Getenv(EnvMLOSD); b != "" {
		return b, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "mlosd")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath("mlosd")
	if err != nil {
		return "", fmt.Errorf("no mlosd to start: put it next to axon or on $PATH, set $%s, or point $%s at a running one", EnvMLOSD, client.EnvURL)
	}
	return p, nil
}

// ensureMLOSD returns the URL of an mlosd to serve from: --mlos-url or
// $MLOS_URL when given, else the one a previous axon run started, else a new
// one in the background on loopback reading the store's OCI layout.
func ensureMLOSD(ctx context.Context, o *Options, home, url string, log io.Writer) (string, error) {
	if url == "" {
		url = os.Getenv(client.EnvURL)
	}
	if url != "" {
		c := client.New(url)
		if !healthy(c.URL()) {
			return "", fmt.Errorf("mlosd at %s does not answer; start it, or unset $%s to let axon run start one", c.URL(), client.EnvURL)
		}
		return c.URL(), nil
	}
	if s, ok := startedMLOSD(o); ok {
		fmt.Fprintf(log, "using mlosd at %s (pid %d, started by axon run)\n", s.URL, s.PID)
		return s.URL, nil
	}
	bin, err := mlosdBinary()
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	runDir := filepath.Join(home, "run")
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return "", err
	}
	s := mlosdState{URL: "http://" + addr, Data: filepath.Join(home, "mlosd"), Log: filepath.Join(runDir, "mlosd.log"), Started: time.Now().UTC()}
	args := []string{"--addr", addr, "--data", s.Data}
	if supportsFlag(bin, "allow-layout") {
		// mlosd reads oci-layout:// only under the directories it is told.
		args = append(args, "--allow-layout", home)
	}
	logf, err := os.OpenFile(s.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return "", err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own session: it outlives this axon and a ctrl-C in this terminal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start mlosd: %w", err)
	}
	s.PID = cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	for !healthy(s.URL) {
		select {
		case err := <-exited:
			return "", fmt.Errorf("mlosd exited at start (%v); see %s", err, s.Log)
		case <-deadline:
			cmd.Process.Kill()
			return "", fmt.Errorf("mlosd did not answer at %s within 60s; see %s", s.URL, s.Log)
		case <-ctx.Done():
			cmd.Process.Kill()
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	if err := os.WriteFile(filepath.Join(runDir, "mlosd.json"), b, 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "started mlosd at %s (pid %d, log %s); axon stop stops it\n", s.URL, s.PID, s.Log)
	return s.URL, nil
}

// supportsFlag reports whether bin's --help names the flag.
func supportsFlag(bin, flag string) bool {
	out, _ := exec.Command(bin, "--help").CombinedOutput()
	return bytes.Contains(out, []byte("-"+flag))
}

// ensurePackage returns the stored package ref names, installing it (hub
// references) or pulling it (registry references) when the store lacks it.
func ensurePackage(ctx context.Context, o *Options, ref string, log io.Writer, quiet bool) (string, error) {
	remote := axon.IsRemote(ref)
	if _, err := axon.Resolve(ctx, ref, o.api()...); err == nil {
		return ref, nil
	} else if !errors.Is(err, axon.ErrNotFound) {
		if !remote {
			return "", err
		}
	}
	if remote {
		res, err := axon.Pull(ctx, ref, o.api(axon.WithProgress(progressFor(log, quiet)))...)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(log, "pulled %s@%s\n", res.Ref, res.Descriptor.Digest)
		return ref, nil
	}
	rep := progress.New(log, quiet)
	res, err := axon.Install(ctx, ref, o.api(axon.WithProgress(rep))...)
	rep.Wait()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(log, "installed %s (%s)\n", strings.Join(res.Tags, " "), res.Descriptor.Digest)
	return res.Tags[0], nil
}

// serveModel registers the package with mlosd unless mlosd already serves
// that digest, and returns the name it is served under.
func serveModel(ctx context.Context, cmd *cobra.Command, o *Options, c *client.Client, ref string) (*axon.Model, error) {
	desc, err := axon.Resolve(ctx, ref, o.api()...)
	if err != nil {
		return nil, err
	}
	models, err := c.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range models {
		if m.Digest == desc.Digest.String() && m.Error == "" {
			return &m, nil
		}
	}
	rref, err := axon.RegistrationRef(ctx, ref, o.api()...)
	if err != nil {
		return nil, err
	}
	info, err := c.Register(ctx, rref, "")
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", ref, err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "serving %s as %s\n", ref, info.Name)
	return info, nil
}

// parseInput reads INPUT as JSON when it is JSON (an array, object or
// number), else as the text it is.
func parseInput(s string) any {
	t := strings.TrimSpace(s)
	if t != "" && strings.ContainsAny(t[:1], "[{-0123456789") {
		var v any
		if json.Unmarshal([]byte(t), &v) == nil {
			return v
		}
	}
	return s
}

// NewCmdRun is axon run.
func NewCmdRun(o *Options) *cobra.Command {
	var asJSON, quiet bool
	var maxTokens int
	var url string
	cmd := &cobra.Command{
		Use:   "run REF [INPUT...]",
		Short: "Install a model if needed, serve it with a local mlosd and answer INPUT (or chat)",
		Long: `run is install + register + inference in one verb, like ollama run or docker model run.

REF is a local package, a hub reference (installed when the store lacks it: hf/ORG/NAME,
pytorch/..., tfhub/..., modelscope/...) or a registry reference (pulled). The model is
served by the mlosd at --mlos-url / $MLOS_URL, or by the one a previous axon run
started, or by a new mlosd started in the background on 127.0.0.1 that reads the
local store (axon ps shows it, axon stop stops it). INPUT is JSON when it parses as
JSON, else text. Without INPUT a text-generation model opens a chat that keeps the
conversation (OpenAI /v1/chat/completions, the model's chat template); other models
read INPUT from stdin. --json prints mlosd's raw answer.`,
		Example: `  axon run hf/distilbert/distilbert-base-uncased-finetuned-sst-2-english@latest "I love this"
  axon run hf/openai-community/gpt2@latest
  echo '[[1,2,3]]' | axon run team/affine@1.0 --json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			log := cmd.ErrOrStderr()
			if quiet {
				log = io.Discard
			}
			home, err := axon.Home(o.api()...)
			if err != nil {
				return err
			}
			ref, err := ensurePackage(ctx, o, args[0], log, quiet)
			if err != nil {
				return ifInterrupted(ctx, err, "run "+args[0]+": interrupted; run it again to continue")
			}
			base, err := ensureMLOSD(ctx, o, home, url, log)
			if err != nil {
				return fmt.Errorf("run %s: %w", args[0], err)
			}
			c := client.New(base)
			info, err := serveModel(ctx, cmd, o, c, ref)
			if err != nil {
				return fmt.Errorf("run %s: %w", args[0], err)
			}
			out := cmd.OutOrStdout()
			in := cmd.InOrStdin()
			if len(args) == 1 {
				if info.Task == "text-generation" {
					return chat(ctx, base, info.Name, in, out, log, asJSON, maxTokens)
				}
				if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
					return fmt.Errorf("run %s: give INPUT (a %s model; only text-generation models chat)", args[0], orUnknown(info.Task))
				}
				b, err := io.ReadAll(io.LimitReader(in, 64<<20))
				if err != nil {
					return err
				}
				args = append(args, string(b))
			}
			var params map[string]any
			if maxTokens > 0 && info.Task == "text-generation" {
				params = map[string]any{"max_new_tokens": maxTokens}
			}
			res, err := c.Infer(ctx, info.Name, parseInput(strings.Join(args[1:], " ")), params)
			if err != nil {
				return fmt.Errorf("run %s: %w", args[0], err)
			}
			if asJSON {
				return writeJSON(out, res)
			}
			var pretty any
			if json.Unmarshal(res.Output, &pretty) == nil {
				if s, ok := pretty.(string); ok {
					fmt.Fprintln(out, s)
					return nil
				}
				return writeJSON(out, pretty)
			}
			_, err = fmt.Fprintf(out, "%s\n", res.Output)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print mlosd's raw answer as JSON")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress or status lines")
	cmd.Flags().IntVar(&maxTokens, "max-tokens", 0, "text generation: at most this many new tokens per answer (0: mlosd's default, up to the model's context)")
	cmd.Flags().StringVar(&url, "mlos-url", "", "mlosd to use (env "+client.EnvURL+"; default: the one axon run started, else a new one)")
	return cmd
}

func orUnknown(s string) string {
	if s == "" {
		return "non-generative"
	}
	return s
}

// NewCmdStop is axon stop.
func NewCmdStop(o *Options) *cobra.Command {
	var url string
	cmd := &cobra.Command{
		Use:   "stop [NAME...]",
		Short: "Stop serving models, or stop the mlosd axon run started",
		Long: `With NAME, mlosd stops serving those models (unregister). Without, the mlosd that
axon run started in the background is stopped (SIGTERM, then SIGKILL after 10s).`,
		Example: "  axon stop hf/bert-base-uncased\n  axon stop",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				c := client.New(defaultMLOSURL(o, url))
				var errs []error
				for _, n := range args {
					if err := c.Unregister(cmd.Context(), n); err != nil {
						errs = append(errs, fmt.Errorf("stop %s: %w", n, err))
						continue
					}
					fmt.Fprintf(cmd.OutOrStdout(), "stopped %s\n", n)
				}
				return errors.Join(errs...)
			}
			p, err := statePath(o)
			if err != nil {
				return err
			}
			s, ok := startedMLOSD(o)
			if !ok {
				os.Remove(p)
				return errors.New("stop: no mlosd started by axon run is running (axon stop NAME stops serving one model)")
			}
			if err := syscall.Kill(s.PID, syscall.SIGTERM); err != nil {
				return fmt.Errorf("stop mlosd (pid %d): %w", s.PID, err)
			}
			for i := 0; i < 100 && syscall.Kill(s.PID, 0) == nil; i++ {
				time.Sleep(100 * time.Millisecond)
			}
			if syscall.Kill(s.PID, 0) == nil {
				syscall.Kill(s.PID, syscall.SIGKILL)
			}
			os.Remove(p)
			fmt.Fprintf(cmd.OutOrStdout(), "stopped mlosd (pid %d, %s)\n", s.PID, s.URL)
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "mlos-url", "", "mlosd address (env "+client.EnvURL+")")
	return cmd
}

// chatMessage is one turn of the OpenAI chat wire format.
type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// chat is the interactive loop over /v1/chat/completions: each line is a
// user turn, the conversation is sent whole every time (mlosd applies the
// model's chat template). Ctrl-D or /bye ends it.
func chat(ctx context.Context, base, model string, in io.Reader, out, log io.Writer, raw bool, maxTokens int) error {
	interactive := false
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		interactive = true
		fmt.Fprintf(log, "chatting with %s; /bye or Ctrl-D ends\n", model)
	}
	var msgs []chatMessage
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	hc := &http.Client{Timeout: 10 * time.Minute}
	for {
		if interactive {
			fmt.Fprint(log, ">>> ")
		}
		if !sc.Scan() {
			return sc.Err()
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if line == "/bye" || line == "/exit" {
			return nil
		}
		msgs = append(msgs, chatMessage{Role: "user", Content: line})
		reply, body, err := chatCompletion(ctx, hc, base, model, msgs, maxTokens)
		var he *chatHTTPError
		if errors.As(err, &he) && he.status == http.StatusBadRequest && len(msgs) > 1 {
			// Most likely the conversation outgrew the model's context.
			return fmt.Errorf("%w (the whole conversation is sent each turn: start a new chat, or keep answers short with --max-tokens)", err)
		}
		if err != nil {
			return err
		}
		if raw {
			fmt.Fprintf(out, "%s\n", bytes.TrimSpace(body))
		} else {
			fmt.Fprintln(out, reply)
		}
		msgs = append(msgs, chatMessage{Role: "assistant", Content: reply})
	}
}

// chatCompletion posts the conversation and returns the assistant's reply
// and the raw answer.
func chatCompletion(ctx context.Context, hc *http.Client, base, model string, msgs []chatMessage, maxTokens int) (string, []byte, error) {
	req := map[string]any{"model": model, "messages": msgs}
	if maxTokens > 0 {
		req["max_tokens"] = maxTokens
	}
	body, _ := json.Marshal(req)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", bytes.NewReader(body))
	if err != nil {
		return "", nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(hreq)
	if err != nil {
		return "", nil, fmt.Errorf("chat: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return "", nil, fmt.Errorf("chat: %w", err)
	}
	var ans struct {
		Choices []struct {
			Message chatMessage `json:"message"`
		} `json:"choices"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	jerr := json.Unmarshal(raw, &ans)
	if resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(raw))
		if jerr == nil && ans.Error != nil {
			msg = ans.Error.Message
		}
		if resp.StatusCode == http.StatusNotFound {
			msg += " (this mlosd has no /v1/chat/completions; update it)"
		}
		return "", raw, &chatHTTPError{resp.StatusCode, msg}
	}
	if jerr != nil || len(ans.Choices) == 0 {
		return "", raw, fmt.Errorf("chat: not an OpenAI chat completion: %.200s", raw)
	}
	return ans.Choices[0].Message.Content, raw, nil
}

// chatHTTPError is mlosd's refusal of a chat turn.
type chatHTTPError struct {
	status int
	msg    string
}

func (e *chatHTTPError) Error() string {
	return fmt.Sprintf("chat: mlosd answered HTTP %d: %s", e.status, e.msg)
}
