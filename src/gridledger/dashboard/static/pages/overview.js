// Overview: members with role, status and balance; today's trading against the feed-in,
// grid and cap prices; self-sufficiency; chain height, finality and peers. A household sees
// its own row of the members table and what the node tells it of the others (their
// balances and debts are private); the operator and the regulator see every row.
import { ApiError, card, el, getJson, getOptional, kwh, percent, price, short, stat, table, units, utc } from "../api.js";
import { isAuditor } from "../session.js";

const PRIVATE = () => el("span", { class: "private", title: "other members' details are private" }, "private");

function finality(network, head) {
  if (!network) {
    return { text: `solo, final = head (${head.height})`, peers: [], alarm: null };
  }
  const final = network.finalized_height;
  const text =
    network.mode === "solo"
      ? `solo, final = head (${final})`
      : `${network.mode}: final up to block ${final} of ${network.head_height}`;
  return { text, peers: network.peers || [], alarm: network.alarm };
}

export async function mount({ body, session }) {
  const auditor = isAuditor(session);
  const view = el("div", { class: "grid" });
  body.replaceChildren(el("h1", {}, "Community overview"), view);

  async function refresh() {
    const [data, head, network] = await Promise.all([
      getJson("/v1/dashboard/overview"),
      getJson("/v1/head"),
      getOptional("/v1/network").catch((error) => {
        if (error instanceof ApiError && error.status === 403) return null; // the peers are the auditors' to see
        throw error;
      }),
    ]);
    const today = data.today;
    const prices = data.prices;
    const chain = finality(network, head);
    view.replaceChildren(
      card(
        "Chain",
        el(
          "div",
          { class: "stats" },
          stat("height", String(head.height), utc(head.timestamp_ms)),
          stat("finality", chain.text, chain.alarm ? `ALARM: ${chain.alarm}` : "no alarm"),
          head.pending_transactions === undefined ? null : stat("pending transactions", String(head.pending_transactions)),
          head.total_supply_micro === undefined ? null : stat("currency issued", units(head.total_supply_micro)),
        ),
        table(
          ["peer", "attested height", "agrees"],
          chain.peers.map((p) => [
            p.name,
            String(p.attested_height ?? "—"),
            p.agrees ? "yes" : `NO${p.conflict ? `: ${p.conflict}` : ""}`,
          ]),
          { id: "peers" },
        ),
      ),
      card(
        `Today on the chain: the 24 hours up to its newest block (${utc(today.from_s * 1000).slice(5, 16)} to ${utc(today.to_s * 1000).slice(5, 16)} UTC)`,
        el(
          "div",
          { class: "stats", id: "today" },
          stat("energy traded", kwh(today.traded_wh), `${today.trades} trades`),
          stat("mean price", price(today.mean_price_micro_per_kwh), `value ${units(today.value_micro)}`),
          stat("feed-in price", price(prices.feed_in_price_micro_per_kwh), "what the grid pays"),
          stat("grid price", price(prices.grid_price_micro_per_kwh), "what the grid charges"),
          stat("cap price", price(prices.cap_price_micro_per_kwh), "the regulator's standing offer"),
          stat(
            "self-sufficiency",
            percent(today.self_sufficiency_percent),
            `${today.settled_periods} settled periods, consumption ${kwh(today.consumption_wh)}, from the grid ${kwh(today.grid_supplied_wh)}`,
          ),
        ),
      ),
      card(
        `Members (${data.members.length})`,
        auditor
          ? null
          : el("p", { class: "muted", id: "members-private" }, "Other members' balances and debts are private: you see your own in full, and of the others what you need to pay them."),
        table(
          ["name", "role", "status", "balance", "grid debt", "meters", "address"],
          data.members.map((m) => {
            const mine = Boolean(session && m.address === session.address);
            const hidden = !auditor && !mine; // the node withholds others' balances and debts
            const money = (value) => (hidden && (value === null || value === undefined) ? PRIVATE() : value ? units(value) : "—");
            return [
              mine ? `${m.name} (you)` : m.name,
              m.role,
              el("span", { class: `badge ${m.status}` }, m.status),
              hidden ? money(m.balance_micro) : units(m.balance_micro),
              money(m.debt_micro),
              String(m.meters),
              el("a", { href: `#/chain/account/${m.address}`, title: m.address }, short(m.address, 14)),
            ];
          }),
          { id: "members" },
        ),
      ),
    );
  }

  await refresh();
  return { refresh };
}
