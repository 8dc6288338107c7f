// The synack web page: lists the scenarios, runs one with the link the
// form describes, and hands the diagram to the viewer (viewer.js). It talks
// only to the server it came from.
(function () {
  "use strict";
  var form = document.getElementById("run");
  var select = document.getElementById("scenario");
  var errorBox = document.getElementById("error");
  var view = document.getElementById("view");
  var langSelect = document.getElementById("lang");
  var runs = 0;

  // The page's language: ?lang=, else the browser's (zh... is Chinese).
  // words are the page's own words in it, from /api/words (the server's
  // catalogue); English needs none.
  var lang = new URLSearchParams(location.search).get("lang") ||
    ((navigator.language || "").toLowerCase().indexOf("zh") === 0 ? "zh" : "en");
  if (lang !== "zh") lang = "en";
  var words = {};
  function tr(s) { return words[s] || s; }

  function translatePage() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    langSelect.value = lang;
    document.querySelectorAll("[data-i18n]").forEach(function (el) {
      el.textContent = tr(el.getAttribute("data-i18n"));
    });
  }

  function showError(msg) {
    errorBox.textContent = msg;
    errorBox.hidden = !msg;
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.error || r.statusText);
        return body;
      });
    });
  }

  // The form's fields, in the units the API reads.
  function query() {
    var q = new URLSearchParams();
    q.set("scenario", select.value);
    q.set("lang", lang);
    var seed = document.getElementById("seed").value.trim();
    if (seed !== "") q.set("seed", seed);
    ["latency", "jitter"].forEach(function (k) {
      var v = document.getElementById(k).value.trim();
      if (v !== "") q.set(k, v + "ms");
    });
    ["loss", "dup", "reorder", "corrupt"].forEach(function (k) {
      var v = document.getElementById(k).value.trim();
      if (v !== "") q.set(k, v + "%");
    });
    return q;
  }

  function run(ev) {
    if (ev) ev.preventDefault();
    showError("");
    var button = document.getElementById("go");
    button.disabled = true;
    var id = ++runs;
    getJSON("/api/run?" + query().toString()).then(function (res) {
      if (id !== runs) return;
      document.getElementById("about").hidden = false;
      document.getElementById("title").textContent = tr("%s (seed %s)").replace("%s", res.title).replace("%s", String(res.seed));
      document.getElementById("caption").textContent = res.caption;
      // The run's own figures, under the explanation, as synack scenario
      // run prints them.
      var figs = document.getElementById("figures");
      figs.textContent = "";
      (res.figures || []).forEach(function (f) {
        var li = document.createElement("li");
        li.textContent = f;
        figs.appendChild(li);
      });
      figs.hidden = !(res.figures && res.figures.length);
      var notes = document.getElementById("notelist");
      notes.textContent = "";
      (res.notes || []).forEach(function (n) {
        var li = document.createElement("li");
        li.textContent = n;
        notes.appendChild(li);
      });
      document.getElementById("notes").hidden = !(res.notes && res.notes.length);
      var probs = document.getElementById("problems");
      probs.textContent = "";
      (res.problems || []).forEach(function (p) {
        var li = document.createElement("li");
        li.textContent = tr("Did not behave as the scenario teaches: ") + p;
        probs.appendChild(li);
      });
      probs.hidden = !(res.problems && res.problems.length);
      view.innerHTML = res.viewer;
      var root = view.querySelector(".synack-viewer");
      root.setAttribute("data-scenario", res.scenario);
      window.synackViewer.init(root);
      root.focus({ preventScroll: true });
      document.body.setAttribute("data-runs", String(id));
    }).catch(function (e) {
      showError(e.message);
    }).then(function () {
      button.disabled = false;
    });
  }

  form.addEventListener("submit", run);

  // load lists the scenarios and the page's words in the page's language.
  function load() {
    var before = select.value;
    var wordsReady = lang === "en" ? Promise.resolve({}) : getJSON("/api/words?lang=" + lang);
    return Promise.all([wordsReady, getJSON("/api/scenarios?lang=" + lang)]).then(function (got) {
      words = got[0];
      translatePage();
      var list = got[1];
      select.textContent = "";
      list.forEach(function (s) {
        var o = document.createElement("option");
        o.value = s.name;
        o.textContent = s.name + " — " + s.title;
        select.appendChild(o);
      });
      var want = before || new URLSearchParams(location.search).get("scenario");
      select.value = want && list.some(function (s) { return s.name === want; }) ? want : "demo";
    });
  }
  load().then(function () {
    document.body.setAttribute("data-ready", "true");
  }).catch(function (e) { showError(tr("Could not list the scenarios: ") + e.message); });

  // The language switch: the page, the list and the diagram shown change
  // language; the address keeps it (?lang=zh).
  langSelect.addEventListener("change", function () {
    lang = langSelect.value === "zh" ? "zh" : "en";
    var q = new URLSearchParams(location.search);
    q.set("lang", lang);
    history.replaceState(null, "", "?" + q.toString());
    load().then(function () {
      if (document.getElementById("about").hidden === false) run();
    }).catch(function (e) { showError(tr("Could not list the scenarios: ") + e.message); });
  });

  // The arrow keys step the diagram unless a field has the focus.
  document.addEventListener("keydown", function (ev) {
    var t = ev.target && ev.target.tagName;
    if (t === "INPUT" || t === "SELECT" || t === "TEXTAREA") return;
    var root = view.querySelector(".synack-viewer");
    if (!root || !root.synackViewer || root.contains(ev.target)) return;
    if (root.synackViewer.key(ev)) ev.preventDefault();
  });
})();
