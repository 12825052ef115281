// axon registry UI: copy buttons and search-as-you-type. Cards are built with
// DOM APIs and textContent only, never innerHTML, so registry data stays text.
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(ta); }
    return Promise.resolve();
  }

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("button.copy");
    if (!b) return;
    copyText(b.getAttribute("data-copy")).then(function () {
      b.textContent = "Copied";
      b.classList.add("done");
      setTimeout(function () { b.textContent = "Copy"; b.classList.remove("done"); }, 1500);
    }, function () { b.textContent = "Select & copy"; });
  });

  var units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  function bytes(n) {
    if (n < 1024) return n + " B";
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return n.toFixed(1) + " " + units[i];
  }
  function date(s) {
    if (!s) return "—";
    var d = new Date(s);
    if (isNaN(d) || d.getUTCFullYear() < 1971) return "—";
    return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function repoURL(name) {
    return "/ui/models/" + name.split("/").map(encodeURIComponent).join("/");
  }
  function card(c) {
    var a = el("a", "card");
    a.href = repoURL(c.name);
    a.appendChild(el("h2", "name", c.name));
    var meta = el("p", "meta");
    meta.appendChild(el("span", "tag", c.latest));
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(el("span", "kind kind-" + c.kind, c.kind));
    if (c.tags > 1) { meta.appendChild(document.createTextNode(" ")); meta.appendChild(el("span", "ntags", c.tags + " tags")); }
    a.appendChild(meta);
    if (c.description) a.appendChild(el("p", "desc", c.description));
    var dl = el("dl");
    [["task", c.task], ["framework", c.framework], ["format", c.format], ["size", bytes(c.size)], ["updated", date(c.updated)]]
      .forEach(function (kv) {
        if (!kv[1]) return;
        dl.appendChild(el("dt", "", kv[0]));
        dl.appendChild(el("dd", kv[0] === "task" ? "task" : "", kv[1]));
      });
    a.appendChild(dl);
    return a;
  }

  var form = document.getElementById("search");
  if (!form) return;
  var cards = document.getElementById("cards"), count = document.getElementById("count"), pager = document.getElementById("pager");
  var timer = null, seq = 0;

  function params() {
    var p = new URLSearchParams();
    new FormData(form).forEach(function (v, k) { if (v && !(k === "sort" && v === "name")) p.set(k, v); });
    return p;
  }
  function refresh() {
    var p = params(), mine = ++seq;
    fetch("/api/repositories?" + p.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (res) {
        if (mine !== seq) return; // an older answer arriving late
        cards.replaceChildren.apply(cards, res.repositories.map(card));
        var from = (res.page - 1) * res.per_page + 1;
        count.textContent = res.total ? from + "–" + (from + res.repositories.length - 1) + " of " + res.total + " repositories" : "No repositories match.";
        pager.replaceChildren();
        function link(page, text, rel) {
          var n = new URLSearchParams(p);
          if (page > 1) n.set("page", page); else n.delete("page");
          var a = el("a", "", text);
          a.href = "/ui/?" + n.toString();
          a.rel = rel;
          return a;
        }
        if (res.page > 1) pager.appendChild(link(Math.min(res.page - 1, Math.max(res.pages, 1)), "← Previous", "prev"));
        if (res.pages > 1) pager.appendChild(el("span", "", "Page " + res.page + " of " + res.pages));
        if (res.page < res.pages) pager.appendChild(link(res.page + 1, "Next →", "next"));
        history.replaceState(null, "", p.toString() ? "/ui/?" + p.toString() : "/ui/");
      })
      .catch(function () { form.submit(); });
  }
  form.addEventListener("input", function (ev) {
    clearTimeout(timer);
    timer = setTimeout(refresh, ev.target.id === "q" ? 150 : 0);
  });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); clearTimeout(timer); refresh(); });
})();
