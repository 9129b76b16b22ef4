// Store console: signs in with a staff token and works the store's list through
// the public /v1 API only. The token stays in this tab (sessionStorage).
"use strict";

const texts = {
  en: {
    title: "Store console", token: "Your staff token", signin: "Sign in", signout: "Sign out",
    pick: "Pick list", arriving: "Parcels to receive", ready: "Ready for pickup",
    search: "Search order number", confirmPick: "Confirm pick", confirmArrival: "Parcel arrived",
    handOver: "Hand over", code: "Pickup code", due: "pick by", tracking: "tracking",
    attention: "needs attention", none: "Nothing here right now.",
    badToken: "This token is not valid for a store.", picked: "Pick confirmed for", arrived: "Arrival confirmed for",
    handedOver: "Handed over:", wrongCode: "Wrong pickup code. Check the code with the customer.",
    attemptsLeft: "Attempts left:", locked: "Handover locked after too many wrong codes. Please call support.",
    failed: "That did not work. Please try again.", qty: "of",
  },
  de: {
    title: "Filial-Konsole", token: "Ihr Mitarbeiter-Token", signin: "Anmelden", signout: "Abmelden",
    pick: "Pickliste", arriving: "Eingehende Pakete", ready: "Abholbereit",
    search: "Bestellnummer suchen", confirmPick: "Pick bestätigen", confirmArrival: "Paket angekommen",
    handOver: "Übergeben", code: "Abholcode", due: "picken bis", tracking: "Sendung",
    attention: "Klärung nötig", none: "Gerade nichts zu tun.",
    badToken: "Dieses Token gilt für keine Filiale.", picked: "Pick bestätigt für", arrived: "Ankunft bestätigt für",
    handedOver: "Übergeben:", wrongCode: "Falscher Abholcode. Bitte den Code mit der Kundin oder dem Kunden prüfen.",
    attemptsLeft: "Verbleibende Versuche:", locked: "Übergabe nach zu vielen falschen Codes gesperrt. Bitte den Support anrufen.",
    failed: "Das hat nicht geklappt. Bitte erneut versuchen.", qty: "von",
  },
};

const state = { lang: sessionStorage.getItem("lang") || (navigator.language.startsWith("de") ? "de" : "en"), token: sessionStorage.getItem("token") || "", store: "", work: null, timer: 0 };
const $ = (id) => document.getElementById(id);
const t = (key) => texts[state.lang][key] || texts.en[key];

function translate() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  document.querySelectorAll("[data-tp]").forEach((el) => { el.placeholder = t(el.dataset.tp); });
  $("lang").textContent = state.lang === "de" ? "EN" : "DE";
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { Authorization: "Bearer " + state.token, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  return { status: res.status, data };
}

async function signIn(token) {
  state.token = token;
  const { status, data } = await api("GET", "/v1/me");
  if (status !== 200 || data.role !== "staff" || !data.store_id) {
    state.token = "";
    sessionStorage.removeItem("token");
    $("signin-error").textContent = t("badToken");
    return;
  }
  sessionStorage.setItem("token", token);
  state.store = data.store_id;
  $("who").textContent = data.subject + " · " + data.store_id;
  $("signin").hidden = true;
  $("work").hidden = false;
  $("signout").hidden = false;
  await refresh();
  state.timer = setInterval(refresh, 10000);
}

function signOut() {
  clearInterval(state.timer);
  sessionStorage.removeItem("token");
  location.reload();
}

async function refresh() {
  const { status, data } = await api("GET", `/v1/stores/${encodeURIComponent(state.store)}/work`);
  if (status === 401) return signOut();
  if (status !== 200) return;
  state.work = data;
  render();
}

function orderCard(o) {
  const card = $("order-card").content.firstElementChild.cloneNode(true);
  card.dataset.order = o.order_id;
  card.querySelector(".order-id").textContent = o.order_id;
  const badge = card.querySelector(".badge");
  if (o.needs_attention) { badge.hidden = false; badge.textContent = t("attention"); }
  const meta = [];
  if (o.due_at && o.stage === "picking") meta.push(t("due") + " " + new Date(o.due_at).toLocaleString(state.lang));
  if (o.tracking_code) meta.push(t("tracking") + " " + o.tracking_code);
  card.querySelector(".meta").textContent = meta.join(" · ");
  return card;
}

function lineRow(tbody, line, cell) {
  const tr = tbody.insertRow();
  tr.insertCell().textContent = line.sku;
  tr.insertCell().textContent = line.name;
  const q = tr.insertCell();
  q.className = "qty";
  cell(q);
}

function button(label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", async () => { b.disabled = true; try { await onClick(); } finally { b.disabled = false; } });
  return b;
}

// fill renders a list anew. A card that stays keeps what staff typed (quantities, a
// pickup code), its focus and its error, so the 10-second refresh wipes none of them.
function fill(id, orders, build) {
  const box = $(id);
  const before = new Map([...box.querySelectorAll("[data-order]")].map((c) => [c.dataset.order, c]));
  const focused = document.activeElement;
  box.replaceChildren();
  $(id + "-count").textContent = "(" + orders.length + ")";
  if (orders.length === 0) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = t("none");
    box.append(p);
  }
  orders.forEach((o) => {
    const card = build(o);
    box.append(card);
    const old = before.get(o.order_id);
    if (!old) return;
    const inputs = card.querySelectorAll("input");
    old.querySelectorAll("input").forEach((input, i) => {
      if (!inputs[i]) return;
      inputs[i].value = input.value;
      if (input === focused) inputs[i].focus();
    });
    card.querySelector(".error").textContent = old.querySelector(".error").textContent;
  });
}

async function act(card, path, body, okText) {
  const { status, data } = await api("POST", path, body);
  const err = card.querySelector(".error");
  if (status === 200) {
    $("notice").textContent = okText;
    await refresh();
    return;
  }
  if (status === 422) {
    err.textContent = t("wrongCode") + " " + t("attemptsLeft") + " " + data.attempts_left;
  } else if (status === 423) {
    err.textContent = t("locked");
  } else {
    err.textContent = data.errors ? data.errors.map((e) => e.field + ": " + e.message).join("; ") : (data.detail || t("failed"));
  }
}

function render() {
  const w = state.work;
  const base = `/v1/stores/${encodeURIComponent(state.store)}/orders/`;
  fill("pick", w.picking, (o) => {
    const card = orderCard(o);
    const tbody = card.querySelector("tbody");
    o.lines.forEach((l) => lineRow(tbody, l, (cell) => {
      const input = document.createElement("input");
      input.type = "number"; input.min = 0; input.max = l.quantity; input.value = l.quantity;
      input.dataset.sku = l.sku;
      input.setAttribute("aria-label", l.sku);
      cell.append(input, " " + t("qty") + " " + l.quantity);
    }));
    card.querySelector(".actions").append(button(t("confirmPick"), () => {
      const lines = [...card.querySelectorAll("input[data-sku]")].map((i) => ({ sku: i.dataset.sku, quantity: Number(i.value) }));
      return act(card, base + encodeURIComponent(o.order_id) + "/pick", { lines }, t("picked") + " " + o.order_id);
    }));
    return card;
  });
  fill("arriving", w.arriving, (o) => {
    const card = orderCard(o);
    card.querySelector(".actions").append(button(t("confirmArrival"), () =>
      act(card, base + encodeURIComponent(o.order_id) + "/arrival", {}, t("arrived") + " " + o.order_id)));
    return card;
  });
  const q = $("search").value.trim().toLowerCase();
  fill("ready", w.ready_for_pickup.filter((o) => o.order_id.toLowerCase().includes(q)), (o) => {
    const card = orderCard(o);
    const tbody = card.querySelector("tbody");
    o.lines.forEach((l) => lineRow(tbody, l, (cell) => { cell.textContent = "× " + l.quantity; }));
    const code = document.createElement("input");
    code.inputMode = "numeric"; code.autocomplete = "off"; code.placeholder = t("code");
    code.setAttribute("aria-label", t("code"));
    card.querySelector(".actions").append(code, button(t("handOver"), () =>
      act(card, base + encodeURIComponent(o.order_id) + "/pickup", { code: code.value }, t("handedOver") + " " + o.order_id)));
    return card;
  });
}

$("signin").addEventListener("submit", (e) => { e.preventDefault(); $("signin-error").textContent = ""; signIn($("token").value.trim()); });
$("signout").addEventListener("click", signOut);
$("search").addEventListener("input", () => state.work && render());
$("lang").addEventListener("click", () => {
  state.lang = state.lang === "de" ? "en" : "de";
  sessionStorage.setItem("lang", state.lang);
  translate();
  if (state.work) render();
});
translate();
if (state.token) signIn(state.token);
