// Simulation results served by the node (`gridledger node --results DIR`): the runs, and a
// run's KPIs, plots, tables and report. The node serves their files to signed-in callers
// only, and an <img src> or a link cannot carry the session's token: the page fetches each
// file itself (with the token) and shows it from an object URL.
import { ApiError, blobUrl, card, el, errorBox, getJson, kwh, price, request, table, units } from "../api.js";

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

/** An image of a run, fetched with the session's token. */
function plot(run, path, urls) {
  const image = el("img", { alt: path });
  blobUrl(fileUrl(run, path)).then(
    (url) => {
      urls.push(url);
      image.src = url;
    },
    (error) => image.replaceWith(errorBox(error)),
  );
  return image;
}

/** A link to a run's file that fetches it with the token: a download, or the report in a new tab. */
function fileLink(run, path, text, urls, { report = false } = {}) {
  const link = el("a", { href: "#", class: "file-link", "data-file": path }, text);
  link.addEventListener("click", async (event) => {
    event.preventDefault();
    const opened = report ? window.open("", "_blank") : null;
    try {
      const url = report ? await reportUrl(run, path, urls) : await blobUrl(fileUrl(run, path));
      urls.push(url);
      if (opened) {
        opened.location.href = url;
        return;
      }
      const download = el("a", { href: url, download: path.split("/").pop() });
      document.body.append(download);
      download.click();
      download.remove();
    } catch (error) {
      if (opened) opened.close();
      link.after(errorBox(error));
    }
  });
  return link;
}

/** report.html with its relatively linked plots fetched too, as one object URL. */
async function reportUrl(run, path, urls) {
  const html = await (await request(fileUrl(run, path))).text();
  const page = new DOMParser().parseFromString(html, "text/html");
  const folder = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
  for (const image of page.querySelectorAll("img[src]")) {
    const source = image.getAttribute("src");
    if (/^([a-z]+:|\/|#)/i.test(source)) continue; // only the run's own files
    try {
      const url = await blobUrl(fileUrl(run, folder + source));
      urls.push(url);
      image.setAttribute("src", url);
    } catch {
      // a missing plot stays a broken image, as in the file itself
    }
  }
  const text = `<!doctype html>\n${page.documentElement.outerHTML}`;
  return URL.createObjectURL(new Blob([text], { type: "text/html" }));
}

async function runView(body, name, urls) {
  const run = await getJson(`/v1/results/${encodeURIComponent(name)}`);
  body.replaceChildren(
    el("h1", {}, `Simulation run ${run.name}`),
    el("p", {}, el("a", { href: "#/results" }, "← all runs"), run.report ? [" · ", fileLink(run.name, run.report, "full report (report.html)", urls, { report: true })] : null),
    el("div", { class: "grid" },
      card("Key performance indicators", table(["indicator", "value"], flatten(run.kpis), { id: "kpis" })),
      card(`Plots (${run.plots.length})`, el("div", { class: "plots", id: "plots" },
        run.plots.map((p) => el("figure", {}, plot(run.name, p, urls), el("figcaption", {}, p))))),
      card("Tables", el("ul", { id: "tables" }, run.tables.map((t) => el("li", {}, fileLink(run.name, t, t, urls))))),
    ),
  );
}

export async function mount({ body, params }) {
  const urls = [];
  const refresh = () => (params.length ? runView(body, params[0], urls) : listView(body));
  await refresh();
  // Results do not change with blocks; nothing to do live. Leaving the page lets go of
  // the files fetched for it.
  return {
    refresh: async () => {},
    dispose: () => urls.splice(0).forEach((url) => URL.revokeObjectURL(url)),
  };
}
