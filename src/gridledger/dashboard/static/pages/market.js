// Market: the order book's depth of a period (buy and sell curves), a live trades tape,
// prices over time against the feed-in, grid and cap prices, and one member's open orders
// and settlement statements: the signed-in member's own by default. A household sees
// others' trades without their identities; the operator and the regulator may pick anyone.
import { ApiError, card, dayHour, el, errorBox, getJson, getOptional, kwh, price, short, table, units, utc } from "../api.js";
import { isAuditor } from "../session.js";
import { COLOURS, drawChart, line } from "../charts.js";

const TAPE_PERIODS = 6;
/** How many of the newest reads of a member's data by auditors are shown (the CLI's
 * `gridledger show access-log` lists more). */
const READS_SHOWN = 10;

function depthPoints(levels) {
  const points = [];
  let cumulative = 0;
  for (const level of levels) {
    const y = level.price_micro_per_kwh / 1e6;
    points.push({ x: cumulative / 1000, y });
    cumulative += level.residual_wh;
    points.push({ x: cumulative / 1000, y });
  }
  return points;
}

function drawDepth(holder, book) {
  drawChart(holder, {
    type: "line",
    data: {
      datasets: [
        line("buy (bids)", depthPoints(book.bids), COLOURS.buy, { fill: false }),
        line("sell (asks)", depthPoints(book.asks), COLOURS.sell, { fill: false }),
      ],
    },
    options: {
      parsing: false,
      scales: {
        x: { type: "linear", title: { display: true, text: "cumulative energy (kWh)" }, min: 0 },
        y: { title: { display: true, text: "price (units/kWh)" } },
      },
    },
  });
}

function drawPrices(holder, periods) {
  const labels = periods.map((p) => dayHour(p.start_s));
  const of = (key) => periods.map((p) => (p[key] === null ? null : p[key] / 1e6));
  drawChart(holder, {
    type: "line",
    data: {
      labels,
      datasets: [
        line("mean trade price", of("mean_price_micro_per_kwh"), COLOURS.price, {
          pointRadius: 4,
          spanGaps: true,
        }),
        line("lowest", of("min_price_micro_per_kwh"), COLOURS.price, {
          showLine: false,
          pointRadius: 2,
          pointStyle: "triangle",
        }),
        line("highest", of("max_price_micro_per_kwh"), COLOURS.price, {
          showLine: false,
          pointRadius: 2,
          pointStyle: "triangle",
        }),
        line("feed-in", of("feed_in_price_micro_per_kwh"), COLOURS.feedIn, { borderDash: [6, 4] }),
        line("grid", of("grid_price_micro_per_kwh"), COLOURS.grid, { borderDash: [6, 4] }),
        line("cap", of("cap_price_micro_per_kwh"), COLOURS.cap, { borderDash: [2, 3] }),
      ],
    },
    options: {
      scales: {
        x: { title: { display: true, text: "delivery period (UTC start)" } },
        y: { title: { display: true, text: "price (units/kWh)" } },
      },
    },
  });
}

/** The period the order book opens on: the one open for orders by the chain's own time (the
 * node answers by its newest block, not the wall clock) if its book holds anything, else the
 * newest period with orders or trades, so a chain that stopped, a simulated community's,
 * shows its own last market. */
function defaultPeriod(data) {
  const busy = (p) => p.open_orders > 0 || p.trades > 0;
  const open = data.periods.find((p) => p.period === data.open_period);
  if (open && busy(open)) return data.open_period;
  const newest = data.periods.filter(busy).pop();
  return newest ? newest.period : data.open_period;
}

export async function mount({ body, params, notice, session }) {
  const shown = () => refresh().then(() => notice.replaceChildren(), (error) => notice.replaceChildren(errorBox(error)));
  const auditor = isAuditor(session);
  let chosen = params.length ? Number(params[0]) : null;
  let member = session ? session.address : "";
  let names = {};
  const periodSelect = el("select", { id: "period", "aria-label": "delivery period" });
  const memberSelect = el("select", { id: "member", "aria-label": "member" });
  const bookInfo = el("div", { id: "book-info", class: "stats" });
  const depth = el("div", { class: "chart", id: "depth-chart" });
  const levels = el("div", { id: "book" });
  const tape = el("div", { id: "trades" });
  const prices = el("div", { class: "chart", id: "price-chart" });
  const activity = el("div", { id: "member-activity" });
  periodSelect.addEventListener("change", () => {
    chosen = Number(periodSelect.value);
    history.replaceState(null, "", `#/market/${chosen}`);
    shown();
  });
  memberSelect.addEventListener("change", () => {
    member = memberSelect.value;
    shown();
  });
  body.replaceChildren(
    el("h1", {}, "Market"),
    el("div", { class: "grid" },
      card("Order book", el("label", {}, "period ", periodSelect), bookInfo, depth, levels),
      card("Trades tape (live)", tape),
      card("Prices per period", prices),
      card(auditor ? "A member's orders and statements" : "Your orders and statements",
        el("label", {}, "member ", memberSelect),
        auditor ? null : el("p", { class: "muted", id: "member-private" }, "Only your own orders and statements are shown here: other members' are private."),
        activity),
    ),
  );
  const who = (address) => {
    if (!address) return el("span", { class: "private", title: "another member: identities in others' trades are private" }, "another member");
    const name = names[address] || short(address, 12);
    return el("span", { title: address }, session && address === session.address ? `${name} (you)` : name);
  };

  async function refreshMember() {
    if (!member) {
      activity.replaceChildren(el("p", { class: "muted" }, "Pick a member to see their open orders and statements."));
      return;
    }
    const mine = Boolean(session && member === session.address);
    const [data, reads] = await Promise.all([
      getJson(`/v1/dashboard/members/${member}`),
      getOptional(auditor ? `/v1/access-log?member=${member}&limit=${READS_SHOWN}` : `/v1/access-log?limit=${READS_SHOWN}`, null).catch(() => null),
    ]);
    activity.replaceChildren(
      el("p", {}, `${data.name} (${data.role}, ${data.status}): balance ${units(data.balance_micro)}`,
        data.debt_micro ? `, grid debt ${units(data.debt_micro)}` : ""),
      el("h3", {}, "Open orders"),
      table(
        ["order", "period", "side", "energy", "left", "limit price"],
        data.open_orders.map((o) => [o.order_id, String(o.period), o.side, kwh(o.energy_wh), kwh(o.residual_wh), price(o.price_micro_per_kwh)]),
        { id: "member-orders" },
      ),
      el("h3", {}, "Settlement statements"),
      table(
        ["period", "reading", "bought", "sold", "delivered", "paid", "received", "penalised", "net"],
        data.statements.map((s) => [
          String(s.period), s.reading, kwh(s.bought_wh), kwh(s.sold_wh), kwh(s.delivered_wh),
          units(s.paid_micro), units(s.received_micro), units(s.penalised_micro), units(s.net_micro),
        ]),
        { id: "member-statements" },
      ),
      reads ? el("h3", {}, `${mine ? "Who read your data" : "Reads of this member's data by auditors"} (the newest ${READS_SHOWN})`) : null,
      reads
        ? table(
          ["when", "reader", "role", "what"],
          reads.entries.map((r) => [utc(r.at_ms), el("span", { title: r.reader }, names[r.reader] || short(r.reader, 12)), r.reader_role, el("span", { title: r.route }, r.resource)]),
          { id: "access-log" },
        )
        : null,
    );
  }

  async function refresh() {
    const [periodData, members] = await Promise.all([
      getJson("/v1/dashboard/periods?count=24"),
      getJson("/v1/members").catch((error) => {
        if (error instanceof ApiError && error.status === 403) return { members: [] }; // others are private
        throw error;
      }),
    ]);
    const listed = members.members.filter((m) => m.address && (auditor || !session || m.address === session.address));
    if (session && !listed.some((m) => m.address === session.address)) {
      listed.unshift({ address: session.address, name: session.name || short(session.address, 12), role: session.role });
    }
    names = Object.fromEntries(members.members.concat(listed).filter((m) => m.address && m.name).map((m) => [m.address, m.name]));
    if (memberSelect.options.length !== listed.length + (auditor ? 1 : 0)) {
      memberSelect.replaceChildren(
        auditor ? el("option", { value: "" }, "— choose —") : null,
        ...listed.map((m) => el("option", { value: m.address }, `${m.name || short(m.address, 12)} (${m.role})${session && m.address === session.address ? " · you" : ""}`)),
      );
      memberSelect.value = member;
    }
    memberSelect.disabled = !auditor;
    const periods = periodData.periods;
    if (chosen === null || Number.isNaN(chosen)) chosen = defaultPeriod(periodData);
    const shownPeriods = periods.some((p) => p.period === chosen) ? periods : periods.concat([{ period: chosen, start_s: null, phase: "", trades: 0 }]);
    periodSelect.replaceChildren(
      ...shownPeriods.slice().reverse().map((p) => {
        const tag = p.period === periodData.open_period ? " · open for orders" : p.period === periodData.current_period ? " · delivering now" : "";
        const when = p.start_s === null ? "" : ` · ${dayHour(p.start_s)}`;
        return el("option", { value: p.period }, `${p.period}${when} · ${p.phase}${tag} · ${p.trades} trades`);
      }),
    );
    periodSelect.value = String(chosen);

    const withTrades = periods.filter((p) => p.trades > 0).slice(-TAPE_PERIODS).reverse();
    const [book, ...tapes] = await Promise.all([
      getJson(`/v1/market/periods/${chosen}/book`),
      ...withTrades.map((p) => getJson(`/v1/market/periods/${p.period}/trades`)),
    ]);
    bookInfo.replaceChildren(
      el("div", { class: "stat" }, el("div", { class: "label" }, "phase"), el("div", { class: "value", id: "book-phase" }, book.phase)),
      el("div", { class: "stat" }, el("div", { class: "label" }, "mechanism"), el("div", { class: "value" }, book.mechanism)),
      el("div", { class: "stat" }, el("div", { class: "label" }, "orders"), el("div", { class: "value" }, `${book.open_orders} open of ${book.orders}`)),
      el("div", { class: "stat" }, el("div", { class: "label" }, "gate closes"), el("div", { class: "value" }, dayHour(book.window.gate_closure_s))),
    );
    drawDepth(depth, book);
    levels.replaceChildren(
      el("div", { class: "columns" },
        el("div", {}, el("h3", {}, "Bids (buy)"), table(["price", "energy", "orders"], book.bids.map((l) => [price(l.price_micro_per_kwh), kwh(l.residual_wh), String(l.orders)]), { id: "book-bids" })),
        el("div", {}, el("h3", {}, "Asks (sell)"), table(["price", "energy", "orders"], book.asks.map((l) => [price(l.price_micro_per_kwh), kwh(l.residual_wh), String(l.orders)]), { id: "book-asks" })),
      ),
    );
    const trades = tapes.flatMap((t) => t.trades).sort((a, b) => b.height - a.height || b.trade_id.localeCompare(a.trade_id));
    tape.replaceChildren(
      table(
        ["trade", "block", "period", "energy", "price", "value", "buyer", "seller", "kind"],
        trades.map((t) => [t.trade_id, el("a", { href: `#/chain/block/${t.height}` }, String(t.height)), String(t.period), kwh(t.energy_wh), price(t.price_micro_per_kwh), units(t.value_micro), who(t.buyer), who(t.seller), t.reason ? `${t.kind} (${t.reason.replaceAll("_", " ")})` : t.kind]),
        { id: "trades-table" },
      ),
    );
    drawPrices(prices, periods);
    await refreshMember();
  }

  await refresh();
  return { refresh };
}
