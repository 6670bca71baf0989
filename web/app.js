// The page of a stripecast peer: polls /peer.json every second and shows the
// stations this peer serves (a player each), its place in each stripe's tree
// and the share of generations it delivered over the last minutes; polls
// /stations.json, the station directory, every few seconds and lists it.
// Strings from the network (titles, mounts) only ever go through textContent.
"use strict";

const POLL_MS = 1000;
const DIRECTORY_POLL_MS = 5000;
const SVG_NS = "http://www.w3.org/2000/svg";
const players = new Map(); // mount -> its card's elements, made once

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

function short(ref) {
  return ref ? ref.addr + " " + ref.id.slice(0, 6) : "";
}

function station(st) {
  let p = players.get(st.mount);
  const video = st.content_type.startsWith("video/");
  if (p && p.video !== video && p.media.paused) {
    p.card.remove(); // the station changed kind: a new element for it
    players.delete(st.mount);
    p = undefined;
  }
  if (!p) {
    const card = el("article", { class: "station" });
    const h = el("h3");
    const media = el(video ? "video" : "audio", { controls: "", preload: "none" });
    media.src = st.mount; // served by this peer, with the codec headers first
    const now = el("p");
    const title = el("span", { class: "title" });
    now.append("Now playing: ", title);
    const meta = el("p", { class: "dim" });
    // The station's own page, served by this peer at /page/ (sandboxed: no
    // scripts, an origin of its own); shown when the station has one.
    const page = el("p", { class: "page" });
    page.append(el("a", { href: "/page/", target: "_blank", rel: "noopener" },
                    "The station's page"));
    card.append(h, media, now, meta, page);
    document.getElementById("stations").append(card);
    p = { card, h, media, title, meta, page, video };
    players.set(st.mount, p);
  }
  p.h.textContent = st.name || st.mount;
  p.title.textContent = st.title || "\u2014";
  p.meta.textContent = st.mount + " \u00b7 " + (st.content_type || "type not known yet") +
                       " \u00b7 " + st.listeners + " listener" +
                       (st.listeners === 1 ? "" : "s") + " on this peer";
  p.page.hidden = !(st.page_bytes > 0);
}

function stripeRow(s) {
  const tr = el("tr", { class: "stripe" });
  const state = s.root ? "root" : s.attached ? "attached" : s.wanted ? "searching" : "not wanted";
  const cls = s.attached ? "up" : s.wanted ? "down" : "dim";
  const parent = s.parent ? short(s.parent) : s.root ? "(root)" : "\u2014";
  // The first child in the cell, all of them (up to 16) in its tooltip.
  const first = s.child_list.length ?
      ": " + short(s.child_list[0]) + (s.children > 1 ? " \u2026" : "") : "";
  const all = s.child_list.map(short).join("\n") +
              (s.children > s.child_list.length ? "\n\u2026" : "");
  tr.append(el("td", { class: "n" }, String(s.stripe)),
            el("td", { class: cls }, state),
            el("td", { class: "addr" }, parent),
            el("td", { class: "addr", title: all }, s.children + first),
            el("td", { class: "n" }, s.in_per_s.toFixed(1)),
            el("td", { class: "n" }, s.out_per_s.toFixed(1)),
            el("td", { class: "n" }, String(s.chunks_missed)));
  return tr;
}

function chart(c) {
  const svg = document.getElementById("chart");
  const W = 600, H = 120, n = 120;
  const span = c.period_s * n;
  const w = W / n;
  const kids = [];
  for (const y of [0.5, 1]) {
    const line = document.createElementNS(SVG_NS, "line");
    line.setAttribute("class", "grid");
    line.setAttribute("x1", 0); line.setAttribute("x2", W);
    line.setAttribute("y1", H - y * (H - 4)); line.setAttribute("y2", H - y * (H - 4));
    kids.push(line);
  }
  for (const m of c.samples) {
    if (m.continuity === null) continue;
    const r = document.createElementNS(SVG_NS, "rect");
    const h = Math.max(2, m.continuity * (H - 4));
    r.setAttribute("x", W - (m.age_s / span) * W - w);
    r.setAttribute("y", H - h);
    r.setAttribute("width", w * 0.8);
    r.setAttribute("height", h);
    r.setAttribute("class", m.continuity >= 1 ? "ok" : "bad");
    const t = document.createElementNS(SVG_NS, "title");
    t.textContent = (100 * m.continuity).toFixed(1) + "% of " + (m.gens + m.gens_bad) +
                    " generations, " + Math.round(m.age_s) + " s ago";
    r.append(t);
    kids.push(r);
  }
  svg.replaceChildren(...kids);
  document.getElementById("chart-span").textContent = Math.round(span / 60) + " min ago";
}

function render(j) {
  document.getElementById("node").textContent = j.node.role + " " + j.node.addr + " \u00b7 id " +
      j.node.id + " \u00b7 up " + Math.round(j.node.uptime_s) + " s";
  for (const st of j.stations) station(st);
  const tb = document.getElementById("stripes");
  tb.replaceChildren(...j.stripes.map(stripeRow));
  document.getElementById("attached").textContent =
      j.stripes_attached + " of " + j.stripes.length + " stripes attached";
  const c = j.stream.continuity;
  document.getElementById("cont-now").textContent = c === null ? "" :
      (100 * c).toFixed(2) + "% since start (" + j.stream.gens_delivered + " generations)";
  chart(j.continuity);
}

async function poll() {
  const status = document.getElementById("status");
  try {
    const r = await fetch("/peer.json", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
    status.textContent = "live";
    status.className = "up";
  } catch (e) {
    status.textContent = "peer not answering (" + e.message + ")";
    status.className = "down";
  }
  setTimeout(poll, POLL_MS);
}

// One row of the directory. A station this peer serves plays here; another
// is played by a peer that listens to it, started as the row says.
function directoryRow(st) {
  const name = el("td");
  name.append(el("strong", {}, st.name || st.mount));
  if (st.description) name.append(el("br"), el("span", { class: "dim" }, st.description));
  const play = el("td");
  if (players.has(st.mount)) {
    play.append(el("a", { href: st.mount }, "play"));
  } else {
    play.append(el("code", {}, "stripecast listen --station " + st.station));
  }
  const status = st.online ? "online" : st.on_air ? "offline" : "off the air";
  const tr = el("tr");
  tr.append(name, el("td", { class: st.online ? "up" : "dim" }, status),
            el("td", {}, String(st.listeners)), el("td", {}, st.genre),
            el("td", {}, st.codec), el("td", {}, String(st.bitrate_kbps)), play);
  return tr;
}

async function pollDirectory() {
  try {
    const r = await fetch("/stations.json", { cache: "no-store" });
    if (r.ok) {
      const list = await r.json();
      document.getElementById("directory").replaceChildren(...list.map(directoryRow));
      document.getElementById("dir-count").textContent =
          list.filter((s) => s.online).length + " online of " + list.length;
    }
  } catch (e) {
    // The peer's own poll reports a peer that does not answer.
  }
  setTimeout(pollDirectory, DIRECTORY_POLL_MS);
}

poll();
pollDirectory();
