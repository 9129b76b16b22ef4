// Store console: signs in with a staff token and works the store's list through
// the public /v1 API only. The token stays in this tab (sessionStorage).
"use strict";

const texts = {
  en: {
    title: "Store console", token: "Your staff token", signin: "Sign in", signout: "Sign out",
    pick: "Pick list", arriving: "Parcels to receive", ready: "Ready for pickup", overdue: "Overdue pickups",
    pickHint: "Enter what you found on the shelf; less than ordered marks the line short.",
    overdueHint: "The pickup deadline has passed: the order goes back and the customer is refunded. Hand it over only if the customer is here now.",
    search: "Search order number or customer name", confirmPick: "Confirm pick", confirmShort: "Confirm short pick",
    confirmArrival: "Parcel arrived", handOver: "Hand over", code: "Pickup code", due: "pick by", tracking: "tracking",
    expected: "expected", late: "late", collectBy: "collect by", overdueSince: "deadline passed",
    attention: "needs attention", none: "Nothing here right now.", noMatch: "No order matches the search.",
    badToken: "This token is not valid for a store.", picked: "Pick confirmed for", arrived: "Arrival confirmed for",
    handedOver: "Handed over:", wrongCode: "Wrong pickup code. Check the code with the customer.",
    attemptsLeft: "Attempts left:", locked: "Handover locked after too many wrong codes. Please call support.",
    lockedBadge: "locked", failed: "That did not work. Please try again.", qty: "of",
    short: "short", less: "One less", more: "One more", items: "items", item: "item",
    startPick: "Start picking", pickStarted: "Picking started for", pickingBy: "picking:",
    kpis: "KPIs",
  },
  de: {
    title: "Filial-Konsole", token: "Ihr Mitarbeiter-Token", signin: "Anmelden", signout: "Abmelden",
    pick: "Pickliste", arriving: "Eingehende Pakete", ready: "Abholbereit", overdue: "Abholfrist abgelaufen",
    pickHint: "Tragen Sie ein, was im Regal ist; weniger als bestellt markiert die Position als Fehlmenge.",
    overdueHint: "Die Abholfrist ist abgelaufen: Die Bestellung geht zurück, der Betrag wird erstattet. Nur übergeben, wenn die Kundin oder der Kunde jetzt da ist.",
    search: "Bestellnummer oder Kundenname suchen", confirmPick: "Pick bestätigen", confirmShort: "Fehlmenge bestätigen",
    confirmArrival: "Paket angekommen", handOver: "Übergeben", code: "Abholcode", due: "picken bis", tracking: "Sendung",
    expected: "erwartet", late: "verspätet", collectBy: "abholen bis", overdueSince: "Frist abgelaufen",
    attention: "Klärung nötig", none: "Gerade nichts zu tun.", noMatch: "Keine Bestellung passt zur Suche.",
    badToken: "Dieses Token gilt für keine Filiale.", picked: "Pick bestätigt für", arrived: "Ankunft bestätigt für",
    handedOver: "Übergeben:", wrongCode: "Falscher Abholcode. Bitte den Code mit der Kundin oder dem Kunden prüfen.",
    attemptsLeft: "Verbleibende Versuche:", locked: "Übergabe nach zu vielen falschen Codes gesperrt. Bitte den Support anrufen.",
    lockedBadge: "gesperrt", failed: "Das hat nicht geklappt. Bitte erneut versuchen.", qty: "von",
    short: "Fehlmenge", less: "Eins weniger", more: "Eins mehr", items: "Artikel", item: "Artikel",
    startPick: "Pick beginnen", pickStarted: "Pick begonnen für", pickingBy: "pickt:",
    kpis: "Kennzahlen",
  },
};

const state = { lang: sessionStorage.getItem("lang") || (navigator.language.startsWith("de") ? "de" : "en"), token: sessionStorage.getItem("token") || "", store: "", timeZone: undefined, work: null, timer: 0 };
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
  state.timeZone = data.time_zone || undefined; // unknown: the device's zone
  $("who").textContent = data.store_name || data.store_id;
  $("signin").hidden = true;
  $("work").hidden = false;
  $("jump").hidden = false;
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

// when formats a time for staff: weekday, day, month and time in the page's
// language, in the store's time zone (not the device's, which may be set to any).
function when(iso) {
  return new Date(iso).toLocaleString(state.lang === "de" ? "de-DE" : "en-GB",
    { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZone: state.timeZone });
}

function badge(card, text, kind) {
  const b = document.createElement("span");
  b.className = "badge " + kind;
  b.textContent = text;
  card.querySelector(".badges").append(b);
}

function orderCard(o) {
  const card = $("order-card").content.firstElementChild.cloneNode(true);
  card.dataset.order = o.order_id;
  card.querySelector(".order-id").textContent = o.order_id;
  card.querySelector(".customer").textContent = o.customer_name || "";
  if (o.needs_attention) badge(card, t("attention"), "warn");
  const meta = [];
  if (o.due_at) meta.push(t("due") + " " + when(o.due_at));
  if (o.expected_at) meta.push(t("expected") + " " + when(o.expected_at));
  if (o.expected_at && new Date(o.expected_at) < new Date(state.work.as_of)) badge(card, t("late"), "warn");
  if (o.tracking_code) meta.push(t("tracking") + " " + o.tracking_code);
  if (o.pick_started_by) meta.push(t("pickingBy") + " " + o.pick_started_by);
  if (o.pickup_deadline) {
    const passed = new Date(o.pickup_deadline) <= new Date(state.work.as_of);
    meta.push((passed ? t("overdueSince") : t("collectBy")) + " " + when(o.pickup_deadline));
  }
  const items = o.lines.reduce((n, l) => n + l.quantity, 0);
  meta.push(items + " " + t(items === 1 ? "item" : "items"));
  card.querySelector(".meta").textContent = meta.join(" · ");
  return card;
}

function lineRow(tbody, line, cell) {
  const tr = tbody.insertRow();
  tr.insertCell().textContent = line.sku;
  tr.insertCell().textContent = line.name;
  const q = tr.insertCell();
  q.className = "qty";
  cell(q, tr);
}

function button(label, onClick, kind) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (kind) b.className = kind;
  b.addEventListener("click", async () => { b.disabled = true; try { await onClick(); } finally { b.disabled = false; } });
  return b;
}

// fill renders a list anew. A card that stays keeps what staff typed (quantities, a
// pickup code), its focus and its error, so the 10-second refresh wipes none of them.
function fill(id, orders, build, total) {
  const box = $(id);
  const before = new Map([...box.querySelectorAll("[data-order]")].map((c) => [c.dataset.order, c]));
  const focused = document.activeElement;
  box.replaceChildren();
  $(id + "-count").textContent = String(total ?? orders.length);
  $(id + "-count").classList.toggle("zero", (total ?? orders.length) === 0);
  if (orders.length === 0) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = total ? t("noMatch") : t("none");
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
      inputs[i].dispatchEvent(new Event("input"));
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
  // The attempts left and the lock come from the store's work list.
  if (status === 422 || status === 423) await refresh();
}

// pickCard has a stepper per line; a quantity below the ordered one marks the
// line short, and the confirm button says so before staff tap it.
function pickCard(o, base) {
  const card = orderCard(o);
  const tbody = card.querySelector("tbody");
  const confirm = button(t("confirmPick"), () => {
    const lines = [...card.querySelectorAll("input[data-sku]")].map((i) => ({ sku: i.dataset.sku, quantity: Number(i.value) }));
    return act(card, base + encodeURIComponent(o.order_id) + "/pick", { lines }, t("picked") + " " + o.order_id);
  }, "confirm");
  const update = () => {
    let short = false;
    card.querySelectorAll("tr").forEach((tr) => {
      const input = tr.querySelector("input[data-sku]");
      const n = Math.max(0, Math.min(Number(input.max), Math.floor(Number(input.value) || 0)));
      const isShort = n < Number(input.max);
      tr.classList.toggle("short", isShort);
      tr.querySelector(".short-label").textContent = isShort ? t("short") + " " + (Number(input.max) - n) : "";
      short = short || isShort;
    });
    card.classList.toggle("short", short);
    confirm.textContent = short ? t("confirmShort") : t("confirmPick");
  };
  o.lines.forEach((l) => lineRow(tbody, l, (cell) => {
    const input = document.createElement("input");
    input.type = "number"; input.min = 0; input.max = l.quantity; input.value = l.quantity;
    input.inputMode = "numeric";
    input.dataset.sku = l.sku;
    input.setAttribute("aria-label", l.sku);
    input.addEventListener("input", update);
    const step = (d) => () => { input.value = Math.max(0, Math.min(l.quantity, (Number(input.value) || 0) + d)); update(); };
    const minus = button("−", step(-1), "step");
    minus.setAttribute("aria-label", t("less") + " " + l.sku);
    const plus = button("+", step(1), "step");
    plus.setAttribute("aria-label", t("more") + " " + l.sku);
    const of = document.createElement("span");
    of.className = "of";
    of.textContent = t("qty") + " " + l.quantity;
    const label = document.createElement("span");
    label.className = "short-label";
    cell.append(minus, input, plus, of, label);
  }));
  // Starting the pick tells the customer their order is being packed.
  if (!o.pick_started_by) {
    card.querySelector(".actions").append(button(t("startPick"), () =>
      act(card, base + encodeURIComponent(o.order_id) + "/start-pick", {}, t("pickStarted") + " " + o.order_id), "secondary"));
  }
  card.querySelector(".actions").append(confirm);
  update();
  return card;
}

// pickupCard is an order waiting for its customer: its lines, the code entry with
// the attempts left, or the lock.
function pickupCard(o, base) {
  const card = orderCard(o);
  const tbody = card.querySelector("tbody");
  o.lines.forEach((l) => lineRow(tbody, l, (cell) => { cell.textContent = "× " + l.quantity; }));
  const attempts = card.querySelector(".attempts");
  if (o.locked) {
    badge(card, t("lockedBadge"), "warn");
    card.classList.add("locked");
    attempts.textContent = t("locked");
    return card;
  }
  const code = document.createElement("input");
  code.inputMode = "numeric"; code.autocomplete = "off"; code.placeholder = t("code");
  code.setAttribute("aria-label", t("code"));
  code.addEventListener("keydown", (e) => { if (e.key === "Enter") card.querySelector(".actions button").click(); });
  card.querySelector(".actions").append(code, button(t("handOver"), () =>
    act(card, base + encodeURIComponent(o.order_id) + "/pickup", { code: code.value.trim() }, t("handedOver") + " " + o.order_id)));
  if (o.attempts_left !== undefined) attempts.textContent = t("attemptsLeft") + " " + o.attempts_left;
  if (o.attempts_left !== undefined && o.attempts_left < 3) attempts.classList.add("low");
  return card;
}

// fold makes a search match "Jörg" for "jorg": lower case without accents.
const fold = (s) => (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();

function matches(o, q) {
  return q === "" || fold(o.order_id).includes(q) || fold(o.customer_name).includes(q);
}

function render() {
  const w = state.work;
  const base = `/v1/stores/${encodeURIComponent(state.store)}/orders/`;
  fill("pick", w.picking, (o) => pickCard(o, base));
  fill("arriving", w.arriving, (o) => {
    const card = orderCard(o);
    const tbody = card.querySelector("tbody");
    o.lines.forEach((l) => lineRow(tbody, l, (cell) => { cell.textContent = "× " + l.quantity; }));
    card.querySelector(".actions").append(button(t("confirmArrival"), () =>
      act(card, base + encodeURIComponent(o.order_id) + "/arrival", {}, t("arrived") + " " + o.order_id)));
    return card;
  });
  const q = fold($("search").value.trim());
  const overdue = w.overdue || [];
  fill("ready", w.ready_for_pickup.filter((o) => matches(o, q)), (o) => pickupCard(o, base), w.ready_for_pickup.length);
  fill("overdue", overdue.filter((o) => matches(o, q)), (o) => pickupCard(o, base), overdue.length);
  $("sec-overdue").classList.toggle("has-items", overdue.length > 0);
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
