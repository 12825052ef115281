// Package ui is axon-registry's web UI and its JSON API: model cards on the home
// page, a page per repository (tags, rendered manifest.yaml, I/O schema, files,
// referrers, copy-ready commands), and /api/... for the pages and for scripts.
//
// The registry wires it like this:
//
//	u, err := ui.New(store, ui.Options{Authenticate: users.Check}) // store implements ui.Source
//	defer u.Close()
//	u.Register(e, authMiddleware) // or nil when the registry runs without auth
//	// after every manifest put, manifest delete and tag delete:
//	u.Notify(ui.Event{Action: ui.ActionPush, Repository: repo, Tag: tag, Digest: dgst})
//
// Listings come from an in-memory index: seeded once in the background from the
// Source (Catalog, Tags, Resolve, Manifest, config blob), then kept up to date by
// Notify. Notify never blocks on storage: it queues the repository and a worker
// re-reads that one repository. Pages and the API never walk storage; only a
// model page reads its manifest.yaml blob and referrers once.
//
// Auth. Register(e, auth) guards every page and API route (the login page and the
// static assets excepted):
//   - Options.Authenticate == nil: auth alone decides (nil auth: open UI). A browser
//     then gets whatever auth answers, e.g. a basic-auth prompt.
//   - Options.Authenticate != nil: a request passes with the UI's signed session
//     cookie (set by the form at /ui/login), or with basic auth checked through
//     Authenticate, or when auth lets it through (the registry's bearer token in
//     the Authorization header, its anonymous read). Anything else is sent to /ui/login
//     (pages) or answered 401 with a Basic challenge (/api/...); what auth itself
//     answered is dropped.
//
// So the registry passes the same user check it uses for the API as
// Options.Authenticate, and its auth middleware (for bearer tokens) as auth.
//
// JSON API (what the pages' script uses; scripts may too):
//
//	GET /api/repositories?q=&task=&framework=&format=&sort=name|updated|size&page=&per_page=
//	    → {"repositories":[card...],"total","page","per_page","pages","sort","ready"}
//	GET /api/repositories/{repo}?ref=TAG|DIGEST (default: "latest", else the newest tag)
//	    → {"name","tags","ref","tag","manifest","model" (manifest.yaml),"files","referrers","hubURL","commands"}
//	GET /api/stats → {"ready","repositories","tags","bytes","kinds","tasks","frameworks","formats"}
//
// Bad parameters answer 400 with {"error": "..."}, unknown names 404.
//
// All HTML comes from html/template (every value escaped: manifest.yaml is user
// input) and pages are served with a Content-Security-Policy that allows only the
// embedded script and stylesheet.
package ui
