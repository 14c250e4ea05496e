/**
 * The trace page's script (inlined, allowed by its hash in the page's CSP). One view for
 * both sources: a file page reads its turns from the JSON block in the page; the live page
 * fetches `session` (a snapshot) and applies `session/events` (SSE) on top. Every text goes
 * into the DOM as a text node: nothing from the data is ever parsed as HTML. Only the turns
 * near the viewport are in the DOM (heights measured once rendered, estimated before), so a
 * session of 10 000 turns opens and scrolls like a short one.
 *
 * Written without template literals so that it can live in a TypeScript string.
 */
export const PAGE_JS = String.raw`(function () {
'use strict';
var config = JSON.parse(document.getElementById('trace-config').textContent);
var FOLD_LINES = 12, FOLD_CHARS = 1200, OVERSCAN = 900, EST = 160;
var turns = [];          // by index
var heights = new Map(); // turn index -> measured px
var rendered = new Map(); // turn index -> element
var order = [];          // turns shown (all, or the search's matches)
var query = '';
var ended = false, endedAt = null, skipped = 0;
var waiting = [];        // [{index, since}]
var clockOffset = 0;     // server clock - ours (live)
var cursor = '';

var list = document.getElementById('turns');
var padTop = el('div', 'pad'), box = el('div'), padBottom = el('div', 'pad'), endLine = el('div', 'end');
list.appendChild(padTop); list.appendChild(box); list.appendChild(padBottom); list.appendChild(endLine);
var search = document.getElementById('search');
var svg = document.getElementById('timeline');
var tip = document.getElementById('tip');

function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.appendChild(document.createTextNode(text));
  return e;
}
function svgEl(tag, cls) {
  var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  if (cls) e.setAttribute('class', cls);
  return e;
}
function duration(ms) {
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(2) + ' s';
  var s = Math.round(ms / 1000);
  return Math.floor(s / 60) + ' min ' + String(s % 60).padStart(2, '0') + ' s';
}
function clock(ms) { return new Date(ms).toISOString().slice(11, 23) + 'Z'; }
function usageText(u) {
  if (!u) return '';
  var p = [];
  if (u.input !== undefined) p.push(u.input + ' in' + (u.cached ? ' (' + u.cached + ' cached)' : ''));
  if (u.output !== undefined) p.push(u.output + ' out' + (u.reasoning ? ' (' + u.reasoning + ' reasoning)' : ''));
  if (!p.length && u.total !== undefined) p.push(u.total + ' total');
  return p.length ? 'tokens ' + p.join(' / ') : '';
}
var ROLE_CLASS = { user: 'user', assistant: 'assistant', tool: 'tool', system: 'system', developer: 'system' };

// Text with the search's matches marked; built from text nodes only.
function textInto(parent, text) {
  if (!query) { parent.appendChild(document.createTextNode(text)); return; }
  var lower = text.toLowerCase(), at = 0, hit;
  while ((hit = lower.indexOf(query, at)) !== -1) {
    if (hit > at) parent.appendChild(document.createTextNode(text.slice(at, hit)));
    parent.appendChild(el('mark', '', text.slice(hit, hit + query.length)));
    at = hit + query.length;
  }
  if (at < text.length) parent.appendChild(document.createTextNode(text.slice(at)));
}
function pre(text) { var p = el('pre'); textInto(p, text); return p; }

function body(part) {
  var text = part.text;
  if (part.type === 'reasoning') {
    var d = el('details', 'reasoning');
    var line = text.replace(/\s+/g, ' ').trim();
    var s = el('summary');
    textInto(s, line.length > 100 ? line.slice(0, 100) + '\u2026 (' + text.length + ' chars)' : line || '(empty)');
    d.appendChild(s); d.appendChild(pre(text));
    if (query && text.toLowerCase().indexOf(query) !== -1) d.open = true;
    return d;
  }
  var lines = text.split('\n').length;
  var long = lines > FOLD_LINES || text.length > FOLD_CHARS;
  if (!long || (query && text.toLowerCase().indexOf(query) !== -1)) return pre(text);
  var f = el('div', 'fold closed');
  f.appendChild(pre(text));
  var b = el('button', '', 'show all (' + lines + ' lines, ' + text.length + ' chars)');
  b.type = 'button';
  b.addEventListener('click', function () {
    var closed = f.classList.toggle('closed');
    b.textContent = closed ? 'show all (' + lines + ' lines, ' + text.length + ' chars)' : 'fold';
  });
  f.appendChild(b);
  return f;
}

function partRow(role, part) {
  var label = role, cls = ROLE_CLASS[role] || 'other', text = part.text;
  var ids = [part.name, part.id].filter(function (x) { return x; }).join(' \u00b7 ');
  if (part.type === 'reasoning') { label = 'reasoning'; cls = 'other'; }
  else if (part.type === 'tool_call') { label = 'tool call'; cls = 'call'; text = ids + '\n' + text; }
  else if (part.type === 'tool_result') { label = part.error ? 'tool error' : 'tool result'; cls = part.error ? 'error' : 'result'; if (ids) text = ids + '\n' + text; }
  var row = el('div', 'msg ' + cls);
  row.appendChild(el('div', 'label', label));
  row.appendChild(body({ type: part.type, text: text }));
  return row;
}
function textRow(label, cls, text) { var row = el('div', 'msg ' + cls); row.appendChild(el('div', 'label', label)); row.appendChild(body({ type: 'text', text: text })); return row; }

function turnFacts(t) {
  var f = [t.endpoint];
  if (t.shape !== 'chat') f.push(t.shape + ' payload');
  if (t.model) f.push(t.model);
  if (t.stream) f.push('stream');
  if (t.requestedAt !== undefined) f.push(new Date(t.requestedAt).toISOString().slice(0, 10) + ' ' + clock(t.requestedAt));
  var c = t.context;
  if (c.continues !== undefined) f.push(c.dropped > 0 ? 'context rewritten: keeps ' + c.kept + ' of #' + c.continues + '\u2019s messages, drops ' + c.dropped : 'continues #' + c.continues + ' (' + c.kept + ' messages)');
  return f.join(' \u00b7 ');
}
function answerFacts(t) {
  var f = [];
  if (t.status === 'waiting') f.push('waiting for the runtime');
  else if (t.status === 'unanswered') f.push('no answer in the log');
  else if (t.latencyMs !== undefined) f.push((t.status === 'failed' ? 'failed after ' : 'answered in ') + duration(t.latencyMs));
  else f.push(t.status);
  if (t.statusCode !== undefined) f.push('HTTP ' + t.statusCode);
  var u = usageText(t.usage); if (u) f.push(u);
  if (t.answer && t.answer.finish) f.push(t.answer.finish);
  return f.join(' \u00b7 ');
}

function turnEl(t) {
  var a = el('article', 'turn ' + t.status);
  a.dataset.index = String(t.index);
  var h = el('div', 'head'); h.appendChild(el('b', '', '#' + t.index + ' ')); h.appendChild(document.createTextNode(turnFacts(t)));
  a.appendChild(h);
  if (t.elided) a.appendChild(el('div', 'note', 'messages dropped from the live view to bound its memory; run rock model-service trace on the log for everything'));
  if (t.system !== undefined) a.appendChild(textRow('system', 'system', t.system));
  if (t.tools !== undefined) a.appendChild(textRow('tools', 'other', t.tools.join(', ') || '(none)'));
  t.added.forEach(function (m) {
    if (!m.parts.length) a.appendChild(textRow(m.role, ROLE_CLASS[m.role] || 'other', '(empty)'));
    m.parts.forEach(function (p) { a.appendChild(partRow(m.role, p)); });
  });
  var ans = el('div', 'answer');
  var ah = el('div', 'head'); ah.appendChild(el('b', '', '\u25c0 #' + t.index + ' ')); ah.appendChild(document.createTextNode(answerFacts(t)));
  ans.appendChild(ah);
  if (t.error) ans.appendChild(textRow('error', 'error', t.error));
  if (t.answer) t.answer.parts.forEach(function (p) { ans.appendChild(partRow('assistant', p)); });
  a.appendChild(ans);
  return a;
}

// ---- the window of rendered turns ----
var resize = new ResizeObserver(function (entries) {
  var changed = false;
  entries.forEach(function (e) {
    var i = Number(e.target.dataset.index), h = e.target.offsetHeight;
    if (h && heights.get(i) !== h) { heights.set(i, h); changed = true; }
  });
  if (changed) schedule();
});
function height(t) { var h = heights.get(t.index); return h === undefined ? EST : h; }
var frame = 0;
function schedule() { if (!frame) frame = requestAnimationFrame(function () { frame = 0; layout(); }); }

function layout() {
  var top = list.getBoundingClientRect().top;
  var from = -top - OVERSCAN, to = -top + innerHeight + OVERSCAN;
  var y = 0, first = -1, last = -1, before = 0, after = 0, i;
  for (i = 0; i < order.length; i++) {
    var h = height(order[i]);
    if (y + h > from && y < to) { if (first === -1) { first = i; before = y; } last = i; }
    else if (y >= to) after += h;
    y += h;
  }
  if (first === -1) { before = y; }
  var want = new Map();
  for (i = first; i !== -1 && i <= last; i++) want.set(order[i].index, order[i]);
  rendered.forEach(function (node, index) {
    if (!want.has(index)) { resize.unobserve(node); node.remove(); rendered.delete(index); }
  });
  var cursor = box.firstChild;
  want.forEach(function (t, index) {
    var node = rendered.get(index);
    if (!node) { node = turnEl(t); rendered.set(index, node); resize.observe(node); }
    if (node === cursor) cursor = cursor.nextSibling; else box.insertBefore(node, cursor);
  });
  padTop.style.height = before + 'px';
  padBottom.style.height = after + 'px';
  drawView(first, last);
}

function rerender() { rendered.forEach(function (node) { resize.unobserve(node); node.remove(); }); rendered.clear(); layout(); }

function jumpTo(index) {
  var pos = -1;
  for (var i = 0; i < order.length; i++) if (order[i].index >= index) { pos = i; break; }
  if (pos === -1) return;
  var y = 0;
  for (var k = 0; k < pos; k++) y += height(order[k]);
  window.scrollTo(0, list.getBoundingClientRect().top + window.scrollY + y - document.querySelector('header.top').offsetHeight);
  layout();
  var target = order[pos].index, tries = 0;
  (function settle() {
    var node = rendered.get(target);
    if (node) node.scrollIntoView({ block: 'start' });
    layout();
    if (++tries < 3) requestAnimationFrame(settle);
  })();
}

// ---- timeline ----
var maxLatency = 1;
var paths = {};
['answered', 'failed', 'waiting'].forEach(function (k) { paths[k] = svgEl('path', k); svg.appendChild(paths[k]); });
var viewRect = svgEl('rect', 'view'); svg.appendChild(viewRect);
function drawTimeline() {
  var n = Math.max(turns.length, 1), W = 1000, H = 56;
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('preserveAspectRatio', 'none');
  maxLatency = 1;
  turns.forEach(function (t) { if (t.latencyMs > maxLatency) maxLatency = t.latencyMs; });
  var d = { answered: [], failed: [], waiting: [] }, w = W / n;
  turns.forEach(function (t, i) {
    var kind = t.status === 'answered' ? 'answered' : t.status === 'failed' ? 'failed' : 'waiting';
    var v = t.latencyMs === undefined ? 0.04 : Math.max(0.04, Math.sqrt(t.latencyMs / maxLatency));
    var x = i * w, bh = v * (H - 4);
    d[kind].push('M' + x.toFixed(2) + ' ' + H + 'V' + (H - bh).toFixed(2) + 'h' + Math.max(w * 0.8, 0.3).toFixed(2) + 'V' + H + 'Z');
  });
  Object.keys(d).forEach(function (k) { paths[k].setAttribute('d', d[k].join('')); });
}
var timelineFrame = 0;
function redrawTimeline() { if (!timelineFrame) timelineFrame = requestAnimationFrame(function () { timelineFrame = 0; drawTimeline(); }); }
function drawView(first, last) {
  if (first === -1 || !turns.length) { viewRect.setAttribute('width', '0'); return; }
  var a = posOf(order[first].index), b = posOf(order[last].index), w = 1000 / turns.length;
  viewRect.setAttribute('x', String(a * w)); viewRect.setAttribute('y', '0');
  viewRect.setAttribute('width', String(Math.max((b - a + 1) * w, 2))); viewRect.setAttribute('height', '56');
}
function posOf(index) {
  var lo = 0, hi = turns.length - 1;
  while (lo < hi) { var mid = (lo + hi) >> 1; if (turns[mid].index < index) lo = mid + 1; else hi = mid; }
  return lo;
}
function turnAtX(clientX) {
  var r = svg.getBoundingClientRect();
  var i = Math.floor((clientX - r.left) / r.width * turns.length);
  return turns[Math.min(Math.max(i, 0), turns.length - 1)];
}
svg.addEventListener('click', function (e) { var t = turnAtX(e.clientX); if (t) jumpTo(t.index); });
svg.addEventListener('mousemove', function (e) {
  var t = turnAtX(e.clientX);
  tip.textContent = t ? '#' + t.index + ' \u00b7 ' + (t.latencyMs !== undefined ? duration(t.latencyMs) : t.status) + (t.model ? ' \u00b7 ' + t.model : '') : '';
});
svg.addEventListener('mouseleave', function () { tip.textContent = 'latency per turn (click to jump); longest ' + duration(maxLatency); });

// ---- search ----
var haystacks = new Map();
function haystack(t) {
  var h = haystacks.get(t.index);
  if (h === undefined) {
    var s = [t.endpoint, t.model || '', t.system || '', (t.tools || []).join(' '), t.error || ''];
    t.added.forEach(function (m) { s.push(m.role); m.parts.forEach(function (p) { s.push(p.name || '', p.text); }); });
    if (t.answer) t.answer.parts.forEach(function (p) { s.push(p.name || '', p.text); });
    h = s.join('\n').toLowerCase();
    haystacks.set(t.index, h);
  }
  return h;
}
function matches(t) { return !query || haystack(t).indexOf(query) !== -1; }
function refilter() {
  order = query ? turns.filter(matches) : turns.slice();
  document.getElementById('count').textContent = query ? order.length + ' of ' + turns.length + ' turns match' : '';
  rerender();
}
var searchTimer = 0;
search.addEventListener('input', function () {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(function () { query = search.value.trim().toLowerCase(); refilter(); window.scrollTo(0, 0); }, 120);
});
document.addEventListener('keydown', function (e) {
  if (e.key === '/' && document.activeElement !== search) { e.preventDefault(); search.focus(); }
  else if (e.key === 'Escape' && document.activeElement === search) { search.value = ''; query = ''; refilter(); }
});
window.addEventListener('scroll', schedule, { passive: true });
window.addEventListener('resize', function () { heights.clear(); rerender(); });

// ---- the data ----
function upsert(t) {
  var pos = turns.length && turns[turns.length - 1].index < t.index ? turns.length : posOf(t.index);
  var old = turns[pos] && turns[pos].index === t.index;
  if (old) turns[pos] = t; else turns.splice(pos, 0, t);
  haystacks.delete(t.index);
  if (old) {
    var at = order.findIndex(function (o) { return o.index === t.index; });
    if (at !== -1) { if (matches(t)) order[at] = t; else order.splice(at, 1); }
    else if (matches(t)) order = turns.filter(matches);
    var node = rendered.get(t.index);
    if (node) { resize.unobserve(node); node.remove(); rendered.delete(t.index); }
  } else if (matches(t)) {
    if (!order.length || order[order.length - 1].index < t.index) order.push(t); else order = turns.filter(matches);
  }
}
function stats() {
  var answered = 0, failed = 0, total = 0, timed = 0, tin = 0, tout = 0;
  turns.forEach(function (t) {
    if (t.status === 'answered') answered++; else if (t.status === 'failed') failed++;
    if (t.latencyMs !== undefined) { total += t.latencyMs; timed++; }
    if (t.usage) { tin += t.usage.input || 0; tout += t.usage.output || 0; }
  });
  var s = [turns.length + ' turns', answered + ' answered'];
  if (failed) s.push(failed + ' failed');
  if (timed) s.push('answers took ' + duration(total) + ' (mean ' + duration(total / timed) + ')');
  if (tin || tout) s.push('tokens ' + tin + ' in / ' + tout + ' out');
  if (skipped) s.push(skipped + ' lines skipped');
  document.getElementById('stats').textContent = s.join(' \u00b7 ');
  endLine.textContent = ended ? 'SESSION_END' + (endedAt ? ' \u00b7 ' + clock(endedAt) : '') : '';
  var st = document.getElementById('state');
  if (config.mode === 'live') { st.textContent = ended ? 'session ended' : 'live'; st.className = ended ? 'ended' : 'live'; }
}
function showWaiting() {
  var w = document.getElementById('waiting');
  if (!waiting.length) { w.textContent = ''; return; }
  var now = Date.now() + clockOffset;
  w.textContent = 'waiting for the runtime: ' + waiting.map(function (x) { return '#' + x.index + (x.since ? ' for ' + duration(Math.max(0, now - x.since)) : ''); }).join(', ');
}
function refresh() { stats(); redrawTimeline(); schedule(); showWaiting(); }

function load(snapshot) {
  turns = snapshot.turns.slice().sort(function (a, b) { return a.index - b.index; });
  heights.clear(); haystacks.clear();
  ended = snapshot.state === 'ended'; endedAt = snapshot.endedAt || null; skipped = snapshot.skipped || 0;
  waiting = snapshot.waiting || [];
  order = query ? turns.filter(matches) : turns.slice();
  rerender(); refresh();
  tip.textContent = 'latency per turn (click to jump); longest ' + duration(maxLatency);
}

if (config.mode === 'file') {
  load(JSON.parse(document.getElementById('trace-data').textContent));
} else {
  var source = null;
  var connect = function () {
    if (source) source.close();
    fetch('session', { cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error('GET session answered ' + r.status);
      return r.json();
    }).then(function (snapshot) {
      clockOffset = snapshot.now ? snapshot.now - Date.now() : 0;
      cursor = snapshot.cursor || '';
      load(snapshot);
      source = new EventSource('session/events?after=' + encodeURIComponent(cursor));
      source.addEventListener('request', function (e) { take(e); upsert(JSON.parse(e.data).turn); refresh(); });
      source.addEventListener('turn', function (e) { take(e); upsert(JSON.parse(e.data)); refresh(); });
      source.addEventListener('state', function (e) {
        take(e);
        var s = JSON.parse(e.data);
        ended = s.state === 'ended'; if (s.endedAt) endedAt = s.endedAt;
        waiting = s.waiting || []; skipped = s.skipped || skipped;
        if (s.now) clockOffset = s.now - Date.now();
        refresh();
      });
      source.addEventListener('reset', function () { connect(); });
    }).catch(function () { document.getElementById('state').textContent = 'disconnected; retrying'; setTimeout(connect, 2000); });
  };
  var take = function (e) { if (e.lastEventId) cursor = e.lastEventId; };
  connect();
  setInterval(showWaiting, 1000);
}
})();`;
