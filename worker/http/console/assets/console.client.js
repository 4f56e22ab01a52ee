// The console's only script: draws each chart from the JSON data block next to it with uPlot.
// It computes nothing: values, intervals and labels all come from the server's report functions.
(() => {
  const COLORS = ["#1d4ed8", "#b91c1c", "#047857", "#b45309", "#6d28d9", "#0e7490", "#be185d", "#374151"];
  const show = (unit, v) => (v == null ? "–" : unit === "ratio" ? `${(v * 100).toFixed(2)}%` : v.toLocaleString("en"));
  const charts = [];

  function draw(figure) {
    const spec = JSON.parse(figure.querySelector('script[type="application/json"]').textContent);
    const target = figure.querySelector(".plot");
    if (!spec.series.length || !spec.x.length) {
      target.textContent = "No data in this period.";
      return;
    }
    const bars = spec.kind === "bars";
    const n = spec.series.length;
    const data = [spec.x];
    const series = [{ label: bars ? "value" : "day", value: bars ? (_, i) => spec.labels[i] ?? "" : undefined }];
    const bands = [];
    spec.series.forEach((s, i) => {
      const color = COLORS[i % COLORS.length];
      series.push({
        label: s.label,
        stroke: color,
        width: 2,
        fill: bars ? `${color}cc` : undefined,
        value: (_, v) => show(spec.unit, v),
        paths: bars ? uPlot.paths.bars({ size: [n === 1 ? 0.6 : 0.4], align: n === 1 ? 0 : i % 2 ? 1 : -1 }) : undefined,
        points: { show: !bars },
      });
      data.push(s.values);
      if (s.low && s.high) {
        // The 95% interval as a shaded band between two unstroked series.
        const high = data.push(s.high) - 1;
        const low = data.push(s.low) - 1;
        for (const edge of ["high", "low"]) {
          series.push({ label: `${s.label} 95% ${edge}`, band: true, stroke: `${color}55`, width: 0, points: { show: false } });
        }
        bands.push({ series: [high, low], fill: `${color}22` });
      }
    });
    const yValues = (_, splits) => splits.map((v) => show(spec.unit, v));
    const axes = [
      bars ? { splits: () => spec.x, values: (_, splits) => splits.map((i) => spec.labels[i] ?? "") } : {},
      { values: yValues, size: 60 },
    ];
    const scales = bars ? { x: { time: false, range: [-0.5, spec.x.length - 0.5] } } : {};
    const opts = { width: target.clientWidth || 600, height: 260, series, bands, axes, scales, legend: { live: true } };
    const plot = new uPlot(opts, data, target);
    // Band edges are series for uPlot, not for the reader: their legend rows go (the table below has them).
    const rows = plot.root.querySelectorAll(".u-legend .u-series");
    series.forEach((s, i) => {
      if (s.band) rows[i]?.classList.add("band-edge");
    });
    charts.push({ plot, target });
    figure.dataset.drawn = "true";
  }

  for (const figure of document.querySelectorAll("figure[data-chart]")) {
    try {
      draw(figure);
    } catch (err) {
      figure.querySelector(".plot").textContent = "This chart could not be drawn; its data table is below.";
      console.error(err);
    }
  }
  let pending;
  addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      for (const c of charts) c.plot.setSize({ width: c.target.clientWidth || 600, height: 260 });
    }, 150);
  });
})();
