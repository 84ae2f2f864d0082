// Chain explorer: recent blocks (live), a block with its transactions, a transaction with
// its decoded arguments, result code and events, a member's transactions; search by block
// height, transaction id, address or member name; and "verify", which checks a
// transaction's Merkle proof and its block header in this browser (see verify.js).
// A household sees other members' transactions in a block reduced to their ids (and their
// result), and its own in full; the operator and the regulator see every one.
import { ApiError, card, el, errorBox, getJson, short, table, units, utc } from "../api.js";
import { isAuditor } from "../session.js";
import { verifyInclusion } from "../verify.js";

const TX_ID = /^[0-9a-f]{64}$/i;
const ADDRESS = /^gl[0-9a-f]{40}$/i;

const resultBadge = (t) =>
  el("span", { class: `badge ${t.code === 0 ? "ok" : "refused"}`, title: t.message || "" }, `${t.code} ${t.result}`);
const txLink = (id) => el("a", { href: `#/chain/tx/${id}`, class: "mono" }, short(id, 16));
const blockLink = (h) => el("a", { href: `#/chain/block/${h}` }, String(h));
const PRIVATE_TX = "another member's transaction: its details are private";
/** A transaction the node reduced to its id for this caller (another member's). */
const redacted = (t) => !t.transaction || t.transaction.redacted || (t.transaction.decodable === undefined && !t.transaction.contract);
const call = (t) => (redacted(t) ? el("span", { class: "private", title: PRIVATE_TX }, "private") : t.transaction.decodable ? `${t.transaction.contract}.${t.transaction.method}` : "(undecodable)");
const argText = (value) => Object.entries(value).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ");
const args = (t) => (redacted(t) ? el("span", { class: "private" }, PRIVATE_TX) : el("code", { class: "args" }, t.transaction.decodable ? argText(t.transaction.args) : t.transaction.error));
const sender = (t) => (!redacted(t) && t.transaction.sender ? el("a", { href: `#/chain/account/${t.transaction.sender}` }, short(t.transaction.sender, 12)) : "—");
const result = (t) => (t.code === undefined || t.code === null ? "—" : resultBadge(t));

function searchForm(initial) {
  const input = el("input", { id: "search", type: "search", value: initial || "", placeholder: "block height, transaction id, address or member name", size: 60 });
  const form = el("form", { class: "search", role: "search" }, input, el("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (q) location.hash = `#/chain/search/${encodeURIComponent(q)}`;
  });
  return form;
}

async function search(q) {
  if (/^\d+$/.test(q)) return `#/chain/block/${q}`;
  if (TX_ID.test(q)) return `#/chain/tx/${q.toLowerCase()}`;
  if (ADDRESS.test(q)) return `#/chain/account/${q.toLowerCase()}`;
  const members = await getJson("/v1/members").then(
    (reply) => reply.members.filter((m) => m.name && m.address),
    (error) => {
      if (error instanceof ApiError && error.status === 403) return [];
      throw error;
    },
  );
  const found = members.filter((m) => m.name.toLowerCase() === q.toLowerCase())[0]
    || members.filter((m) => m.name.toLowerCase().includes(q.toLowerCase()))[0];
  if (found) return `#/chain/account/${found.address}`;
  throw new ApiError(404, "not_found", `nothing matches ${JSON.stringify(q)}: try a block height, a 64-digit transaction id, an address (gl…) or a member's name`);
}

const RECENT_BLOCKS = 6;
const RECENT_TRANSACTIONS = 20;

async function blocksView(view) {
  const blocks = (await getJson("/v1/blocks?limit=25")).blocks;
  const recent = await Promise.all(
    blocks.slice(0, RECENT_BLOCKS).filter((b) => b.transaction_count > 0).map((b) => getJson(`/v1/blocks/${b.height}`)),
  );
  const transactions = recent.flatMap((b) => b.transactions.map((t) => ({ ...t, height: b.header.height }))).slice(0, RECENT_TRANSACTIONS);
  view.replaceChildren(
    card("Latest transactions (live)", table(
      ["block", "id", "call", "sender", "result", "arguments"],
      transactions.map((t) => [blockLink(t.height), txLink(t.id), call(t), sender(t), result(t), args(t)]),
      { id: "recent-transactions" },
    )),
    card("Latest blocks (live)", table(
      ["height", "time", "transactions", "hash", "transactions root"],
      blocks.map((b) => [blockLink(b.height), utc(b.timestamp_ms), String(b.transaction_count), el("span", { class: "mono" }, short(b.hash, 16)), el("span", { class: "mono" }, short(b.transactions_root, 16))]),
      { id: "blocks" },
    )),
  );
}

async function blockView(view, height) {
  const block = await getJson(`/v1/blocks/${encodeURIComponent(height)}`);
  const h = block.header;
  view.replaceChildren(
    card(`Block ${h.height}`,
      el("dl", { class: "fields", id: "block-header" },
        ["hash", h.hash, "previous hash", h.previous_hash, "time", utc(h.timestamp_ms), "transactions", String(h.transaction_count), "transactions root", h.transactions_root, "results root", h.results_root, "state hash", h.state_hash]
          .flatMap((v, i, all) => (i % 2 ? [] : [el("dt", {}, v), el("dd", { class: "mono" }, all[i + 1])]))),
      el("p", {}, h.height > 0 ? el("a", { href: `#/chain/block/${h.height - 1}` }, "← previous block") : null, " ", el("a", { href: `#/chain/block/${h.height + 1}` }, "next block →")),
    ),
    card("Transactions", table(
      ["#", "id", "call", "sender", "result", "arguments"],
      block.transactions.map((t, i) => [String(i), txLink(t.id), call(t), sender(t), result(t), args(t)]),
      { id: "block-transactions" },
    )),
  );
}

function renderChecks(box, outcome) {
  box.replaceChildren(
    el("p", { class: outcome.ok ? "verified" : "failed", id: "verify-result" },
      outcome.ok ? "✔ Verified in this browser: the transaction is in the block." : "✘ Verification FAILED: do not trust this transaction's inclusion."),
    el("ul", { class: "checks" }, outcome.checks.map((c) => el("li", { class: c.ok ? "ok" : "bad" }, `${c.ok ? "✔" : "✘"} ${c.name}`, el("div", { class: "mono muted" }, c.detail)))),
    el("p", { class: "muted" }, `SHA-256 by ${outcome.webCrypto ? "Web Crypto (crypto.subtle)" : "the page's own JavaScript (no Web Crypto on a non-secure page)"}.`),
  );
}

async function transactionView(view, id) {
  if (!TX_ID.test(id)) throw new ApiError(400, "invalid_request", "a transaction id is 64 hex digits");
  const t = await getJson(`/v1/transactions/${id}`);
  if (t.status !== "committed") {
    view.replaceChildren(card("Transaction", el("p", {}, `${id} is ${t.status}: not in a block yet.`)));
    return;
  }
  const result = el("div", { id: "verify" });
  const button = el("button", { id: "verify-button", type: "button" }, "Verify in this browser");
  button.addEventListener("click", async () => {
    button.disabled = true;
    result.replaceChildren(el("p", { class: "loading" }, "Fetching the proof and the block header…"));
    try {
      const [fresh, header] = await Promise.all([
        getJson(`/v1/transactions/${id}`),
        getJson(`/v1/dashboard/blocks/${t.height}/header`),
      ]);
      renderChecks(result, await verifyInclusion(id, fresh, header));
    } catch (error) {
      result.replaceChildren(errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  const tx = redacted(t) ? { decodable: false, error: PRIVATE_TX } : t.transaction;
  view.replaceChildren(
    card("Transaction",
      el("dl", { class: "fields", id: "transaction" },
        el("dt", {}, "id"), el("dd", { class: "mono" }, t.id),
        el("dt", {}, "block"), el("dd", {}, blockLink(t.height), ` position ${t.position}`),
        el("dt", {}, "call"), el("dd", {}, call(t)),
        el("dt", {}, "sender"), el("dd", {}, tx.decodable ? el("a", { href: `#/chain/account/${tx.sender}` }, tx.sender) : "—"),
        el("dt", {}, "nonce"), el("dd", {}, tx.decodable ? String(tx.nonce) : "—"),
        ...(tx.signers ? [el("dt", {}, "signed by"), el("dd", { id: "signers" }, ...tx.signers.flatMap((a, i) => [i ? ", " : "", el("a", { href: `#/chain/account/${a}` }, a)]))] : []),
        ...(t.flags && t.flags.length ? [el("dt", {}, "audit flags"), el("dd", { id: "flags", class: "bad" }, t.flags.map((f) => `flagged by ${f.flagged_by} in block ${f.height}: ${f.reason}`).join("\n"))] : []),
        el("dt", {}, "result"), el("dd", { id: "result" }, resultBadge(t), t.message ? ` ${t.message}` : ""),
        el("dt", {}, "arguments"), el("dd", {}, el("pre", { id: "arguments" }, tx.decodable ? JSON.stringify(tx.args, null, 2) : tx.error)),
        el("dt", {}, "events"), el("dd", {}, el("pre", { id: "events" }, t.events && t.events.length ? t.events.map((e) => `${e.contract}.${e.name} ${JSON.stringify(e.attributes)}`).join("\n") : "none")),
        el("dt", {}, "size"), el("dd", {}, tx.size_bytes === undefined ? "—" : `${tx.size_bytes} bytes`),
      ),
    ),
    ...(await correctionCards(tx)),
    card("Proof of inclusion",
      el("p", {}, `Merkle proof: leaf ${t.proof.index} of ${t.proof.size}, ${t.proof.path.length} sibling hashes. "Verify" recomputes the root from the raw transaction and checks it against the block header's own bytes, and the header's bytes against the block hash.`),
      button, result),
  );
}

// A correction is recorded beside the trade it corrects (seed 004 §2.3): show the trade as
// it was recorded, then every correction of it, in order.
async function correctionCards(tx) {
  if (!tx.decodable || tx.contract !== "corrections" || !tx.args || typeof tx.args.trade_id !== "string") return [];
  let found;
  try {
    found = await getJson(`/v1/corrections/trades/${encodeURIComponent(tx.args.trade_id)}`);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 403)) return [];
    throw error;
  }
  const trade = found.trade;
  return [card(`Trade ${trade.trade_id}, as recorded, and its corrections`,
    el("p", { id: "original-trade" }, `${trade.energy_wh} Wh at ${trade.price_micro_per_kwh} µ/kWh = ${trade.value_micro} µ, ${trade.seller} to ${trade.buyer} (block ${trade.height}; never rewritten)`),
    el("ol", { id: "corrections", start: "0" }, found.corrections.map((c) => el("li", {},
      `refund ${c.refund_micro} µ seller→buyer, energy ${c.energy_wh} Wh (was ${c.original_energy_wh}): ${c.reason} `,
      el("a", { href: `#/chain/tx/${c.transaction_id}` }, `block ${c.height}`)))),
    ...(found.flags.length ? [el("p", { class: "bad" }, found.flags.map((f) => `audit flag: ${f.reason}`).join("; "))] : []),
  )];
}

async function accountView(view, address) {
  const [account, member, txs] = await Promise.all([
    getJson(`/v1/accounts/${address}`),
    getJson(`/v1/members/${address}`).catch((error) => {
      if (error instanceof ApiError && (error.status === 404 || error.status === 403)) return null;
      throw error;
    }),
    getJson(`/v1/accounts/${address}/transactions?limit=100`),
  ]);
  view.replaceChildren(
    card(member ? `${member.name} (${member.role}, ${member.status})` : "Account (not a member)",
      el("p", { class: "mono" }, address),
      el("p", { id: "account" }, `balance ${units(account.balance_micro)}, next nonce ${account.nonce}`)),
    card("Latest transactions", table(
      ["block", "position", "id", "result"],
      txs.transactions.map((t) => [blockLink(t.height), String(t.position), txLink(t.id), resultBadge(t)]),
      { id: "account-transactions" },
    )),
  );
}

export async function mount({ body, params, session }) {
  const [kind, value] = params;
  const view = el("div", { class: kind === "tx" || kind === "account" ? "grid" : "grid single" });
  const note = isAuditor(session)
    ? null
    : el("p", { class: "muted", id: "chain-private" }, "Other members' transactions show only their id and result: their details are private. Yours are shown in full, and every block's header and Merkle proofs can be verified.");
  body.replaceChildren(el("h1", {}, "Chain explorer"), searchForm(kind === "search" ? value : ""), note, view);
  async function refresh() {
    if (kind === "block") return blockView(view, value);
    if (kind === "tx") return transactionView(view, value);
    if (kind === "account") return accountView(view, value);
    if (kind === "search") {
      location.replace(await search(value));
      return undefined;
    }
    return blocksView(view);
  }
  try {
    await refresh();
  } catch (error) {
    if (!kind) throw error;
    view.replaceChildren(errorBox(error)); // keep the search form above the error
  }
  // A block or a transaction does not change once committed: only check that the node is
  // still there (the list and an account's page are read again).
  const ping = async () => {
    await getJson("/v1/head");
  };
  return { refresh: kind === "block" || kind === "tx" ? ping : refresh };
}
