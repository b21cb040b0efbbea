"""The stylesheet and script of the HTML report (:mod:`clientsim.render.html`).

Both are inlined into the page: it fetches nothing (its Content-Security-Policy allows
no source but the page itself). The charts carry their own colours
(:mod:`clientsim.render.chart`), so the stylesheet has no rule for them.
"""

from __future__ import annotations

from typing import Final


__all__ = ["CSS", "JS"]

CSS: Final = """
:root{--fg:#1d2330;--muted:#5b6475;--line:#d9dee7;--bg:#f6f7f9;--card:#fff;
--pass:#1a7f4b;--fail:#c0392b;--warn:#b9770e;--customer:#eef3fb;
--agent:#f3f0fa}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px}
header,section{background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:16px 20px;margin-bottom:16px}
h1{margin:0 0 8px;font-size:24px}h2{margin:0 0 12px;font-size:18px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0}
.note{color:var(--muted);font-size:13px}
.pill{display:inline-block;border-radius:12px;padding:1px 10px;margin-right:6px;
background:var(--bg);border:1px solid var(--line);font-size:13px}
.status-done{color:var(--pass)}.status-failed{color:var(--fail)}
.status-timeout{color:var(--warn)}
.unfinished{color:var(--warn);font-weight:600;font-size:14px}
svg{display:block;max-width:100%;height:auto;margin:4px 0}
.big{font-size:26px;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.toolbar{display:flex;gap:8px;align-items:center;margin-bottom:12px;flex-wrap:wrap}
#search{flex:1;min-width:220px;padding:6px 10px;font-size:15px;
border:1px solid var(--line);border-radius:6px}
button{padding:5px 10px;border:1px solid var(--line);border-radius:6px;
background:var(--card);cursor:pointer}
#shown-count{color:var(--muted);font-size:14px}
details.conv{border:1px solid var(--line);border-left:4px solid var(--pass);
border-radius:6px;margin-bottom:8px;background:var(--card)}
details.conv.failing{border-left-color:var(--fail)}
details.conv[hidden],details.conv.is-hidden{display:none}
details.conv summary{cursor:pointer;padding:8px 12px;display:flex;gap:8px;
flex-wrap:wrap;align-items:baseline}
.tag{font-size:12px;border-radius:4px;padding:0 6px;background:var(--bg);
border:1px solid var(--line)}
.tag.bad{color:#fff;background:var(--fail);border-color:var(--fail)}
.tag.good{color:#fff;background:var(--pass);border-color:var(--pass)}
.preview{color:var(--muted);overflow:hidden;text-overflow:ellipsis;white-space:nowrap;
flex:1;min-width:0}
.facts{display:flex;flex-wrap:wrap;gap:4px 16px;padding:0 12px 8px;font-size:13px;
color:var(--muted)}.facts b{color:var(--fg);font-weight:600}
.error{color:var(--fail);padding:0 12px 8px;font-size:13px;white-space:pre-wrap}
.transcript{padding:0 12px 12px}
.msg{border-radius:6px;padding:6px 10px;margin:6px 0;white-space:pre-wrap;
overflow-wrap:anywhere}
.msg.customer{background:var(--customer);margin-right:15%}
.msg.agent{background:var(--agent);margin-left:15%}
.msg .role{display:block;font-size:12px;color:var(--muted);font-weight:600}
.msg .tool{display:block;font-size:12px;color:var(--muted);font-family:monospace}
.criteria{margin:4px 0 8px;padding-left:20px;font-size:13px}
.criteria .met{color:var(--pass)}.criteria .unmet{color:var(--fail)}
"""

# Renders the conversations from the JSON block with textContent only (no innerHTML
# of data), then filters them by the search box or by "#q=..." in the address.
JS: Final = """
(function () {
  "use strict";
  var source = document.getElementById("clientsim-data");
  var list = document.getElementById("conversation-list");
  var search = document.getElementById("search");
  var counter = document.getElementById("shown-count");
  if (!source || !list || !search || !counter) { return; }
  var data = JSON.parse(source.textContent);
  var entries = [];

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function fact(parent, label, value) {
    var span = el("span", "fact", label + " ");
    span.appendChild(el("b", null, value === null || value === undefined ? "-" : value));
    parent.appendChild(span);
  }

  var fragment = document.createDocumentFragment();
  data.forEach(function (c, index) {
    var details = el("details", "conv " + (c.failing ? "failing" : "passing"));
    details.id = "conv-" + index;
    details.setAttribute("data-status", c.status);
    var summary = el("summary");
    summary.appendChild(el("span", "tag " + (c.status === "done" ? "" : "bad"), c.status));
    summary.appendChild(el("span", "tag " + (c.passed ? "good" : "bad"),
      c.passed ? "pass" : "fail"));
    summary.appendChild(el("span", "tag", "outcome: " + (c.outcome || "none")));
    summary.appendChild(el("span", "tag", "persona: " + c.persona));
    summary.appendChild(el("span", "tag", "input " + c.input_id));
    summary.appendChild(el("span", "preview", c.intent || c.input));
    details.appendChild(summary);
    var facts = el("div", "facts");
    fact(facts, "ending", c.reason || "none");
    if (c.detail) { fact(facts, "detail", c.detail); }
    fact(facts, "seed", c.seed);
    fact(facts, "tokens", c.tokens);
    fact(facts, "model calls", c.calls);
    fact(facts, "attempts", c.attempts);
    fact(facts, "seconds", c.seconds);
    fact(facts, "iteration", c.iteration);
    fact(facts, "id", c.id);
    details.appendChild(facts);
    if (c.error) { details.appendChild(el("div", "error", c.error)); }
    if (c.criteria.length) {
      var criteria = el("ul", "criteria");
      c.criteria.forEach(function (v) {
        criteria.appendChild(el("li", v[1] ? "met" : "unmet",
          (v[1] ? "met: " : "not met: ") + v[0] + " (" + v[2] + ")"));
      });
      details.appendChild(criteria);
    }
    var transcript = el("div", "transcript");
    if (!c.messages.length) {
      transcript.appendChild(el("p", "note", "(no messages)"));
    }
    c.messages.forEach(function (m) {
      var box = el("div", "msg " + m[0]);
      box.appendChild(el("span", "role", m[0]));
      (m[2] || []).forEach(function (call) {
        box.appendChild(el("span", "tool", "tool: " + call));
      });
      box.appendChild(document.createTextNode(m[1]));
      transcript.appendChild(box);
    });
    details.appendChild(transcript);
    fragment.appendChild(details);
    var text = [c.id, c.status, c.passed ? "pass passed" : "fail failing",
      c.outcome || "none", c.persona, c.input_id, c.intent || "", c.input,
      c.reason || "", c.detail || "", c.error || "", String(c.seed)];
    c.criteria.forEach(function (v) { text.push(v[0]); text.push(v[2]); });
    c.messages.forEach(function (m) { text.push(m[1]); text.push((m[2] || []).join("\\n")); });
    entries.push({node: details, text: text.join("\\n").toLowerCase()});
  });
  list.appendChild(fragment);
  if (entries.length && data[0].failing) { entries[0].node.open = true; }

  function apply(query) {
    var words = query.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    entries.forEach(function (entry) {
      var match = words.every(function (w) { return entry.text.indexOf(w) !== -1; });
      entry.node.hidden = !match;
      entry.node.classList.toggle("is-hidden", !match);
      if (match) { shown += 1; }
    });
    counter.textContent = shown + " of " + entries.length + " conversations shown";
  }
  function fromHash() {
    var match = /(?:^#|&)q=([^&]*)/.exec(window.location.hash);
    if (!match) { return null; }
    try { return decodeURIComponent(match[1].replace(/\\+/g, " ")); }
    catch (e) { return match[1]; }
  }
  search.addEventListener("input", function () {
    apply(search.value);
    try {
      history.replaceState(null, "", search.value ?
        "#q=" + encodeURIComponent(search.value) : window.location.pathname);
    } catch (e) { /* some file:// pages refuse; the filter still works */ }
  });
  window.addEventListener("hashchange", function () {
    var query = fromHash();
    if (query !== null) { search.value = query; apply(query); }
  });
  document.getElementById("expand").addEventListener("click", function () {
    entries.forEach(function (e) { if (!e.node.hidden) { e.node.open = true; } });
  });
  document.getElementById("collapse").addEventListener("click", function () {
    entries.forEach(function (e) { e.node.open = false; });
  });
  var initial = fromHash();
  if (initial !== null) { search.value = initial; }
  apply(search.value);
})();
"""
