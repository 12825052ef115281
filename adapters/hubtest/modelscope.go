package hubtest

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// ModelScope is a replica of the ModelScope hub API: /api/v1/models/{owner}/{name}
// (model info), .../repo/files?Revision=&Recursive= (files with Sha256, Size,
// Revision and the latest commit), .../repo?Revision=&FilePath= (the file, with
// ranges), all JSON answers in the {Code, Data, Message, Success} envelope.
type ModelScope struct {
	URL    string // MODELSCOPE_DOMAIN is its host:port (with MODELSCOPE_URL_SCHEME=http://)
	CDNURL string // LFS files redirect here, like cdn-lfs-cn-1.modelscope.cn
	Faults Faults
	// AuthOnCDN counts CDN requests that carried an Authorization header (a leak).
	AuthOnCDN atomicCounter

	mu    sync.Mutex
	repos map[string]*msRepo
	blobs map[string]*blob
}

// MSRepo is a ModelScope model repository.
type MSRepo struct {
	ID      string // OWNER/NAME
	License string
	Task    string
	Files   []File
	// WrongSha256 lists files whose listed Sha256 is wrong.
	WrongSha256 []string
}

type msRepo struct {
	MSRepo
	refs    map[string]string
	commits map[string]*hfCommit
}

// NewModelScope starts the replica.
func NewModelScope(t testing.TB) *ModelScope {
	m := &ModelScope{repos: map[string]*msRepo{}, blobs: map[string]*blob{}}
	m.URL = serve(t, m.serve)
	m.CDNURL = serveElsewhere(t, m.serveCDN)
	return m
}

// Push commits files on master and returns the commit id.
func (m *ModelScope) Push(r MSRepo) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	repo := m.repos[r.ID]
	if repo == nil {
		repo = &msRepo{refs: map[string]string{}, commits: map[string]*hfCommit{}}
		m.repos[r.ID] = repo
	}
	repo.MSRepo = r
	when := time.Date(2024, 6, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(len(repo.commits)) * time.Hour)
	c, err := newCommit(r.Files, when, fmt.Sprintf("%s %s\n", r.ID, repo.refs["master"]),
		func(b *blob) string { return b.sha256 }, m.blobs)
	if err != nil {
		return "", err
	}
	repo.commits[c.sha] = c
	repo.refs["master"] = c.sha
	return c.sha, nil
}

func msJSON(w http.ResponseWriter, code int, data any, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	body := map[string]any{"Code": code, "Data": data, "Message": msg, "Success": code == 200, "RequestId": "replica"}
	if code != 200 {
		body["Code"] = 10010205001
	}
	json.NewEncoder(w).Encode(body)
}

func (m *ModelScope) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 5 || parts[0] != "api" || parts[1] != "v1" || parts[2] != "models" {
		msJSON(w, http.StatusNotFound, nil, "not found")
		return
	}
	id := parts[3] + "/" + parts[4]
	repo := m.repos[id]
	if repo == nil {
		msJSON(w, http.StatusNotFound, nil, fmt.Sprintf("model %s not exists", id))
		return
	}
	rev := r.URL.Query().Get("Revision")
	if rev == "" {
		rev = "master"
	}
	c := repo.commits[rev]
	if sha, ok := repo.refs[rev]; ok {
		c = repo.commits[sha]
	}
	if c == nil {
		msJSON(w, http.StatusNotFound, nil, fmt.Sprintf("revision %s not exists", rev))
		return
	}
	rest := strings.Join(parts[5:], "/")
	switch rest {
	case "":
		tasks := []any{}
		if repo.Task != "" {
			tasks = append(tasks, map[string]any{"Name": repo.Task})
		}
		msJSON(w, 200, map[string]any{"Id": 1, "Name": parts[4], "Path": parts[3], "License": repo.License,
			"Tasks": tasks, "CreatedTime": c.time.Unix(), "LastUpdatedTime": c.time.Unix()}, "success")
	case "repo/files":
		files := []any{}
		for _, p := range c.paths {
			b := c.files[p]
			sum := b.sha256
			for _, wrong := range repo.WrongSha256 {
				if wrong == p {
					sum = strings.Repeat("0", 64)
				}
			}
			name := p[strings.LastIndex(p, "/")+1:]
			files = append(files, map[string]any{"Name": name, "Path": p, "Revision": c.sha, "Sha256": sum,
				"Size": b.size, "Type": "blob", "IsLFS": b.lfs, "Mode": "33188", "CommitId": c.sha})
		}
		msJSON(w, 200, map[string]any{"Files": files, "LatestCommitter": map[string]any{
			"Id": c.sha, "CommitterName": "replica", "CommittedDate": c.time.Unix(), "Message": "upload"}}, "success")
	case "repo":
		fp := r.URL.Query().Get("FilePath")
		b := c.files[fp]
		if b == nil {
			msJSON(w, http.StatusNotFound, nil, fmt.Sprintf("file %s not exists", fp))
			return
		}
		if b.lfs {
			sig := sha1.Sum([]byte(b.sha256 + "oss-key"))
			http.Redirect(w, r, fmt.Sprintf("%s/lfs/%s?Expires=4102444800&Signature=%s", m.CDNURL, b.sha256, hex.EncodeToString(sig[:])), http.StatusFound)
			return
		}
		w.Header().Set("Content-Disposition", "attachment; filename="+fp[strings.LastIndex(fp, "/")+1:])
		m.Faults.serve(w, r, b, `"`+b.sha256+`"`, c.time)
	default:
		msJSON(w, http.StatusNotFound, nil, "not found")
	}
}

func (m *ModelScope) serveCDN(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		m.AuthOnCDN.inc()
	}
	sum, ok := strings.CutPrefix(r.URL.Path, "/lfs/")
	sig := sha1.Sum([]byte(sum + "oss-key"))
	m.mu.Lock()
	b := m.blobs[sum]
	m.mu.Unlock()
	if !ok || b == nil || r.URL.Query().Get("Signature") != hex.EncodeToString(sig[:]) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "<Error><Code>AccessDenied</Code></Error>")
		return
	}
	m.Faults.serve(w, r, b, `"`+strings.ToUpper(b.sha256[:32])+`"`, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
}
