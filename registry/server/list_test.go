package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestPagination(t *testing.T) {
	ts := startServer(t, fsDriver(t), Config{})
	for _, repo := range []string{"b/two", "a/one", "c/three/deep"} {
		for _, tag := range []string{"v2", "v1", "latest"} {
			pushImage(t, ts.URL, repo, tag)
		}
	}
	type page struct {
		Repositories []string `json:"repositories"`
		Tags         []string `json:"tags"`
	}
	get := func(path string) (page, string) {
		resp, b := do(t, "GET", ts.URL+path, nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		var p page
		json.Unmarshal(b, &p)
		return p, resp.Header.Get("Link")
	}
	p, link := get("/v2/_catalog")
	if fmt.Sprint(p.Repositories) != "[a/one b/two c/three/deep]" || link != "" {
		t.Fatalf("catalog: %v %q", p.Repositories, link)
	}
	p, link = get("/v2/_catalog?n=2")
	if fmt.Sprint(p.Repositories) != "[a/one b/two]" || link != `</v2/_catalog?last=b%2Ftwo&n=2>; rel="next"` {
		t.Fatalf("catalog page 1: %v %q", p.Repositories, link)
	}
	next := strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
	p, link = get(next)
	if fmt.Sprint(p.Repositories) != "[c/three/deep]" || link != "" {
		t.Fatalf("catalog page 2: %v %q", p.Repositories, link)
	}
	p, link = get("/v2/c/three/deep/tags/list?n=1&last=latest")
	if fmt.Sprint(p.Tags) != "[v1]" || link != `</v2/c/three/deep/tags/list?last=v1&n=1>; rel="next"` {
		t.Fatalf("tags page: %v %q", p.Tags, link)
	}
	p, _ = get("/v2/c/three/deep/tags/list?n=0")
	if len(p.Tags) != 0 {
		t.Fatalf("n=0: %v", p.Tags)
	}
	// a tag delete and a manifest delete by digest remove tags
	resp, _ := do(t, "DELETE", ts.URL+"/v2/a/one/manifests/v1", nil, nil)
	if resp.StatusCode != 202 {
		t.Fatalf("tag delete: %d", resp.StatusCode)
	}
	p, _ = get("/v2/a/one/tags/list")
	if fmt.Sprint(p.Tags) != "[latest v2]" {
		t.Fatalf("after tag delete: %v", p.Tags)
	}
}
