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
// never share an axis), from GET /api/v1/farm/history; fetched again every minute (the current
// 5-minute bucket grows; 30 ms for 10,000 miners), redrawn for the theme and width.
minerwatch.feature((root) => {
  const PREFIXES = ["", "k", "M", "G", "T", "P", "E"];
  const REFRESH_MS = 60_000;

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

// ---- Charts (shared): minerwatch.chart(box, title, times, series) draws one uPlot time chart in
// box, coloured from the stylesheet's chart colours (so it follows the theme: redrawn on a theme
// change) and as wide as its box (resized with it). series: [{label, values, unit}], one unit per
// chart; values null where nothing was reported (a gap, never a 0). It returns the chart's remover.
minerwatch.chart = (() => {
  const probe = (name) => {
    const span = document.createElement("span");
    span.className = name;
    span.hidden = true;
    document.body.append(span);
    const colour = getComputedStyle(span).color;
    span.remove();
    return colour;
  };
  const palette = () => [1, 2, 3, 4, 5, 6].map((n) => probe(`chart-colour-${n}`));
  const prefixes = [[1e18, "E"], [1e15, "P"], [1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"], [1, ""]];

  // Hashrates arrive in H/s: scaled once per chart to the prefix of its largest value.
  function scaled(series) {
    if (series[0].unit !== "H/s") return { series, unit: series[0].unit };
    const top = Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v !== null)));
    const [factor, prefix] = prefixes.find(([f]) => top >= f) || [1, ""];
    return { series: series.map((s) => ({ ...s, values: s.values.map((v) => (v === null ? null : v / factor)) })),
             unit: `${prefix}H/s` };
  }

  return function chart(box, title, times, raw) {
    const { series, unit } = scaled(raw);
    const figure = document.createElement("figure");
    figure.className = "chart";
    const caption = document.createElement("figcaption");
    caption.textContent = `${title} (${unit})`;
    figure.append(caption);
    box.append(figure);
    let plot = null;
    const draw = () => {
      plot?.destroy();
      const colours = palette();
      const axis = { stroke: probe("chart-colour-text"), grid: { stroke: probe("chart-colour-grid") } };
      plot = new uPlot({
        width: Math.max(figure.clientWidth, 200), height: 180,
        scales: { x: { time: true } },
        axes: [axis, { ...axis, size: 60 }],
        series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: colours[i % colours.length], width: 1.5,
                                                  value: (u, v) => (v === null ? "–" : `${v.toFixed(2)} ${unit}`) }))],
      }, [times, ...series.map((s) => s.values)], figure);
    };
    draw();
    const resized = new ResizeObserver(() => plot.setSize({ width: Math.max(figure.clientWidth, 200), height: 180 }));
    resized.observe(figure);
    const scheme = matchMedia("(prefers-color-scheme: dark)");
    document.addEventListener("minerwatch:theme", draw);
    scheme.addEventListener("change", draw);
    // Replacing a chart (another range) must let go of the old one, or each would redraw on every theme change.
    return function remove() {
      resized.disconnect();
      document.removeEventListener("minerwatch:theme", draw);
      scheme.removeEventListener("change", draw);
      plot.destroy();
      figure.remove();
    };
  };
})();

// ---- Miner and rig pages: history charts. [data-history] holds the API's URL; its range buttons
// (data-range, seconds) ask for from/to; a rig's answer (it has gpus) and a miner's become one
// chart per quantity, each line a board, fan or GPU.
minerwatch.feature((root) => {
  const charts = {
    miner: (d) => [
      ["Hashrate", [{ label: "miner", values: d.hashrate_hs, unit: "H/s" },
                    ...d.boards.map((b) => ({ label: `board ${b.index}`, values: b.hashrate_hs, unit: "H/s" }))]],
      ["Temperature", [{ label: "hottest", values: d.temp_max_c, unit: "°C" },
                       ...d.boards.map((b) => ({ label: `board ${b.index} chip`, values: b.temp_chip_c, unit: "°C" }))]],
      ["Power", [{ label: "miner", values: d.power_w, unit: "W" }]],
      ["Fans", d.fans.map((f) => ({ label: `fan ${f.index}`, values: f.rpm, unit: "RPM" }))],
      ["Rejected shares", [{ label: "rejected", values: d.rejected_increase, unit: "shares" }]],
    ],
    rig: (d) => [
      ["Hashrate", d.gpus.map((g) => ({ label: g.bus_id, values: g.hashrate_hs, unit: "H/s" }))],
      ["GPU temperature", d.gpus.map((g) => ({ label: g.bus_id, values: g.temp_c, unit: "°C" }))],
      ["Memory temperature", d.gpus.map((g) => ({ label: g.bus_id, values: g.mem_temp_c, unit: "°C" }))],
      ["Power", d.gpus.map((g) => ({ label: g.bus_id, values: g.power_w, unit: "W" }))],
      ["Fan", d.gpus.map((g) => ({ label: g.bus_id, values: g.fan_pct, unit: "%" }))],
    ],
  };
  for (const history of root.querySelectorAll("[data-history]")) {
    const box = history.querySelector("[data-charts]");
    const note = history.querySelector("[data-chart-note]");
    let drawn = [];
    async function load(seconds) {
      note.textContent = "Loading…";
      const to = Date.now() / 1000;
      const answer = await fetch(`${history.dataset.history}?from=${to - seconds}&to=${to}`,
                                 { headers: { Accept: "application/json" } });
      const data = await answer.json();
      for (const remove of drawn) remove();
      drawn = [];
      if (!answer.ok) {
        note.textContent = data.error;
        return;
      }
      const shown = ("gpus" in data ? charts.rig : charts.miner)(data)
        .filter(([, series]) => series.length && series.some((s) => s.values.some((v) => v !== null)));
      note.textContent = data.time.length
        ? `${data.time.length} points, ${data.resolution === "raw" ? "every sample" : `${data.resolution} averages`}`
        : "Nothing stored for this range yet.";
      drawn = shown.map(([title, series]) => minerwatch.chart(box, title, data.time, series));
    }
    for (const button of history.querySelectorAll("[data-range]")) {
      button.addEventListener("click", () => {
        for (const other of history.querySelectorAll("[data-range]")) other.setAttribute("aria-pressed", "false");
        button.setAttribute("aria-pressed", "true");
        load(Number(button.dataset.range));
      });
    }
    const pressed = history.querySelector("[data-range][aria-pressed=true]");
    load(Number(pressed ? pressed.dataset.range : 86400));
  }
});

// ---- Miners list: choosing rows for a bulk change. The header box chooses this page's rows;
// "choose all that match" sends the filters instead of keys, so the rows need not be ticked.
minerwatch.feature((root) => {
  for (const all of root.querySelectorAll("[data-select-page]")) {
    const table = all.closest("table");
    all.addEventListener("change", () => {
      for (const box of table.querySelectorAll("[data-row-check]")) box.checked = all.checked;
    });
  }
  for (const matching of root.querySelectorAll("[data-select-matching]")) {
    const container = matching.closest(".miners-table");
    matching.addEventListener("change", () => {
      for (const box of container.querySelectorAll("[data-row-check], [data-select-page]")) {
        box.checked = matching.checked;
        box.disabled = matching.checked;
      }
    });
  }
});
