// The pages' behaviour: no inline script anywhere (the CSP forbids it), so each feature hooks
// itself onto data-* attributes here, on load and after every htmx swap.
"use strict";

const minerwatch = (() => {
  const dark = () => {
    const picked = document.documentElement.dataset.theme;
    return picked ? picked === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  };

  function toggleTheme() {
    const next = dark() ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("minerwatch-theme", next);
    document.dispatchEvent(new CustomEvent("minerwatch:theme"));
  }

  // Features register here: each runs on the document at load and on every swapped-in fragment.
  const features = [];
  function feature(run) {
    features.push(run);
  }
  function activate(root) {
    for (const run of features) run(root);
  }

  feature((root) => {
    for (const button of root.querySelectorAll("[data-theme-toggle]")) button.addEventListener("click", toggleTheme);
  });

  document.addEventListener("DOMContentLoaded", () => activate(document));
  document.addEventListener("htmx:load", (event) => {
    if (event.target !== document.body) activate(event.target);
  });
  return { feature, dark };
})();

// ---- Dashboard: the last day's hashrate and power, one chart per algorithm (their hashrates
// never share an axis), from GET /api/v1/farm/history; fetched again every 5 minutes, the
// chart's bucket (the hour not rolled up yet is read from raw samples: 1.4 s for 10,000 miners,
// too dear to ask every few seconds from every open dashboard), redrawn for the theme and width.
minerwatch.feature((root) => {
  const PREFIXES = ["", "k", "M", "G", "T", "P", "E"];
  const REFRESH_MS = 300_000;

  // A CSS colour variable resolved for the theme in force (light-dark() is resolved only on an element).
  function colour(variable) {
    const probe = document.createElement("span");
    probe.className = `chart-colour-${variable}`;
    document.body.append(probe);
    const value = getComputedStyle(probe).color;
    probe.remove();
    return value;
  }

  function hashUnit(values) {
    const most = Math.max(0, ...values.filter((v) => v !== null));
    const power = most > 0 ? Math.min(PREFIXES.length - 1, Math.floor(Math.log10(most) / 3)) : 0;
    return { divisor: 1000 ** power, name: `${PREFIXES[power]}H/s` };
  }

  function draw(box, series, from, to) {
    const unit = hashUnit(series.hashrate_hs);
    const text = colour("text"), line = colour("line");
    const axis = (scale, side, label) => ({ scale, side, label, stroke: text, grid: { stroke: line, width: 1 },
                                             ticks: { stroke: line } });
    const options = {
      width: Math.max(240, box.clientWidth), height: 220,
      scales: { x: { time: true, range: () => [from, to] } },  // the whole day, however little is stored yet
      series: [{},
        { label: `${series.algorithm} (${unit.name})`, scale: "hashrate", stroke: colour("accent"), width: 2,
          value: (u, v) => (v === null ? "–" : v.toFixed(2)) },
        { label: "power (kW)", scale: "power", stroke: colour("warning"), width: 1,
          value: (u, v) => (v === null ? "–" : v.toFixed(2)) }],
      axes: [axis("x", 2), axis("hashrate", 3, unit.name), axis("power", 1, "kW")],
    };
    const data = [series.time, series.hashrate_hs.map((v) => (v === null ? null : v / unit.divisor)),
                  series.power_w.map((v) => (v === null ? null : v / 1000))];
    return new uPlot(options, data, box);
  }

  for (const holder of root.querySelectorAll("[data-farm-chart]")) {
    let charts = [];
    let last = null;
    const empty = holder.querySelector("[data-chart-empty]");
    const render = () => {
      for (const chart of charts) chart.destroy();
      holder.querySelectorAll(".farm-chart").forEach((box) => box.remove());
      charts = [];
      if (last === null) return;
      empty.hidden = last.algorithms.length > 0;
      for (const series of last.algorithms) {
        const box = document.createElement("div");
        box.className = "farm-chart";
        box.dataset.algorithm = series.algorithm;
        holder.append(box);
        charts.push(draw(box, series, last.from, last.to));
      }
    };
    const load = async () => {
      try {
        const answer = await fetch(holder.dataset.farmChart, { headers: { Accept: "application/json" } });
        if (answer.ok) {
          last = await answer.json();
          render();
        }
      } finally {
        setTimeout(load, REFRESH_MS);
      }
    };
    document.addEventListener("minerwatch:theme", render);
    let resizing = null;
    addEventListener("resize", () => {
      clearTimeout(resizing);
      resizing = setTimeout(render, 200);
    });
    load();
  }
});

// ---- Farm map: the metric and site pickers show the map as soon as one changes (the form's
// button stays for keyboards and for browsers without scripts).
minerwatch.feature((root) => {
  for (const form of root.querySelectorAll("form[data-autosubmit]")) {
    for (const select of form.querySelectorAll("select")) select.addEventListener("change", () => form.requestSubmit());
  }
});
