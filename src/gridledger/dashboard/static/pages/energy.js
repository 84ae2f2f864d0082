// Energy per delivery period: metered generation and consumption (meter readings on
// chain), energy traded inside the community (trades) and energy exchanged with the grid
// (settlement summaries, once a period is settled).
import { card, dayHour, el, errorBox, getJson, kwh, table } from "../api.js";
import { COLOURS, drawChart } from "../charts.js";

const COUNTS = [6, 24, 48, 168];

export async function mount({ body, params, notice }) {
  let count = COUNTS.includes(Number(params[0])) ? Number(params[0]) : 24;
  const select = el("select", { id: "count", "aria-label": "periods shown" },
    COUNTS.map((c) => el("option", { value: c }, `last ${c} periods`)));
  select.value = String(count);
  select.addEventListener("change", () => {
    count = Number(select.value);
    history.replaceState(null, "", `#/energy/${count}`);
    refresh().then(() => notice.replaceChildren(), (error) => notice.replaceChildren(errorBox(error)));
  });
  const chart = el("div", { class: "chart tall", id: "energy-chart" });
  const rows = el("div", { id: "energy" });
  body.replaceChildren(
    el("h1", {}, "Energy"),
    el("div", { class: "grid single" },
      card("Per period", el("label", {}, select), chart,
        el("p", { class: "muted" }, "Generation and consumption come from the meters' readings on chain; traded is energy sold inside the community; from and to the grid come from the settlement of each period (blank until it is settled).")),
      card("Figures", rows),
    ),
  );

  async function refresh() {
    const data = await getJson(`/v1/dashboard/periods?count=${count}`);
    const periods = data.periods;
    const of = (key) => periods.map((p) => (p[key] === null ? null : p[key] / 1000));
    const bar = (label, key, colour) => ({ label, data: of(key), backgroundColor: colour });
    drawChart(chart, {
      type: "bar",
      data: {
        labels: periods.map((p) => dayHour(p.start_s)),
        datasets: [
          bar("generation", "generation_wh", COLOURS.generation),
          bar("consumption", "consumption_wh", COLOURS.consumption),
          bar("traded inside", "traded_wh", COLOURS.traded),
          bar("from the grid", "grid_supplied_wh", COLOURS.gridIn),
          bar("to the grid", "grid_taken_wh", COLOURS.gridOut),
        ],
      },
      options: {
        scales: {
          x: { title: { display: true, text: "delivery period (UTC start)" } },
          y: { title: { display: true, text: "energy (kWh)" }, beginAtZero: true },
        },
      },
    });
    rows.replaceChildren(
      table(
        ["period", "starts", "phase", "readings", "generation", "consumption", "traded inside", "from the grid", "to the grid"],
        periods.slice().reverse().map((p) => [
          String(p.period), dayHour(p.start_s), p.phase, String(p.readings), kwh(p.generation_wh),
          kwh(p.consumption_wh), kwh(p.traded_wh), kwh(p.grid_supplied_wh), kwh(p.grid_taken_wh),
        ]),
        { id: "energy-table" },
      ),
    );
  }

  await refresh();
  return { refresh };
}
