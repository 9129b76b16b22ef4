// KPI page of the store console: trends per KPI with the band of ordinary
// values and the alarms, as charts the server draws (GET /v1/kpis/charts).
// Support chooses a store or all stores; staff see their own. The token stays
// in this tab (sessionStorage), shared with the console's main page.
"use strict";

const texts = {
  en: {
    title: "Store KPIs", console: "Store console", token: "Your staff or support token", signin: "Sign in", signout: "Sign out",
    badToken: "This token is not valid for the KPIs.", store: "Store", allStores: "All stores", days: "Days",
    legend: "Daily values (UTC days, all fulfilment methods). The green band is the ordinary range, from the store's own previous 28 days; red dots lie outside it; red marks and shading are alarms.",
    alarms: "Alarms", trends: "Trends", noAlarms: "No alarms in these days.", open: "open", resolved: "resolved",
    latest: "yesterday", failed: "The KPIs cannot be read now. Please try again.", loading: "Loading…",
  },
  de: {
    title: "Filial-Kennzahlen", console: "Filial-Konsole", token: "Ihr Mitarbeiter- oder Support-Token", signin: "Anmelden", signout: "Abmelden",
    badToken: "Dieses Token gilt nicht für die Kennzahlen.", store: "Filiale", allStores: "Alle Filialen", days: "Tage",
    legend: "Tageswerte (UTC-Tage, alle Versandarten). Das grüne Band ist der Normalbereich aus den 28 Tagen davor in derselben Filiale; rote Punkte liegen außerhalb; rote Markierungen und Flächen sind Alarme.",
    alarms: "Alarme", trends: "Verlauf", noAlarms: "Keine Alarme in diesen Tagen.", open: "offen", resolved: "beendet",
    latest: "gestern", failed: "Die Kennzahlen sind gerade nicht lesbar. Bitte erneut versuchen.", loading: "Wird geladen…",
  },
};

const state = {
  lang: sessionStorage.getItem("lang") || (navigator.language.startsWith("de") ? "de" : "en"),
  token: sessionStorage.getItem("token") || "", role: "", store: "", days: Number(sessionStorage.getItem("kpiDays")) || 28,
  seq: 0, // the latest load; an older answer arriving late is dropped
};
const $ = (id) => document.getElementById(id);
const t = (key) => texts[state.lang][key] || texts.en[key];

function translate() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  $("lang").textContent = state.lang === "de" ? "EN" : "DE";
  const all = $("store").querySelector('option[value="*"]');
  if (all) all.textContent = t("allStores") + " (*)";
}

async function api(path) {
  const res = await fetch(path, { headers: { Authorization: "Bearer " + state.token } });
  const data = await res.json().catch(() => ({}));
  return { status: res.status, data };
}

async function signIn(token) {
  state.token = token;
  const { status, data } = await api("/v1/me");
  if (status !== 200 || !(data.role === "support" || (data.role === "staff" && data.store_id))) {
    state.token = "";
    sessionStorage.removeItem("token");
    $("signin-error").textContent = t("badToken");
    return;
  }
  sessionStorage.setItem("token", token);
  state.role = data.role;
  $("signin").hidden = true;
  $("kpis").hidden = false;
  $("signout").hidden = false;
  if (data.role === "staff") {
    state.store = data.store_id;
    $("who").textContent = data.store_name || data.store_id;
    $("to-console").hidden = false;
  } else {
    $("who").textContent = "Support";
    $("store-choice").hidden = false;
    await loadStores();
  }
  await load();
}

function signOut() {
  sessionStorage.removeItem("token");
  location.reload();
}

// loadStores lists, for support, every store that has orders in the longest
// range the page draws, after the totals.
async function loadStores() {
  const from = new Date(Date.now() - 90 * 86400000).toISOString().slice(0, 10) + "T00:00:00Z";
  const { status, data } = await api(`/v1/kpis?kpi=orders_placed&granularity=day&method=*&from=${from}`);
  const stores = status === 200 ? [...new Set(data.values.map((v) => v.store_id))].filter((s) => s !== "*").sort() : [];
  const select = $("store");
  select.replaceChildren();
  for (const s of ["*", ...stores]) {
    const o = document.createElement("option");
    o.value = s;
    o.textContent = s === "*" ? t("allStores") + " (*)" : s;
    select.append(o);
  }
  // An alarm's message links here with ?store_id= (docs/alarms.md).
  state.store = new URLSearchParams(location.search).get("store_id") || sessionStorage.getItem("kpiStore") || "*";
  if (![...select.options].some((o) => o.value === state.store)) state.store = "*";
  select.value = state.store;
}

// svgNode parses a chart the server drew as SVG (never as HTML), so that
// nothing in it runs.
function svgNode(text) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  if (doc.querySelector("parsererror")) return document.createTextNode("");
  return document.importNode(doc.documentElement, true);
}

async function load() {
  document.querySelectorAll("[data-days]").forEach((b) => b.setAttribute("aria-pressed", String(Number(b.dataset.days) === state.days)));
  $("load-error").textContent = "";
  $("kpis").setAttribute("aria-busy", "true");
  const q = new URLSearchParams({ store_id: state.store, days: String(state.days), lang: state.lang });
  const seq = ++state.seq;
  const { status, data } = await api("/v1/kpis/charts?" + q);
  if (seq !== state.seq) return;
  $("kpis").removeAttribute("aria-busy");
  if (status === 401) return signOut();
  if (status !== 200) {
    $("load-error").textContent = data.detail || t("failed");
    return;
  }
  renderAlarms(data.alarms, data.store_id);
  const box = $("charts");
  box.replaceChildren();
  for (const c of data.charts) {
    const card = document.createElement("figure");
    card.className = "card chart";
    card.dataset.kpi = c.kpi;
    const cap = document.createElement("figcaption");
    const h = document.createElement("h3");
    h.textContent = c.title;
    const latest = document.createElement("span");
    latest.className = "latest";
    latest.textContent = t("latest") + ": " + c.latest;
    cap.append(h, latest);
    card.append(cap, svgNode(c.svg));
    box.append(card);
  }
  box.dataset.loaded = `${data.store_id}/${data.days}/${data.lang}`;
}

function renderAlarms(alarms, store) {
  const list = $("alarms");
  list.replaceChildren();
  if (alarms.length === 0) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = t("noAlarms");
    list.append(li);
    return;
  }
  for (const a of alarms) {
    const li = document.createElement("li");
    li.className = a.resolved_at ? "alarm" : "alarm open";
    li.dataset.kpi = a.kpi;
    const badge = document.createElement("span");
    badge.className = "badge " + (a.resolved_at ? "done" : "warn");
    badge.textContent = a.resolved_at ? t("resolved") : t("open");
    li.append(badge);
    if (store === "*") {
      const s = document.createElement("strong");
      s.textContent = a.store_id;
      li.append(" ", s);
    }
    li.append(" " + a.text);
    list.append(li);
  }
}

$("signin").addEventListener("submit", (e) => { e.preventDefault(); $("signin-error").textContent = ""; signIn($("token").value.trim()); });
$("signout").addEventListener("click", signOut);
$("store").addEventListener("change", () => { state.store = $("store").value; sessionStorage.setItem("kpiStore", state.store); load(); });
document.querySelectorAll("[data-days]").forEach((b) => b.addEventListener("click", () => {
  state.days = Number(b.dataset.days);
  sessionStorage.setItem("kpiDays", String(state.days));
  load();
}));
$("lang").addEventListener("click", () => {
  state.lang = state.lang === "de" ? "en" : "de";
  sessionStorage.setItem("lang", state.lang);
  translate();
  if (state.role) load();
});
translate();
if (state.token) signIn(state.token);
