// Simulation results served by the node (`gridledger node --results DIR`): the runs, and a
// run's KPIs, plots, tables and report.
import { ApiError, card, el, getJson, kwh, price, table, units } from "../api.js";

const RATIO = /(ratio|self_sufficiency|self_consumption|share)$/;

/** A KPI for people, by its name's unit: *_wh in kWh, *_micro in units, ratios in %. */
function formatKpi(name, value) {
  if (typeof value !== "number") return Array.isArray(value) ? JSON.stringify(value) : String(value);
  if (name.endsWith("_micro_per_kwh")) return price(value);
  if (name.endsWith("_wh")) return kwh(value);
  if (name.endsWith("_micro")) return units(value);
  if (RATIO.test(name) && Math.abs(value) <= 10) return `${(100 * value).toFixed(1)}%`;
  return value.toLocaleString("en-GB", { maximumFractionDigits: 4 });
}

/** Flatten nested KPIs into [name, shown value] rows ("energy.traded_wh", "127.650 kWh"). */
function flatten(value, prefix = "", rows = []) {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) flatten(item, prefix ? `${prefix}.${key}` : key, rows);
  } else {
    rows.push([prefix, formatKpi(prefix, value)]);
  }
  return rows;
}

const HEADLINE = ["energy.self_sufficiency", "energy.traded_wh", "prices.mean_micro_per_kwh", "money.community_savings_ratio"];

/** A few key figures of a run: the usual headline ones when it has them, else its first. */
function headline(kpis) {
  const rows = flatten(kpis);
  const known = rows.filter(([name]) => HEADLINE.includes(name));
  return (known.length ? known : rows.slice(0, 4)).map(([k, v]) => `${k} = ${v}`).join("; ");
}

const fileUrl = (run, path) => `/v1/results/${encodeURIComponent(run)}/files/${path.split("/").map(encodeURIComponent).join("/")}`;

async function listView(body) {
  let data;
  try {
    data = await getJson("/v1/results");
  } catch (error) {
    if (error instanceof ApiError && error.code === "no_results") {
      body.replaceChildren(el("h1", {}, "Simulation results"), el("p", { class: "notice-box", id: "no-results" }, error.message));
      return;
    }
    throw error;
  }
  body.replaceChildren(
    el("h1", {}, "Simulation results"),
    card(`Runs (${data.runs.length})`, table(
      ["run", "key figures"],
      data.runs.map((r) => [
        el("a", { href: `#/results/${encodeURIComponent(r.name)}` }, r.name),
        headline(r.kpis),
      ]),
      { id: "runs" },
    )),
  );
}

async function runView(body, name) {
  const run = await getJson(`/v1/results/${encodeURIComponent(name)}`);
  body.replaceChildren(
    el("h1", {}, `Simulation run ${run.name}`),
    el("p", {}, el("a", { href: "#/results" }, "← all runs"), run.report ? [" · ", el("a", { href: fileUrl(run.name, run.report), target: "_blank" }, "full report (report.html)")] : null),
    el("div", { class: "grid" },
      card("Key performance indicators", table(["indicator", "value"], flatten(run.kpis), { id: "kpis" })),
      card(`Plots (${run.plots.length})`, el("div", { class: "plots", id: "plots" },
        run.plots.map((p) => el("figure", {}, el("img", { src: fileUrl(run.name, p), alt: p, loading: "lazy" }), el("figcaption", {}, p))))),
      card("Tables", el("ul", { id: "tables" }, run.tables.map((t) => el("li", {}, el("a", { href: fileUrl(run.name, t), download: t.split("/").pop() }, t))))),
    ),
  );
}

export async function mount({ body, params }) {
  const refresh = () => (params.length ? runView(body, params[0]) : listView(body));
  await refresh();
  // Results do not change with blocks; nothing to do live.
  return { refresh: async () => {} };
}
