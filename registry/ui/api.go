package ui

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mlos-foundation/axon/schemas"
)

type apiError struct {
	Error string `json:"error"`
}

func (u *UI) apiList(c echo.Context) error {
	q, err := u.parseQuery(c, true)
	if err != nil {
		return c.JSON(http.StatusBadRequest, apiError{err.Error()})
	}
	return c.JSON(http.StatusOK, u.idx.list(q))
}

func (u *UI) apiStats(c echo.Context) error {
	return c.JSON(http.StatusOK, u.idx.stats())
}

// ManifestView is the manifest part of /api/repositories/{repo}.
type ManifestView struct {
	Digest       digest.Digest        `json:"digest"`
	MediaType    string               `json:"mediaType"`
	ArtifactType string               `json:"artifactType,omitempty"`
	Kind         string               `json:"kind"`
	Size         int64                `json:"size"`
	Created      time.Time            `json:"created,omitzero"`
	Config       ocispec.Descriptor   `json:"config,omitzero"`
	Layers       []ocispec.Descriptor `json:"layers,omitempty"`
	Manifests    []ocispec.Descriptor `json:"manifests,omitempty"`
	Subject      *ocispec.Descriptor  `json:"subject,omitempty"`
	Annotations  map[string]string    `json:"annotations,omitempty"`
	ModelError   string               `json:"modelError,omitempty"`
}

// RepositoryView is /api/repositories/{repo}: its tags, and the manifest of the
// requested reference (?ref=tag|digest, default the latest tag).
type RepositoryView struct {
	Name      string               `json:"name"`
	Tags      []TagInfo            `json:"tags"`
	Ref       string               `json:"ref"`
	Tag       string               `json:"tag,omitempty"`
	Manifest  ManifestView         `json:"manifest"`
	Model     *schemas.Manifest    `json:"model,omitempty"` // manifest.yaml of an axon package
	Files     []FileRow            `json:"files"`
	Referrers []ocispec.Descriptor `json:"referrers"`
	HubURL    string               `json:"hubURL,omitempty"`
	Commands  []Command            `json:"commands"`
	// TextGeneration is set for text-generation packages: KV cache, chat template, OpenAI call.
	TextGeneration *schemas.TextGeneration `json:"textGeneration,omitempty"`
}

func (u *UI) apiRepository(c echo.Context) error {
	repo, err := url.PathUnescape(c.Param("*"))
	if err != nil {
		return c.JSON(http.StatusNotFound, apiError{"no such repository"})
	}
	repo = strings.TrimSuffix(repo, "/")
	d, err := u.detail(c.Request().Context(), c, repo, c.QueryParam("ref"), false)
	switch {
	case err == errBadRef:
		return c.JSON(http.StatusBadRequest, apiError{"ref must be a tag or a digest"})
	case err != nil && c.QueryParam("ref") != "":
		return c.JSON(http.StatusNotFound, apiError{"no " + c.QueryParam("ref") + " in " + repo})
	case err != nil:
		return c.JSON(http.StatusNotFound, apiError{"no repository named " + repo})
	}
	m := d.M
	v := RepositoryView{
		Name: d.Repo, Tags: d.Tags, Ref: d.Ref, Tag: d.Tag, Model: d.Model, Files: d.Files,
		Referrers: d.Referrers, HubURL: d.HubURL, Commands: d.Commands, TextGeneration: d.TextGen,
		Manifest: ManifestView{
			Digest: m.Digest, MediaType: m.MediaType, ArtifactType: m.ArtifactType, Kind: m.Kind, Size: m.Size,
			Created: m.Created, Config: m.Config, Layers: m.Layers, Manifests: m.Manifests, Subject: m.Subject,
			Annotations: m.Annotations, ModelError: m.ModelErr,
		},
	}
	if v.Files == nil {
		v.Files = []FileRow{}
	}
	if v.Referrers == nil {
		v.Referrers = []ocispec.Descriptor{}
	}
	return c.JSON(http.StatusOK, v)
}
