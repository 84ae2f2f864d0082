// Chart.js (vendored, global `Chart`) with the dashboard's defaults; a chart is drawn again
// in place when its data change.

const COLOURS = {
  buy: "#1b7f3b",
  sell: "#c0392b",
  price: "#1f4e9c",
  feedIn: "#7f8c8d",
  grid: "#e67e22",
  cap: "#8e44ad",
  generation: "#f1c40f",
  consumption: "#2c3e50",
  traded: "#27ae60",
  gridIn: "#e74c3c",
  gridOut: "#3498db",
};
export { COLOURS };

export function drawChart(holder, config) {
  if (typeof Chart === "undefined") {
    holder.textContent = "(charts unavailable: vendor/chart.umd.min.js did not load)";
    return null;
  }
  let canvas = holder.querySelector("canvas");
  if (holder.chart) holder.chart.destroy();
  if (!canvas) {
    canvas = document.createElement("canvas");
    holder.append(canvas);
  }
  config.options = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    ...config.options,
  };
  holder.chart = new Chart(canvas, config);
  return holder.chart;
}

export const line = (label, data, colour, extra = {}) => ({
  label,
  data,
  borderColor: colour,
  backgroundColor: colour,
  pointRadius: 0,
  borderWidth: 2,
  ...extra,
});
